"""The panel eval with the shown entries ordered by p, as before 2026-12-08 (comparison arm)."""
import sys
from gauntlet.graphs.protocols import library_grounding as lg
lg.shown_order = lambda ec: (not ec[1].accepted, -ec[1].p)
from gauntlet.ui.cli import main
sys.argv = ["gauntlet"] + sys.argv[1:]
main()
