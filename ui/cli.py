"""The `gauntlet` command. Every subcommand's --help says what it does and shows an example."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from gauntlet.errors import InputError
from gauntlet.ui.user_errors import err, user_errors

app = typer.Typer(
    help="Gauntlet: researcher clones propose AI-alignment ideas, critique them and shoot the bad ones down.\n\n"
         "Start with `gauntlet run runs/configs/demo.yaml`, then `gauntlet show RUN_ID --json`.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
log = logging.getLogger("gauntlet")

DbOpt = typer.Option(None, "--db", help="Database: a SQLite file (default runs/gauntlet.sqlite, or $GAUNTLET_DB) "
                                        "or a SQLAlchemy URL such as postgresql+psycopg://user@host/db.")
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


def _store(db: Optional[str], create: bool = False):
    from gauntlet.graphs.store.store import Store
    store = Store(db, create=create)
    if store.sqlite_path is not None:
        _log_beside(store.sqlite_path)
    return store


def _log_beside(db_path: Path) -> None:
    """Errors go to gauntlet.log beside the database (with run ids), keeping stderr to one clear line."""
    root = logging.getLogger("gauntlet")
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        handler = logging.FileHandler(db_path.parent / "gauntlet.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.propagate = False


@app.command()
@user_errors
def run(config: Path = typer.Argument(..., help="Run config (YAML), e.g. runs/configs/demo.yaml."),
        db: Optional[str] = DbOpt, as_json: bool = JsonOpt,
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display.")) -> None:
    """Run a debate from a config and print its run id.

    Example: gauntlet run runs/configs/demo.yaml --db runs/gauntlet.sqlite
    """
    from gauntlet.graphs.run.loading import load_config
    loaded = load_config(config)  # validate before anything is written
    from gauntlet.agents.backends import check_reachable
    check_reachable(loaded.config.model, config_file=str(config))
    from gauntlet.provers.pool import check_pool
    check_pool(loaded.config.provers, config_file=str(config))
    store = _store(db, create=True)
    from gauntlet.ui.progress import run_with_progress
    run_id = run_with_progress(store, quiet=quiet, start=loaded)
    _print_json({"run_id": run_id}) if as_json else print(run_id)


@app.command()
@user_errors
def resume(run_id: str = typer.Argument(..., help="The run to continue."), db: Optional[str] = DbOpt,
           quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display.")) -> None:
    """Continue an interrupted run from its last LangGraph checkpoint.

    Example: gauntlet resume 20261122-215358-5603ab
    """
    store = _store(db)
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
    """List runs, newest first, with their status (running, interrupted, done, failed)."""
    store = _store(db)
    rows = [{"run_id": r.run_id, "status": r.status, "topic": r.topic, "created": r.created,
             "parent_run_id": r.parent_run_id} for r in store.runs()]
    if as_json:
        _print_json(rows)
        return
    from rich.table import Table
    table = Table("run id", "status", "topic")
    for r in rows:
        table.add_row(r["run_id"], r["status"], r["topic"][:80])
    Console().print(table)


@app.command()
@user_errors
def show(run_id: str = typer.Argument(..., help="Run id (see `gauntlet runs`)."), db: Optional[str] = DbOpt,
         as_json: bool = JsonOpt,
         until: Optional[int] = typer.Option(None, "--until", min=0, help="Show the graph as of this step.")) -> None:
    """Show a run's ideas and whether each is standing, shot down or undecided.

    Example: gauntlet show RUN_ID --json
    """
    from gauntlet.graphs.store.views import show as show_view
    doc = show_view(_store(db), run_id, until=until)
    if as_json:
        _print_json(doc)
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
    lines = transcript(_store(db), run_id, until=until, include_calls=calls)
    if as_json:
        _print_json([vars(line) for line in lines])
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
        from gauntlet.ui.run_transfer import export_run
        return export_run(_store(db), run_id, out)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="--format",
                         fix=f"use one of {', '.join(FORMATS + (RUN_FORMAT,))}")
    store = _store(db)
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


@app.command()
@user_errors
def personas(as_json: bool = JsonOpt) -> None:
    """List the persona library (styles of thought the panel can clone) and your own cards (clones drafted by
    `gauntlet persona new`, in $GAUNTLET_PERSONAS), marked by `origin`."""
    from gauntlet.agents.persona import library, user_cards
    cards = [{"name": p.name, "display_name": p.label, "discipline": p.discipline, "worldview": p.worldview,
              "research_style": p.research_style, "typical_objections": list(p.typical_objections),
              "would_change_mind": p.would_change_mind, "has_corpus": p.corpus is not None, "origin": origin,
              "evidence": len(p.evidence), "stances": len(p.stances)}
             for origin, cards_of in (("library", library()), ("user", user_cards()))
             for p in cards_of.values()]
    if as_json:
        _print_json(cards)
        return
    from rich.table import Table
    table = Table("name", "discipline", "worldview")
    for c in cards:
        table.add_row(c["name"], c["discipline"], c["worldview"][:90])
    Console().print(table)


@app.command()
@user_errors
def prove(file: Path = typer.Argument(..., help="An SMT-LIB file (.smt2) asserting the NEGATION of a claim, "
                                                "or a Lean 4 file (.lean) with a theorem and its proof."),
          timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds per check (default 5 for z3, "
                                                                          "60 for Lean)."),
          no_cache: bool = typer.Option(False, "--no-cache", help="Ignore and do not fill the verdict cache."),
          as_json: bool = JsonOpt) -> None:
    """Check a formal claim: proved (unsat), refuted (with a counterexample), unknown, or error.

    Example: gauntlet prove provers/examples/square_ge_self.smt2 --json
    """
    from gauntlet.provers.router import prove_file
    verdict = prove_file(file, timeout, use_cache=not no_cache)
    if as_json:
        doc = verdict.as_json()
        _print_json({k: doc[k] for k in ("verdict", "prover", "counterexample", "detail", "elapsed_s", "cached")})
        return
    sys.stdout.write(f"{verdict.verdict} ({verdict.prover}): {verdict.detail}\n")


@app.command()
@user_errors
def ui(db: Optional[str] = DbOpt,
       port: int = typer.Option(8501, "--port", "-p", help="Port to serve on (1024-65535).")) -> None:
    """Start the review dashboard (Streamlit); open /?run=RUN_ID for a run.

    Example: gauntlet ui --db runs/gauntlet.sqlite --port 8501
    """
    import os
    import subprocess
    if not 1024 <= port <= 65535:
        raise InputError(f"port {port} is out of range", field="--port", fix="use a port from 1024 to 65535")
    try:
        # A bad --db fails here, in one line, before a server starts; only the default database is created, so a
        # fresh install opens on an empty runs page that offers the example debates.
        store = _store(db, create=db is None and not os.environ.get("GAUNTLET_DB"))
    except InputError:
        raise
    except Exception as exc:  # e.g. a URL naming a driver that is not installed
        raise InputError(f"cannot open database: {type(exc).__name__}: {exc}", field="--db",
                         fix="use a SQLite file path or an installed SQLAlchemy URL") from None
    target = str(store.sqlite_path.resolve()) if store.sqlite_path is not None else store.url
    store.engine.dispose()
    app_path = Path(__file__).resolve().parent / "dashboard" / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.headless", "true",
           "--server.port", str(port), "--browser.gatherUsageStats", "false", "--", "--db", target]
    err.print(f"dashboard on http://localhost:{port}/ (database {target})", highlight=False, markup=False)
    try:
        raise typer.Exit(subprocess.call(cmd, env={**os.environ, "GAUNTLET_DB": target}))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


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
    res = asyncio.run(fork_run(_store(db), run_id, step, ForkSpec(drop=drop, add_critics=add_critic, note=note,
                                                                   note_on=note_on, note_edge=note_edge)))
    if as_json:
        _print_json({"run_id": res.run_id, "parent_run_id": res.parent_run_id, "fork_step": res.fork_step,
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
        _print_json({"runs": result.points, "wall_s": result.wall_s})
    else:
        for r in result.points:
            print(f"{r['run_id'] or '-'}\t{r['status']}\t{json.dumps(r['params'])}")
    if any(r["status"] != "done" for r in result.points):
        raise typer.Exit(1)


from gauntlet.ui.bench.bench import bench_app  # noqa: E402 - the bench sub-app registers beside the commands above
from gauntlet.ui.bench import bench_coverage  # noqa: E402,F401 - registers `bench coverage` on bench_app

from gauntlet.ui.bench.bench_af import register as _register_bench_af  # noqa: E402 - `gauntlet bench af`
_register_bench_af(bench_app)
app.add_typer(bench_app, name="bench")

from gauntlet.ui.run_transfer import import_command  # noqa: E402 - saved debates travel (issue 19)

app.command(name="import")(import_command)

eval_app = typer.Typer(help="Measure quality on shipped evaluation sets; each prints right / wrong / abstained "
                             "figures.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

from gauntlet.ui.clone_cmd import clone as eval_clone, persona_app  # noqa: E402 - clones: persona new, eval clone

app.add_typer(persona_app, name="persona")
eval_app.command("clone")(eval_clone)

from gauntlet.ui.formalise_cmd import eval_formalise_command, formalise_command  # noqa: E402 - formalisation gate

app.command("formalise")(formalise_command)
eval_app.command("formalise")(eval_formalise_command)

from gauntlet.ui.eval_panel import panel as _eval_panel  # noqa: E402 - sustained attacks: `gauntlet eval panel`

eval_app.command("panel")(_eval_panel)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    app()


if __name__ == "__main__":
    main()
