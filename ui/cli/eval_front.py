"""What every `gauntlet eval NAME` does around its eval: progress on stderr (Rich on a terminal, one plain line per
case otherwise), the journal, `--out DIR/<eval>.json`, and the report on stdout."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer

from gauntlet.errors import InputError
from gauntlet.ui.cli.options import print_json
from gauntlet.ui.user_errors import err

OutOpt = typer.Option(None, "--out", help="Write the report to DIR/<eval>.json and keep the journal of finished "
                                          "cases there (default journal: the cache directory).")
FreshOpt = typer.Option(False, "--fresh", help="Ignore the journal of an earlier, stopped run: run every case "
                                               "again.")


def case_line(done: int, total: int, result: Any) -> str:
    note = getattr(result, "note", None) or ""
    return f"[{done}/{total}] {result.id}: {result.outcome}" + (f" ({note})" if note else "") + \
        f" {result.seconds:.0f} s"


@contextlib.contextmanager
def _watch(quiet: bool) -> Iterator[tuple[Any, Callable[[str], None]]]:
    """(the runner's Watch, a function printing a note line) for this terminal."""
    from gauntlet.graphs.evals.runner import Watch

    def plain(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    if quiet or not sys.stderr.isatty():
        def started(total: int, resumed: int) -> None:
            if resumed:
                plain(f"{resumed} of {total} cases already done (journal); running the rest")
        yield Watch(start=started, case=lambda d, t, r: plain(case_line(d, t, r))), plain
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, transient=False) as bar:
        task = bar.add_task("", total=None)

        def started(total: int, resumed: int) -> None:
            bar.update(task, total=total, completed=resumed,
                       description=f"{resumed} from the journal" if resumed else "")

        def case(done: int, total: int, result: Any) -> None:
            bar.update(task, completed=done, description=f"{result.id}: {result.outcome}")

        yield Watch(start=started, case=case), lambda line: bar.console.print(line, markup=False, highlight=False)


def run(name: str, file: Optional[Path], ctx: Any, *, out: Optional[Path], fresh: bool, as_json: bool,
        text: Callable[[dict[str, Any]], None], quiet: bool = False) -> None:
    """Run the registered eval NAME and print its report; a stopped eval prints what finished and exits 130."""
    from gauntlet.graphs.evals import registry
    from gauntlet.graphs.evals.runner import run_eval
    task = registry.task(name)
    if out is not None and out.exists() and not out.is_dir():
        raise InputError("not a directory", file=str(out), field="--out", fix="give a folder (created if missing)")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a scheduler's stop ends it like Ctrl-C: journaled
    try:
        with _watch(quiet) as (watch, note):
            ctx.note = note
            doc = run_eval(task, file, ctx, journal_dir=out, fresh=fresh, watch=watch)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if out is not None:
        _write(out / f"{name}.json", doc)
    if as_json:
        print_json(doc)
    else:
        text(doc)
    if doc["interrupted"]:
        err.print(f"interrupted: the figures cover the {doc['cases']} finished cases; run the same command again "
                  "to continue", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(130)


def summary_line(doc: dict[str, Any]) -> None:
    """The figures every eval has, on one line."""
    bound = doc["error_upper_95"]
    sys.stdout.write(f"cases {doc['cases']}  right {doc['right']}  wrong {doc['wrong']}  abstained "
                     f"{doc['abstained']}  coverage {doc['coverage']}  error (95% upper bound) "
                     f"{'n/a' if bound is None else f'{bound:.2f}'}\n")


def _write(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)  # never half a report
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the report ({exc.strerror})", file=str(path), field="--out",
                         fix="give a writable folder") from None
    err.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
