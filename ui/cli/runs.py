"""Debates: `run`, `resume`, `runs`, `show`, `replay`, `export`, `import`, `fork` and `sweep`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from gauntlet.errors import InputError
from gauntlet.ui.cli.options import DbOpt, JsonOpt, QuietOpt, open_store, print_json, print_rows
from gauntlet.ui.user_errors import err, user_errors

app = typer.Typer()


@app.command()
@user_errors
def run(config: Path = typer.Argument(..., help="Run config (YAML), e.g. runs/configs/demo.yaml."),
        db: Optional[str] = DbOpt, as_json: bool = JsonOpt, quiet: bool = QuietOpt) -> None:
    """Run a debate from a config and print its run id.

    Example: gauntlet run runs/configs/demo.yaml --db runs/gauntlet.sqlite
    """
    from gauntlet.graphs.run.loading import load_config
    loaded = load_config(config)  # validate before anything is written
    from gauntlet.agents.backends import check_reachable
    check_reachable(loaded.config.model, config_file=str(config))
    from gauntlet.provers.pool import check_pool
    check_pool(loaded.config.provers, config_file=str(config))
    store = open_store(db, create=True)
    from gauntlet.ui.progress import run_with_progress
    run_id = run_with_progress(store, quiet=quiet, start=loaded)
    print_json({"run_id": run_id}) if as_json else print(run_id)


@app.command()
@user_errors
def resume(run_id: str = typer.Argument(..., help="The run to continue."), db: Optional[str] = DbOpt,
           quiet: bool = QuietOpt) -> None:
    """Continue an interrupted run from its last LangGraph checkpoint.

    Example: gauntlet resume 20261122-215358-5603ab
    """
    store = open_store(db)
    info = store.run_info(store.run(run_id))
    if info.status == "done":
        raise InputError(f"run {run_id} is already done", field="RUN_ID", fix="fork it instead, or pick another run")
    if info.status == "running":
        raise InputError(f"run {run_id} is still running (pid alive)", field="RUN_ID",
                         fix="wait for it, or stop its process first")
    from gauntlet.ui.progress import run_with_progress
    print(run_with_progress(store, quiet=quiet, resume=run_id))


@app.command("runs")
@user_errors
def list_runs(db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """List runs, newest first, with their status (running, interrupted, done, failed).

    Example: gauntlet runs --db runs/gauntlet.sqlite --json
    """
    store = open_store(db)
    rows = [{"run_id": r.run_id, "status": r.status, "topic": r.topic, "created": r.created,
             "parent_run_id": r.parent_run_id} for r in store.runs()]
    print_rows(rows, as_json, [("run id", "run_id", 40), ("status", "status", 20), ("topic", "topic", 80)])


@app.command()
@user_errors
def show(run_id: str = typer.Argument(..., help="Run id (see `gauntlet runs`)."), db: Optional[str] = DbOpt,
         as_json: bool = JsonOpt,
         until: Optional[int] = typer.Option(None, "--until", min=0, help="Show the graph as of this step.")) -> None:
    """Show a run's ideas and whether each is standing, shot down or undecided.

    Example: gauntlet show RUN_ID --json
    """
    from gauntlet.graphs.store.views import show as show_view
    doc = show_view(open_store(db), run_id, until=until)
    if as_json:
        print_json(doc)
        return
    from rich.table import Table
    con = Console()
    con.print(f"[bold]{doc['topic']}[/bold]  ({doc['status']}; {doc['nodes']} nodes, {doc['attacks']} attacks)",
              markup=True, highlight=False)
    from rich.markup import escape
    from gauntlet.graphs.argument.coverage import status_mark
    table = Table("idea", "by", "status", "critics", "score", "shot down by")
    colour = {"standing": "green", "shot_down": "red", "undecided": "yellow"}
    for i in doc["ideas"]:
        by = i["persona"] if i["defender"] == i["persona"] else f"{i['persona']} (defended by {i['defender']})"
        why = ", ".join(f"{d['id']} ({d.get('flaw_type') or d['kind']})" for d in i.get("shot_down_by", []))
        table.add_row(i["title"], by, f"[{colour[i['status']]}]{status_mark(i['status'], i['examined'])}[/]",
                      str(len(i["critics"])) + (f" (unruled: {escape(', '.join(i['unruled']))})" if i.get("unruled")
                                                else ""),
                      "" if i["score"] is None else f"{i['score']:g}", escape(why))
    con.print(table)
    if doc["coverage"].get("note"):  # an unexamined idea stands only because nobody critiqued it
        con.print(f"coverage: {doc['coverage']['note']}", markup=False, highlight=False)


@app.command()
@user_errors
def replay(run_id: str = typer.Argument(..., help="Run id."), db: Optional[str] = DbOpt,
           until: Optional[int] = typer.Option(None, "--until", min=0, help="Stop after this step."),
           calls: bool = typer.Option(True, "--calls/--no-calls", help="Include LLM call lines."),
           as_json: bool = JsonOpt) -> None:
    """Print a run's transcript in order, step by step (each stored event is a step).

    Example: gauntlet replay RUN_ID --until 20
    """
    from gauntlet.graphs.store.views import transcript
    lines = transcript(open_store(db), run_id, until=until, include_calls=calls)
    if as_json:
        print_json([vars(line) for line in lines])
        return
    for line in lines:
        who = f" {line.persona}" if line.persona else ""
        sys.stdout.write(f"{line.step:>5}  r{line.round}{who}: {line.text}\n")


@app.command()
@user_errors
def export(run_id: str = typer.Argument(..., help="Run id."), db: Optional[str] = DbOpt,
           fmt: str = typer.Option("json", "--format", "-f", help="json, markdown, argdown, graphml, or run (the "
                                   "portable run file `gauntlet import` reads; gzip when --out ends in .gz)."),
           out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of stdout.")) -> None:
    """Export a run's argument graph (JSON, Markdown, Argdown or GraphML), or the whole run to import elsewhere.

    Example: gauntlet export RUN_ID --format graphml --out run.graphml
    Example: gauntlet export RUN_ID --format run --out debate.run.jsonl.gz
    """
    from gauntlet.graphs.store.export import FORMATS, RUN_FORMAT, render
    from gauntlet.graphs.store.views import load_graph, run_record
    if fmt == RUN_FORMAT:  # streamed from the store, not rendered in memory
        return export_run(open_store(db), run_id, out)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="--format",
                         fix=f"use one of {', '.join(FORMATS + (RUN_FORMAT,))}")
    store = open_store(db)
    text = render(fmt, run_record(store, run_id), load_graph(store, run_id))
    if out is None:
        sys.stdout.write(text)
        return
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)  # atomic: never a half-written export
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write ({exc.strerror})", file=str(out), fix="check the directory exists") from None
    err.print(f"wrote {out}", highlight=False)


@app.command()
@user_errors
def fork(run_id: str = typer.Argument(..., help="The run to fork."), db: Optional[str] = DbOpt,
         step: int = typer.Option(..., "--step", min=1, help="Fork after this step (see `gauntlet replay`)."),
         drop: list[str] = typer.Option([], "--drop-persona", help="Remove a persona from the panel (repeatable)."),
         add_critic: list[str] = typer.Option([], "--add-critic", help="Add a critic persona (repeatable)."),
         note_on: Optional[str] = typer.Option(None, "--note-on", help="Node the human note attacks/supports."),
         note: str = typer.Option("", "--note", help="A human intervention, injected as a human_note node."),
         note_edge: str = typer.Option("attacks", "--note-edge", help="attacks or supports."),
         as_json: bool = JsonOpt) -> None:
    """Fork a run from a step with a changed panel or a human note; continue it with `gauntlet resume`.

    Example: gauntlet fork RUN_ID --step 20 --drop-persona security-engineer --note-on seed-1 --note "..."
    """
    from gauntlet.graphs.run.fork import ForkSpec, fork_run
    if note and not note_on:
        raise InputError("--note needs --note-on NODE", field="--note-on", fix="name the node the note is about")
    res = asyncio.run(fork_run(open_store(db), run_id, step, ForkSpec(drop=drop, add_critics=add_critic, note=note,
                                                                   note_on=note_on, note_edge=note_edge)))
    if as_json:
        print_json({"run_id": res.run_id, "parent_run_id": res.parent_run_id, "fork_step": res.fork_step,
                     "note_id": res.note_id})
    else:
        print(res.run_id)


@app.command()
@user_errors
def sweep(config: Path = typer.Argument(..., help="Base run config (YAML)."),
          param: list[str] = typer.Option([], "--param", "-p", help="KEY=V1,V2 (dotted keys, YAML values; "
                                          "separate with | when a value has commas). Repeat for a grid."),
          db: Optional[str] = DbOpt,
          address: Optional[str] = typer.Option(None, "--address", help="Ray cluster, e.g. ray://head:10001 "
                                                "(default: a local Ray on this machine)."),
          cpus_per_run: float = typer.Option(0.5, "--cpus-per-run", min=0.01, max=64,
                                             help="Ray CPUs reserved per run (runs mostly wait on the LLM)."),
          share_model: bool = typer.Option(False, "--share-model", help="Serve the embedded model once (llama.cpp "
                                           "server) for every run instead of each worker loading its own copy."),
          as_json: bool = JsonOpt) -> None:
    """Run a grid of debates as Ray tasks, all writing to one database, with a progress bar.

    A `model.launch` server is started once and shared by every run. Example:
    gauntlet sweep runs/configs/demo.yaml --param rounds=1,2,3 --param seed=1,2 --share-model
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gauntlet.graphs.run.sweep import grid, run_sweep
    points = grid(config, param)
    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err) as bar:
        task = bar.add_task("", total=len(points))
        result = run_sweep(points, base_dir=config.parent, db=db, address=address, cpus_per_run=cpus_per_run,
                           share_model=share_model, on_done=lambda r: bar.update(task, advance=1, description=f"{r['status']} {r['params']}"))
    if as_json:
        print_json({"runs": result.points, "wall_s": result.wall_s})
    else:
        for r in result.points:
            print(f"{r['run_id'] or '-'}\t{r['status']}\t{json.dumps(r['params'])}")
    if any(r["status"] != "done" for r in result.points):
        raise typer.Exit(1)


