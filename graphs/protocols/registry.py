"""The protocol registry: every debate protocol by name, its options model and its panel rules.

The config's shape (`gauntlet.config`) knows protocols only as names; `check_protocol` validates the name, fills in
the options and checks the panel once the shape has loaded, so reading a YAML file never imports LangGraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from langgraph.graph import StateGraph
from pydantic import BaseModel, ConfigDict, ValidationError

from gauntlet.config import RunConfig
from gauntlet.graphs.protocols import deconfusion, gauntlet, red_team, tournament


class _NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ProtocolSpec:
    """A protocol as the registry knows it: how to build its graph, its options and its panel rules.

    Calling the spec builds the uncompiled StateGraph, so `PROTOCOLS[name]()` reads the same for every protocol.
    """

    build: Callable[[], StateGraph]
    summary: str
    options: type[BaseModel] = _NoOptions
    panel_check: Callable[[Any], None] | None = None  # raises ValueError naming the panel field to fix

    def __call__(self) -> StateGraph:
        return self.build()

    def parse_options(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The options with defaults filled in; a bad option is a ValueError naming it and the valid values."""
        try:
            return self.options.model_validate(raw).model_dump(mode="json")
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "(options)"
            known = ", ".join(self.options.model_fields) or "none"
            raise ValueError(f"option {loc}: {err['msg']} (options of this protocol: {known})") from None

    def check(self, config: Any) -> None:
        if self.panel_check:
            self.panel_check(config)


def _registry() -> dict[str, ProtocolSpec]:
    # The single plug-in point: a new protocol is a module with a build function (and optionally an options
    # model and a panel check) plus one line here.
    return {
        "gauntlet": ProtocolSpec(gauntlet.build_gauntlet, gauntlet.SUMMARY),
        "tournament": ProtocolSpec(tournament.build_tournament, tournament.SUMMARY, tournament.TournamentOptions,
                                   tournament.check_panel),
        "deconfusion": ProtocolSpec(deconfusion.build_deconfusion, deconfusion.SUMMARY,
                                    deconfusion.DeconfusionOptions, deconfusion.check_panel),
        "red_team": ProtocolSpec(red_team.build_red_team, red_team.SUMMARY, red_team.RedTeamOptions,
                                 red_team.check_panel),
    }


PROTOCOLS: dict[str, ProtocolSpec] = _registry()




def check_protocol(config: RunConfig) -> RunConfig:
    """The config with its protocol options filled in; ValueError(field, message) naming what to fix."""
    spec = PROTOCOLS.get(config.protocol)
    if spec is None:
        raise ProtocolError("protocol", f"unknown protocol {config.protocol!r}; valid protocols: "
                                        f"{', '.join(sorted(PROTOCOLS))}")
    try:
        options = spec.parse_options(config.protocol_options)
    except ValueError as exc:
        raise ProtocolError("protocol_options", str(exc)) from None
    checked = config.model_copy(update={"protocol_options": options})
    try:
        spec.check(checked)
    except ValueError as exc:
        raise ProtocolError("(top level)", str(exc)) from None
    return checked


class ProtocolError(ValueError):
    """A protocol name, option or panel rule that does not hold; `field` is the config key to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
