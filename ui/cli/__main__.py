"""`python -m gauntlet.ui.cli …` is the `gauntlet` command."""

from gauntlet.ui.cli import main

main()
