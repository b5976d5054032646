"""A run config, loaded whole: the YAML's shape (core), its persona cards (agents) and its protocol (registry).

This is the one place that ties the three together, so validating a config's shape alone (`gauntlet.config`)
imports neither the agents nor LangGraph, and no layer below reaches up to the protocols.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gauntlet.agents.persona import Persona, resolve
from gauntlet.config import RunConfig, parse_shape, read_config_text
from gauntlet.errors import InputError
from gauntlet.graphs.protocols.registry import ProtocolError, check_protocol
from gauntlet.yaml_lines import line_for


class LoadedConfig(BaseModel):
    """A validated config plus the persona cards it names, resolved once."""

    model_config = ConfigDict(frozen=True)

    config: RunConfig
    personas: dict[str, Persona]
    source: str


def parse_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> LoadedConfig:
    """Validate YAML text into a LoadedConfig; raise InputError (one line: file, line, field, fix) if wrong."""
    config, lines = parse_shape(text, source)
    try:
        config = check_protocol(config)
    except ProtocolError as exc:
        loc = () if exc.field == "(top level)" else (exc.field,)
        raise InputError(str(exc), file=source, line=line_for(lines, loc) if loc else None, field=exc.field,
                         fix="see runs/configs/ for a valid config of each protocol") from None
    base = base_dir or Path.cwd()
    refs = [("panel.proposers", r) for r in config.panel.proposers]
    refs += [("panel.critics", r) for r in config.panel.critics]
    if config.panel.judge:
        refs.append(("panel.judge", config.panel.judge))
    personas: dict[str, Persona] = {}
    for field, ref in refs:
        personas[ref] = resolve(ref, base, config_file=source, field=field)
    return LoadedConfig(config=config, personas=personas, source=source)


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate a config file; errors name the file, line, field and fix."""
    p = Path(path)
    return parse_config(read_config_text(p), source=str(p), base_dir=p.parent)
