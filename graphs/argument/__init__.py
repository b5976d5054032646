"""The argument graph and its semantics: pure functions over nodes and attacks, no I/O."""
