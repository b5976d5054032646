"""`gauntlet persona new` (draft a clone from a researcher's writings) and `gauntlet eval clone` (measure it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Optional

import typer
import yaml
from rich.console import Console

from gauntlet.errors import InputError
from gauntlet.ui.user_errors import err, user_errors

persona_app = typer.Typer(help="Make persona cards: clone a researcher from their own writings.",
                          no_args_is_help=True)

SeedOpt = typer.Option(0, "--seed", min=0, help="Seed for the model's sampling (runs repeat exactly).")
UrlOpt = typer.Option(None, "--model-url", help="An OpenAI-compatible endpoint (vLLM, llama.cpp server, …), "
                                                "e.g. http://127.0.0.1:8000/v1; default: the embedded model.")
NameOpt = typer.Option("", "--model-name", help="Model name sent to --model-url.")
JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def _llm(url: Optional[str], name: str, seed: int):
    from gauntlet.agents.backends import check_reachable, make_llm
    from gauntlet.config import ModelConfig
    cfg = ModelConfig(backend="openai", base_url=url, name=name or "default") if url else ModelConfig()
    if url:
        check_reachable(cfg)
    return make_llm(cfg, seed=seed)


def _embed():
    from gauntlet.agents import corpus, embeddings
    return corpus.embed if embeddings.available() else None


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


def _index(directory: Path) -> dict[str, list[str]]:
    """Embed the corpus for retrieval; only files whose content changed since the last time are embedded."""
    from gauntlet.agents import corpus, embeddings
    if not embeddings.available():
        return {"embedded": [], "cached": [], "note": ["embedding model not installed: retrieval is off"]}
    c = corpus.Corpus(directory, corpus.default_store(), embeddings.encoder().encode)
    sources = sorted(set(c.index()[0]))
    return {"embedded": sorted(set(c.embedded)), "cached": [s for s in sources if s not in set(c.embedded)]}


def write_card(card_doc: dict[str, Any], path: Path) -> None:
    """Write a card atomically (never half a card), then read it back through the loader that runs use."""
    from gauntlet.agents.persona import load_card
    tmp = path.with_name(path.name + ".tmp")
    header = ("# Drafted by `gauntlet persona new` from the writings under `corpus`; every quote below is verbatim\n"
              "# from the file named beside it. Review it: edit freely, but keep quotes word for word.\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(header + yaml.safe_dump(card_doc, sort_keys=False, allow_unicode=True, width=110),
                       encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the card ({exc.strerror})", file=str(path), fix="check --out") from None
    load_card(path)


@persona_app.command("new")
@user_errors
def new(name: str = typer.Argument(..., help="Slug for the clone, e.g. ines-varga."),
        source: Path = typer.Option(..., "--from", help="Folder of the person's writings (.md, .txt, .rst, .pdf)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Where to write NAME.yaml (default: your personas "
                                                               "folder, $GAUNTLET_PERSONAS, listed by `gauntlet personas`)."),
        author: str = typer.Option("", "--author", help="How to name the person in prompts (default: NAME)."),
        seed: int = SeedOpt, model_url: Optional[str] = UrlOpt, model_name: str = NameOpt,
        as_json: bool = JsonOpt) -> None:
    """Draft a persona card (a clone) from one person's writings, every field backed by a verbatim quote.

    Their stances are kept with the card and the corpus is recorded by file hash. Clone only writings you may use.

    Example: gauntlet persona new ines-varga --from runs/corpora/ines-varga --out my-personas
    """
    from gauntlet.agents.cloning import draft_card, sources_of, unverified
    from gauntlet.agents.corpus_files import read_corpus
    from gauntlet.agents.metered import Meter
    from gauntlet.agents.persona import user_dir

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", name):
        raise InputError(f"{name!r} is not a persona name", field="NAME",
                         fix="use lower-case letters, digits and hyphens, e.g. ines-varga")
    files = read_corpus(source, field="--from")
    target_dir = out or user_dir()
    path = target_dir / f"{name}.yaml"
    if target_dir.exists() and not target_dir.is_dir():  # before any model time is spent
        raise InputError("cannot write the card: not a directory", file=str(target_dir), field="--out",
                         fix="give a folder (it is created if missing)")
    index = _index(source)
    llm = _llm(model_url, model_name, seed)
    meter = Meter()

    async def go():
        try:
            return await draft_card(llm, files, name, author or name, meter, seed=seed)
        finally:
            await llm.aclose()

    card = asyncio.run(go())
    bad = unverified(card, files)
    if bad:  # cannot happen unless the quote book and the check disagree; refuse rather than write it
        raise InputError(f"{len(bad)} quotes failed the verbatim check, e.g. {bad[0]}", file=str(source),
                         fix="report this as a bug")
    corpus_link = os.path.relpath(source.resolve(), target_dir.resolve())
    doc = card.model_copy(update={"corpus": corpus_link, "sources": sources_of(files)}).model_dump(
        exclude_defaults=True)
    write_card(doc, path)
    result = {"card": str(path), "persona": doc, "evidence": len(card.evidence), "stances": len(card.stances),
              "index": index, "cost": meter.cost()}
    if as_json:
        _print_json(result)
        return
    sys.stdout.write(path.read_text(encoding="utf-8"))
    err.print(f"wrote {path}: {len(card.evidence)} quotes of evidence, {len(card.stances)} stances, all verbatim; "
              f"embedded {len(index['embedded'])} file(s), {len(index['cached'])} unchanged; "
              f"{meter.calls} model calls", highlight=False, markup=False)


def _card(ref: str) -> Any:
    from gauntlet.agents.persona import library, load_card, user_cards
    path = Path(ref)
    if path.is_file():
        return load_card(path)
    cards = {**library(), **user_cards()}
    if ref in cards:
        return cards[ref]
    raise InputError(f"no persona card {ref!r}", field="CARD", fix="give a card file or a name from `gauntlet personas`")


@user_errors
def clone(card_ref: str = typer.Argument(..., metavar="CARD", help="A clone's card (file or name)."),
          seed: int = SeedOpt, max_claims: int = typer.Option(12, "--max-claims", min=1, max=500,
                                                              help="At most this many held-out stances."),
          model_url: Optional[str] = UrlOpt, model_name: str = NameOpt, as_json: bool = JsonOpt) -> None:
    """Measure a clone's fidelity: agreement with its author on held-out stances, against baselines.

    Hides a third of the card's corpus, drafts the clone from the rest, and scores its agree/disagree answers on the author's hidden positions against a same-discipline card with no
    corpus, a generic panelist and the majority stance; its own agreement across two seeds is the ceiling.

    Example: gauntlet eval clone my-personas/ines-varga.yaml --max-claims 8 --json
    """
    from gauntlet.agents.corpus_files import read_corpus
    from gauntlet.agents.fidelity import evaluate
    from gauntlet.agents.metered import Meter

    card = _card(card_ref)
    if not card.corpus:
        raise InputError(f"card {card.name!r} has no corpus to hold stances out of", field="CARD",
                         fix="draft it from writings with `gauntlet persona new NAME --from DIR`")
    files = read_corpus(Path(card.corpus), field=f"{card.name}.corpus")
    recorded = {s.path: s.sha256 for s in card.sources}
    changed = [f.source for f in files if recorded and recorded.get(f.source) != f.sha256]
    if changed:
        err.print(f"note: corpus changed since the card was drafted ({', '.join(changed[:3])}); stances whose "
                  "quotes no longer check are left out", highlight=False, markup=False)
    llm = _llm(model_url, model_name, seed)

    async def go():
        try:
            return await evaluate(llm, card, files, Meter(), seed=seed, max_claims=max_claims, embed=_embed())
        finally:
            await llm.aclose()

    doc = asyncio.run(go())
    if as_json:
        _print_json(doc)
        return
    from rich.table import Table
    table = Table("panelist", "agreement with the author", title=f"{card.name}: {doc['n']} held-out stances "
                  f"({doc['split']['mode']} split)")
    for label, key in (("clone", "agreement"), ("clone, other seed (self-consistency)", "self_consistency"),
                       ("same discipline, no corpus", "baseline_agreement"), ("generic panelist", "generic_agreement"),
                       (f"always '{doc['majority_stance']}'", "majority_agreement")):
        table.add_row(label, "-" if doc[key] is None else f"{doc[key]:.2f}")
    Console().print(table)
    sys.stdout.write(doc["verdict"] + f" — {doc['cost']['calls']} calls, {doc['cost']['wall_s']} s\n")
