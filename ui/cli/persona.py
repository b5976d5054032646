"""Persona cards: `persona list` (also `personas`), `persona show` and `persona new` (draft a clone from a
researcher's writings)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any, Optional

import typer
import yaml

from gauntlet.errors import InputError
from gauntlet.ui.cli.options import JsonOpt, SeedOpt, model_config, open_llm, print_json, print_rows
from gauntlet.ui.user_errors import err, user_errors

app = typer.Typer(help="Persona cards: list the library and your own cards, show one, or clone a researcher "
                       "from their writings.", no_args_is_help=True)

UrlOpt = typer.Option(None, "--model-url", help="An OpenAI-compatible endpoint (vLLM, llama.cpp server, …), "
                                                "e.g. http://127.0.0.1:8000/v1; default: the embedded model.")
NameOpt = typer.Option("", "--model-name", help="Model name sent to --model-url.")


@app.command("list")
@user_errors
def list_cards(as_json: bool = JsonOpt) -> None:
    """List the persona library (styles of thought the panel can clone) and your own cards (clones drafted by
    `gauntlet persona new`, in $GAUNTLET_PERSONAS), marked by `origin`. `gauntlet personas` is the same list.

    Example: gauntlet persona list --json
    """
    from gauntlet.agents.persona import library, user_cards
    cards = [{"name": p.name, "display_name": p.label, "discipline": p.discipline, "worldview": p.worldview,
              "research_style": p.research_style, "typical_objections": list(p.typical_objections),
              "would_change_mind": p.would_change_mind, "has_corpus": p.corpus is not None, "origin": origin,
              "evidence": len(p.evidence), "stances": len(p.stances)}
             for origin, cards_of in (("library", library()), ("user", user_cards()))
             for p in cards_of.values()]
    print_rows(cards, as_json, [("name", "name", 64), ("discipline", "discipline", 80), ("worldview", "worldview", 90)])



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


@app.command("new")
@user_errors
def new(name: str = typer.Argument(..., help="Slug for the clone, e.g. ines-varga."),
        source: Path = typer.Option(..., "--from", help="Folder of the person's writings (.md, .txt, .rst, .pdf)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Where to write NAME.yaml (default: your personas "
                                                               "folder, $GAUNTLET_PERSONAS, listed by `gauntlet persona list`)."),
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
    llm = open_llm(model_config(model_url, model_name, field="--model-url"), seed)
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
        print_json(result)
        return
    sys.stdout.write(path.read_text(encoding="utf-8"))
    err.print(f"wrote {path}: {len(card.evidence)} quotes of evidence, {len(card.stances)} stances, all verbatim; "
              f"embedded {len(index['embedded'])} file(s), {len(index['cached'])} unchanged; "
              f"{meter.calls} model calls", highlight=False, markup=False)


@app.command("show")
@user_errors
def show(card_ref: str = typer.Argument(..., metavar="CARD", help="A card's name (see `gauntlet persona list`) "
                                                                  "or a card file."),
         as_json: bool = JsonOpt) -> None:
    """Show one persona card in full: worldview, style, objections, and a clone's evidence and stances.

    Example: gauntlet persona show security-engineer
    """
    from gauntlet.graphs.evals.clone import find_card
    card = find_card(card_ref)
    doc = card.model_dump(exclude_defaults=True)
    if as_json:
        print_json(doc)
        return
    sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110))
