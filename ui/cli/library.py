"""The failure-mode library: `library list`, `library show ID`, `library search TEXT` and `library check FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.console import Console

from gauntlet.ui.cli.options import JsonOpt, print_json
from gauntlet.ui.user_errors import user_errors

app = typer.Typer(help="The failure-mode library: known failure modes and standard objections from the alignment "
                       "literature, with citations. Browse it, search it, or check a file of your own.",
                  no_args_is_help=True)

LibOpt = typer.Option(None, "--library", help="A directory of your own library files (.yaml), added to the "
                                              "shipped entries; repeat for several.")


def _load(dirs: Optional[List[Path]]) -> Any:
    from gauntlet.agents import failure_modes
    return failure_modes.load([str(d) for d in dirs or []])


def _summary(e: Any, origin: str = "") -> dict[str, Any]:
    out = {"id": e.id, "name": e.name, "severity": e.severity, "disciplines": list(e.disciplines),
           "citations": len(e.citations)}
    if origin:
        out["origin"] = origin
    return out


def _full(e: Any) -> dict[str, Any]:
    return e.model_dump()


@app.command("list")
@user_errors
def list_entries(library: Optional[List[Path]] = LibOpt, as_json: bool = JsonOpt) -> None:
    """List every entry: id, name, typical severity.

    Example: gauntlet library list --json
    """
    lib = _load(library)
    rows = [_summary(e, o) for e, o in zip(lib.entries, lib.origins)]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table
    table = Table("id", "name", "severity", title=f"{len(rows)} entries")
    for r in rows:
        table.add_row(r["id"], r["name"], r["severity"])
    Console().print(table)


@app.command("show")
@user_errors
def show(entry_id: str = typer.Argument(..., help="an entry id, e.g. reward-hacking"),
         library: Optional[List[Path]] = LibOpt, as_json: bool = JsonOpt) -> None:
    """Show one entry in full, with its citations.

    Example: gauntlet library show boxed-oracle-manipulation
    """
    e = _load(library).get(entry_id)
    if as_json:
        print_json(_full(e))
        return
    out = Console()
    out.print(f"[bold]{e.name}[/bold] ({e.id}, typically {e.severity})")
    out.print(e.statement, markup=False)
    out.print("Defeats: " + "; ".join(e.defeats), markup=False)
    out.print("Does not apply when: " + e.does_not_apply_when, markup=False)
    out.print("Question: " + e.question, markup=False)
    for c in e.citations:
        out.print(f"  - {c.authors} ({c.year}). {c.title}. {c.link}", markup=False)


@app.command("search")
@user_errors
def search(text: str = typer.Argument(..., help="a proposal or topic to match"),
           k: int = typer.Option(5, "--k", min=1, max=50, help="how many entries"),
           discipline: str = typer.Option("", "--discipline", help="bias toward entries of this field, e.g. "
                                                                   "'computer security'"),
           library: Optional[List[Path]] = LibOpt, as_json: bool = JsonOpt) -> None:
    """The entries nearest a text (cosine similarity of local MiniLM embeddings), best first.

    Example: gauntlet library search "keep the AI in a box that only answers questions" --json
    """
    from gauntlet.errors import InputError
    if not text.strip():
        raise InputError("empty search text", field="TEXT", fix="give a proposal or topic")
    hits = _load(library).search(text, k, discipline=discipline)
    rows = [{**_summary(e), "score": round(s, 4), "question": e.question} for e, s in hits]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table
    table = Table("score", "id", "name")
    for r in rows:
        table.add_row(f"{r['score']:.3f}", r["id"], r["name"])
    Console().print(table)


@app.command("check")
@user_errors
def check(file: Path = typer.Argument(..., help="a library file (.yaml) to validate"),
          as_json: bool = JsonOpt) -> None:
    """Validate a library file: every field, every citation's format, unique ids, no clash with the shipped
    entries. Exit 2 with the file, line, field and fix on the first problem.

    Example: gauntlet library check my-objections.yaml
    """
    from gauntlet.agents import failure_modes
    from gauntlet.errors import InputError
    entries = failure_modes.read_file(file)
    shipped = failure_modes.cached().by_id
    for e in entries:
        if e.id in shipped:
            raise InputError(f"entry id {e.id!r} is already a shipped entry", file=str(file), field="id",
                             fix="rename it (ids are unique across library files)")
    if as_json:
        print_json({"file": str(file), "ok": True, "entries": len(entries), "ids": [e.id for e in entries]})
        return
    Console(stderr=True).print(f"{file}: {len(entries)} entries, all valid", markup=False)
