"""Test doubles, installed only with the `testing` extra: the synthetic OpenAI-compatible server.

Not a runtime package: nothing under gauntlet.agents/graphs/provers imports it.
"""
