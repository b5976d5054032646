"""The evaluations room: every eval is cases → run → score → report.

An eval is an `EvalTask` (task.py): a case loader, a per-case runner and a scorer. `runner.run_eval` runs one case by
case, journaling each finished case so a killed eval continues where it stopped, and `report.build_report` gives
every eval the same report keys. `registry.py` names the evals `gauntlet eval NAME` runs.
"""
