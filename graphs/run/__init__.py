"""Running a debate: loading its config, the runner, checkpoints, forks and sweeps."""
