"""The `gauntlet` command: the one place where every command group is attached.

Each group lives in its own module as a Typer app (ui/cli/<group>.py); shared options and helpers are in
ui/cli/options.py. Every subcommand's --help says what it does and shows an example.
"""

from __future__ import annotations

import logging
import sys

import typer

from gauntlet.ui.cli import af, bench, dashboard, library, persona, provers, runs
from gauntlet.ui import doctor
from gauntlet.ui.cli import eval as evals

app = typer.Typer(
    help="Gauntlet: researcher clones propose AI-alignment ideas, critique them and shoot the bad ones down.\n\n"
         "Start with `gauntlet run runs/configs/demo.yaml`, then `gauntlet show RUN_ID --json`.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _merge(sub: typer.Typer, panel: str) -> None:
    """Attach a group's commands at the top level (`gauntlet run`, not `gauntlet runs run`), under a heading."""
    for cmd in sub.registered_commands:
        cmd.rich_help_panel = cmd.rich_help_panel or panel
        app.registered_commands.append(cmd)


_merge(runs.app, "Debates")
_merge(provers.app, "Provers")
_merge(af.app, "Argumentation")
_merge(dashboard.app, "Review")
app.command("personas", help="List the persona library and your own cards (the same as `gauntlet persona list`).\n\n"
                             "Example: gauntlet personas --json",
            rich_help_panel="Personas")(persona.list_cards)
app.add_typer(persona.app, name="persona", rich_help_panel="Personas")
app.add_typer(library.app, name="library", rich_help_panel="Personas")
app.add_typer(evals.app, name="eval", rich_help_panel="Measurement")
app.add_typer(bench.app, name="bench", rich_help_panel="Measurement")
app.command("doctor", rich_help_panel="Setup")(doctor.doctor)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    app()
