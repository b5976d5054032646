"""The rebuttal moves: a defender answers the attacks on what it defends (counter, concede or revise), with
echoes (an answer repeating its critique) re-asked once, then dropped. `rebuttal_nodes` turns a set of answers into
nodes and edges for any protocol; each protocol words its own revision."""

from __future__ import annotations

from typing import Any, Callable

from langgraph.runtime import Runtime

from gauntlet.agents import prompts
from gauntlet.agents.llm import back_to_back
from gauntlet.agents.routing import for_persona
from gauntlet.agents.schemas import RebuttalItem, RebuttalSet, rebuttal_schema
from gauntlet.graphs.protocols import allocation, echo, rebuttals
from gauntlet.graphs.protocols.state import Call, DebateContext, Edge, Node, Task, Update
from gauntlet.graphs.protocols.toolkit import ask, budgeted, cited, edge, node, owner


@budgeted
async def rebut(task: Task, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    by_id = {n["id"]: n for n in task["nodes"]}
    attacks = [e for e in task["edges"] if e["kind"] == "attacks" and by_id[e["src"]]["round"] == rnd
               and by_id[e["src"]]["kind"] == "critique" and owner(by_id[e["dst"]]) == who]
    if not attacks:
        return {}
    shown = []
    for e in attacks:
        shown += [by_id[e["dst"]], by_id[e["src"]]]
    ids = allocation.shuffled([e["src"] for e in attacks], ctx.config.seed, f"r{rnd}/rebut/{who}")
    msgs = prompts.rebuttal_messages(ctx.personas[who], ctx.config.topic,
                                     prompts.describe_nodes(list({n["id"]: n for n in shown}.values())), ids)
    rs, calls, dropped = await answer_without_echo(ctx, who, rnd, msgs, ids, {i: by_id[i]["text"] for i in ids})

    def revise(i: int, rid: str, r: RebuttalItem) -> tuple[list[Node], list[Edge]]:
        attacked = by_id[by_id[r.target]["data"]["target"]]
        return revised_idea(by_id, r, who, rnd, rid, f"r{rnd}-idea-{who}-rev{i + 1}", champion=owner(attacked))

    nodes, edges = rebuttal_nodes(rs, ids, who, rnd, f"r{rnd}-reb-{who}", revise)
    calls[-1]["dropped_echoes"] = dropped
    return {"nodes": cited(nodes, calls[0]), "edges": edges, "calls": calls}


async def answer_without_echo(ctx: DebateContext, who: str, rnd: int, msgs: list, ids: list[str],
                              critique_text: dict[str, str]) -> tuple[RebuttalSet, list[Call],
                                                                      list[dict[str, Any]]]:
    """The defender's answers with echoes (a rebuttal repeating its critique) re-asked once, then dropped.
    Returns the answers kept, the calls made and a record of what was dropped."""
    rs: RebuttalSet
    again: RebuttalSet
    # The re-ask is the next turn of the same conversation, run right after the first call: the model's context
    # still holds that prompt, so only the echoed answer and the note are read again (the debate in the first
    # prompt is ~700 tokens on the demo, ~7 s on two cores).
    async with back_to_back(for_persona(ctx.llm, who)):
        rs, call = await ask(ctx, who, "rebut", rnd, msgs, RebuttalSet, rebuttal_schema(ids))
        copies = echo.echoes(rs, critique_text)
        if not copies:
            return rs, [call], []
        asked = list(dict.fromkeys(r.target for r in copies))
        retry = call["messages"] + [{"role": "assistant", "content": call["response"]},
                                    {"role": "user", "content": echo.reask_note(asked)}]
        again, second = await ask(ctx, who, "rebut", rnd, retry, RebuttalSet, rebuttal_schema(asked), tag="reask",
                                  ground=False)
    kept, dropped = echo.merged(echo.without(rs, copies), again, critique_text, asked)
    return RebuttalSet.model_construct(responses=kept), [call, second], dropped


Revision = Callable[[int, str, RebuttalItem], tuple[list[Node], list[Edge]]]


def rebuttal_nodes(rs: RebuttalSet, ids: list[str], who: str, rnd: int, rid_prefix: str,
                   revise: Revision) -> tuple[list[Node], list[Edge]]:
    """A rebuttal node per answered attack (first answer per target): a counter attacks the critique, a concession
    supports it, and a revision is handed to `revise(i, rebuttal_id, item)`, which each protocol words its own way."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    done: set[str] = set()
    for i, r in enumerate(rs.responses):
        if r.target not in ids or r.target in done:
            continue
        done.add(r.target)
        rid = f"{rid_prefix}-{i + 1}"
        # The action is what the text says (a repaired action keeps the given one beside it).
        action, repair = rebuttals.settled_action(r.action, r.text, r.revised_claim)
        extra = {"action_given": r.action, "action_repair": repair} if repair else {}
        nodes.append(node(rid, "rebuttal", who, rnd, action, prompts.tidy(r.text, 320), action=action,
                          target=r.target, **extra))
        if action == "counter":
            edges.append(edge(rid, r.target, "attacks"))
        elif action == "concede":
            edges.append(edge(rid, r.target, "supports"))
        elif action == "revise":
            more_nodes, more_edges = revise(i, rid, r)
            nodes += more_nodes
            edges += more_edges
    return nodes, edges


def revised_idea(by_id: dict[str, Node], r: RebuttalItem, who: str, rnd: int, rid: str, new_id: str,
                 **data: Any) -> tuple[list[Node], list[Edge]]:
    """The idea a critique attacked, revised by its author: it `refines` the old one and the rebuttal supports it.
    Nothing when the critique attacked something other than an idea (a claim, a rebuttal)."""
    attacked = by_id[r.target]["data"]["target"]
    if by_id[attacked]["kind"] != "idea":
        return [], []
    title = prompts.tidy(r.revised_title, 90) or by_id[attacked]["title"] + " (revised)"
    # `fixes`: the critique this revision claims to answer; jurors see the revision when they rule on it.
    new = node(new_id, "idea", who, rnd, title, prompts.tidy(r.revised_claim, 320), revises=attacked,
               fixes=[r.target], **data)
    return [new], [edge(new_id, attacked, "refines"), edge(rid, new_id, "supports")]
