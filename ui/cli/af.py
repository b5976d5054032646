"""`gauntlet af`: Dung semantics and the ICCMA tasks on an argumentation framework file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from gauntlet.ui.cli.options import JsonOpt
from gauntlet.ui.user_errors import user_errors

app = typer.Typer()


@app.command()
@user_errors
def af(file: Path = typer.Argument(..., help="Framework file: .af/.i23 (ICCMA 2023), .apx (ASPARTIX) or .tgf."),
       semantics: str = typer.Option("grounded", "--semantics", "-s",
                                     help="grounded, complete, preferred or stable."),
       task: Optional[str] = typer.Option(None, "--task", "-t", help="ICCMA task: SE (some extension), EE (all, "
                                          "streamed), DC / DS (credulous / sceptical acceptance of --arg)."),
       arg: Optional[str] = typer.Option(None, "--arg", "-a", help="The argument DC and DS decide."),
       limit: int = typer.Option(100_000, "--limit", min=1, help="At most this many extensions (EE and the "
                                                                 "task-less listing)."),
       as_json: bool = JsonOpt) -> None:
    """Dung semantics for an abstract argumentation framework file, with the ICCMA tasks.

    Without --task: grounded prints in/out/undec, the other semantics all their extensions. With --task the
    answer follows the ICCMA 2023 output conventions (`w 1 3`, `YES`, `NO`), or a JSON document with --json.

    Example: gauntlet af tests/data/af/chain.af --semantics preferred --task DC --arg 3
    """
    from gauntlet.graphs.argument.af_formats import read_af
    from gauntlet.graphs.argument.iccma import check, dumps, plain, run_task
    check(semantics, task, arg)
    framework = read_af(file)
    if task is None:
        doc = plain(framework, semantics, limit, str(file))
        if as_json:
            sys.stdout.write(dumps(doc) + "\n")
        else:
            for k, v in doc.items():
                sys.stdout.write(f"{k}: {' '.join(map(str, v)) if k != 'extensions' else v}\n")
        return
    emit = None if as_json else (lambda line: (sys.stdout.write(line + "\n"), sys.stdout.flush()))
    doc = run_task(framework, semantics, task, arg, limit, str(file), emit_line=emit)
    if as_json:
        sys.stdout.write(dumps(doc) + "\n")

