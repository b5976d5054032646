"""Graphs: the debate protocols (LangGraph) and the argument graph they build.

    argument/   the argument graph, Dung and graded semantics, AF file formats (pure)
    protocols/  protocols, their moves, debate state, the registry
    run/        config loading, runner, checkpoints, forks, sweeps
    store/      tables, migrations, event log, views, exports
"""