def export_run(store, run_id: str, out: Optional[Path]) -> None:
    """Write the portable run file to `out` (gzip when it ends in .gz) or stream it to stdout."""
    from gauntlet.graphs.store import run_file
    if out is None:
        store.run(run_id)
        run_file.write(store, run_id, sys.stdout)
        return
    try:
        end = run_file.write_file(store, run_id, out)
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror})", file=str(out), fix="check the directory exists") from None
    err.print(f"wrote {out} ({end['events']} events, {end['annotations']} annotations, sha256 {end['sha256'][:12]})",
              highlight=False, markup=False)


@app.command("import")
@user_errors
def import_command(
        file: Path = typer.Argument(..., help="A run file from `gauntlet export RUN_ID --format run` "
                                              "(.jsonl or .jsonl.gz), e.g. runs/examples/demo.run.jsonl.gz."),
        db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Load a saved debate into a database, so show, replay, export, fork and the dashboard work on it.

    The file is checked whole first (format version, kinds, content hash); a bad file writes nothing.

    It keeps its run id when that id is free; importing the same file again changes nothing.

    Example: gauntlet import runs/examples/demo.run.jsonl.gz && gauntlet ui
    """
    from gauntlet.graphs.protocols.registry import PROTOCOLS
    from gauntlet.graphs.store.run_import import import_file
    res = import_file(open_store(db, create=True), file, known_protocols=tuple(PROTOCOLS))
    if as_json:
        print_json(res.as_dict())
        return
    if res.imported:
        err.print(f"imported {file} as run {res.run_id} ({res.events} events, {res.annotations} annotations)",
                  highlight=False, markup=False)
    else:
        err.print(f"{file} is already in this database as run {res.run_id}; nothing written",
                  highlight=False, markup=False)
    print(res.run_id)
