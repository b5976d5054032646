"""Benchmarks (`gauntlet bench ...`): each prints one JSON object."""
