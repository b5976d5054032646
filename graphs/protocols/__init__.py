"""Debate protocols as LangGraph StateGraphs, their moves, state and the registry that names them."""
