"""SQLModel tables. The Event table is the source of truth; Node and Edge rows are derived from it."""

from __future__ import annotations

import time

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Run(SQLModel, table=True):
    id: str = Field(primary_key=True)
    topic: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="running", index=True)  # running | interrupted | done | failed
    protocol: str = "gauntlet"
    config_json: str = Field(sa_column=Column(Text, nullable=False))
    config_source: str = ""
    seed: int = 0
    model: str = ""
    created: float = Field(default_factory=time.time, index=True)
    updated: float = Field(default_factory=time.time)
    parent_run_id: str | None = Field(default=None, index=True)
    fork_step: int | None = None
    pid: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    stats_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class PersonaRow(SQLModel, table=True):
    __tablename__ = "persona"
    __table_args__ = (UniqueConstraint("run_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    name: str
    discipline: str = ""
    roles: str = ""  # comma-separated: proposer, critic, judge
    card_json: str = Field(sa_column=Column(Text, nullable=False))


class Event(SQLModel, table=True):
    """One thing that happened in a run. `key` makes writes idempotent: replaying a step rewrites nothing."""

    __table_args__ = (UniqueConstraint("run_id", "key"), Index("ix_event_run_seq", "run_id", "seq"))
    id: int | None = Field(default=None, primary_key=True)
    run_id: str
    seq: int  # order within the run, from 1
    key: str  # e.g. "r1/critique/security-engineer/node/0"
    kind: str  # run_started | llm_call | node | edge | annotation | run_finished | run_failed ...
    round: int = 0
    phase: str = ""
    persona: str = ""
    superstep: int = 0  # the LangGraph step that produced it (for forking)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    ts: float = Field(default_factory=time.time)


class Node(SQLModel, table=True):
    __table_args__ = (Index("ix_node_run_kind", "run_id", "kind"),)
    run_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    kind: str  # idea | claim | critique | rebuttal | judgement | formal_result | human_note
    persona: str = ""
    round: int = 0
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    data_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    seq: int = 0


class Edge(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "src", "dst", "kind"), Index("ix_edge_run", "run_id"))
    id: int | None = Field(default=None, primary_key=True)
    run_id: str
    src: str
    dst: str
    kind: str  # attacks | supports | refines | formalises
    seq: int = 0


class Annotation(SQLModel, table=True):
    """A reviewer's comment or override, anchored on a node."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    node_id: str
    author: str = "reviewer"
    kind: str = "comment"  # comment | override
    verdict: str | None = None  # valid | invalid | accepted | rejected (overrides only)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created: float = Field(default_factory=time.time)


# The prover cache's table (ProverResult) lives with the cache, in gauntlet.provers.cache; migrations cover it.
