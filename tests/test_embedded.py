"""The embedded default model (llama.cpp on the CPU): real debates through the real CLI, repeatable from a seed.

The debates run as `gauntlet run` subprocesses: that is what a user runs, and a crash in native code then fails
one test instead of the whole session."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.agents.embedded import DEFAULT_MODEL, EmbeddedBackend, model_path
from gauntlet.agents.llm import LLMError
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import show

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).parent / "data" / "tiny_embedded.yaml"


def test_model_assembles_from_chunk_packages():
    path = model_path()
    assert path.stat().st_size == DEFAULT_MODEL.size
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_schema_constrained_output_parses():
    from gauntlet.agents.schemas import Proposal, proposal_schema
    from gauntlet.agents.structured import complete_structured

    async def go():
        llm = EmbeddedBackend(max_tokens=160, seed=1)
        msgs = [{"role": "user", "content": "Propose one AI-safety research idea as JSON."}]
        return await complete_structured(llm, msgs, Proposal, schema=proposal_schema(), seed=11)

    value, c = asyncio.run(go())
    assert value.title and c.completion_tokens > 0 and c.model.startswith("embedded:")


def _run(db: Path) -> tuple[str, Store]:
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(TINY), "--db", str(db), "--json", "-q"],
                         capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)["run_id"], Store(str(db))


def test_seeded_debate_repeats_exactly(tmp_path):
    a, sa = _run(tmp_path / "a.sqlite")
    b, sb = _run(tmp_path / "b.sqlite")
    doc = show(sa, a)
    assert doc["status"] == "done" and len(doc["ideas"]) == 1 and doc["edges"] >= 1

    def content(store, run_id):
        return [(n.id, n.kind, n.title, n.text) for n in store.nodes(run_id)]

    assert content(sa, a) == content(sb, b)
    calls_a = [json.loads(e.payload)["response"] for e in sa.events(a, kinds=["llm_call"])]
    calls_b = [json.loads(e.payload)["response"] for e in sb.events(b, kinds=["llm_call"])]
    assert calls_a == calls_b and len(calls_a) >= 2


TRUE_Q = [{"role": "user", "content": "Is Paris the capital of France? Answer Yes or No."}]
FALSE_Q = [{"role": "user", "content": "Is Madrid the capital of France? Answer Yes or No."}]


def test_score_reads_the_answer_from_one_prompt_pass():
    """Yes beats No for a true statement and loses for a false one; multi-token labels (" sustained" is one
    token, "overruled" three) get finite sums; the same prompt scores the same, to the bit."""
    async def go():
        llm = EmbeddedBackend(n_ctx=1024, seed=1)
        true = await llm.score(TRUE_Q, ["Yes", "No"])
        false = await llm.score(FALSE_Q, ["Yes", "No"])
        labels = await llm.score(TRUE_Q, ["Yes", "No", "overruled", "sustained"])
        again = await llm.score(TRUE_Q, ["Yes", "No"], seed=99)
        return true, false, labels, again

    true, false, labels, again = asyncio.run(go())
    assert true.scored and true.margin("Yes", "No") > 1.0
    assert false.margin("Yes", "No") < -1.0
    assert true.prompt_tokens > 10 and true.model.startswith("embedded:")
    assert labels.logprobs["Yes"] == true.logprobs["Yes"]
    for lab in ("overruled", "sustained"):
        assert -60 < labels.logprobs[lab] < labels.logprobs["Yes"]
    assert again.logprobs == true.logprobs
    probs = true.normalised()
    assert abs(sum(math.exp(v) for v in probs.values()) - 1) < 1e-9


def test_grammar_constrains_the_reply_and_bad_grammar_is_refused():
    async def go():
        llm = EmbeddedBackend(n_ctx=1024, seed=1, max_tokens=8)
        ok = await llm.complete(FALSE_Q, grammar='root ::= "Yes" | "No"')
        with pytest.raises(LLMError, match="does not parse"):
            await llm.complete(FALSE_Q, grammar="root ::= (")
        with pytest.raises(LLMError, match="not both"):
            await llm.complete(FALSE_Q, {"type": "object"}, grammar='root ::= "x"')
        return ok

    assert asyncio.run(go()).text in ("Yes", "No")


def _fresh_logprobs(session, messages):
    """The next-token log-probabilities of `messages` evaluated from scratch (no prefix reused)."""
    session.evaluator.enabled = False
    try:
        session.evaluate(messages)
        return session._next_logprobs()
    finally:
        session.evaluator.enabled = True


def test_a_cached_prefix_gives_the_same_logits_as_a_fresh_evaluation():
    """The prefix cache must not change one bit of any output, or seeded runs stop repeating."""
    import numpy as np

    from gauntlet.agents.prompts import RULES
    llm = EmbeddedBackend(n_ctx=1024, seed=1)
    session = llm.session()
    system = {"role": "system", "content": RULES + "\n\nYou are Ada, a formal-methods researcher."}
    first = [system, {"role": "user", "content": "Name one risk of reward hacking."}]
    second = [system, {"role": "user", "content": "Name one benefit of interpretability."}]
    session.evaluate(first)
    hits = session.evaluator.stats.hits
    session.evaluate(second)  # shares the rules and the persona card with `first`
    assert session.evaluator.stats.hits == hits + 1
    assert np.array_equal(session._next_logprobs(), _fresh_logprobs(session, second))


def test_a_persona_card_restored_from_disk_gives_the_same_logits(tmp_path, monkeypatch):
    """A later process restores a first message's state from the disk store (agents/prefix_store.py) instead of
    evaluating it; the logits must be the very ones a fresh evaluation gives."""
    import numpy as np

    from gauntlet.agents import prefix_store
    from gauntlet.agents.prompts import RULES
    monkeypatch.setenv(prefix_store.ENV, str(tmp_path / "states.sqlite"))
    session = EmbeddedBackend(n_ctx=1024, seed=1).session()
    assert session.evaluator.disk is not None  # the embedded model names its weights, so it keeps states
    card = {"role": "system", "content": RULES + "\n\nYou are Grace, an empirical ML researcher."}
    messages = [card, {"role": "user", "content": "Name one way an evaluation can be gamed."}]
    session.evaluator.states.clear()
    session.evaluator.invalidate()
    session.evaluate(messages)  # a first process: evaluates the card and keeps its state on disk
    assert prefix_store.count() >= 1
    session.evaluator.states.clear()  # a later process: nothing in memory or in the context
    session.evaluator.invalidate()
    before = session.evaluator.stats.from_disk
    session.evaluate(messages)
    assert session.evaluator.stats.from_disk == before + 1
    assert np.array_equal(session._next_logprobs(), _fresh_logprobs(session, messages))


def test_the_decoder_continues_from_the_prompt_models_state():
    """Where this CPU gets a repacked copy for generation (agents/llama_runtime.py `DecoderChoice`), the prompt's
    KV state handed to it must give the next-token distribution the prompt model computes (the same top token,
    the same probabilities up to kernel rounding), and seeded generation must still repeat exactly."""
    import numpy as np

    from gauntlet.agents.embedded import DEFAULT_MODEL
    from gauntlet.agents.llama_session import log_softmax
    from gauntlet.agents import llama_runtime

    choice = llama_runtime.current_decoder(DEFAULT_MODEL.size)
    if not choice.enabled:
        pytest.skip(f"no decoder on this machine ({choice.reason}); run on an AVX-512 CPU without AMX, or set "
                    "GAUNTLET_LLAMA_DECODER=on")
    llm = EmbeddedBackend(seed=3)
    session = llm.session()
    messages = [{"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": "Name one risk of optimising a learned reward model too hard."}]
    p = session.evaluate(messages)
    mine = session._next_logprobs()
    writer = session._writer(p.tokens)
    assert writer is session.decoder() and writer is not session.llama
    import ctypes
    import llama_cpp
    theirs = log_softmax(np.ctypeslib.as_array(
        ctypes.cast(llama_cpp.llama_get_logits_ith(writer._ctx.ctx, -1), ctypes.POINTER(ctypes.c_float)),
        shape=(writer.n_vocab(),)).copy())
    assert int(np.argmax(theirs)) == int(np.argmax(mine))
    top = np.argsort(-mine)[:5]
    assert np.allclose(np.exp(theirs[top]), np.exp(mine[top]), atol=0.05)
    first = session.complete(messages, grammar=None, seed=5, max_tokens=24, temperature=0.7)
    again = session.complete(messages, grammar=None, seed=5, max_tokens=24, temperature=0.7)
    assert first["choices"][0]["text"] == again["choices"][0]["text"] and first["choices"][0]["text"].strip()


def test_a_hidden_state_is_the_same_from_a_cached_prefix_and_a_fresh_evaluation():
    """The probe's input (agents/hidden_states.py): one layer's output at the prompt's last token, read in a second
    context from the prompt's handed-over state. It has the model's width, repeats exactly, does not depend on
    whether the prefix cache served the prompt, and follows the prompt's content; the shipped calibration's
    probe (if it weighs one) fits this model."""
    import numpy as np

    from gauntlet.agents import juror_questions
    from gauntlet.agents.calibration import calibration_for
    from gauntlet.agents.hidden_states import default_layer
    from gauntlet.agents.llm import reads_hidden_states
    from gauntlet.agents.probe import PROBE_FEATURE, LinearProbe
    from gauntlet.agents.routing import RoutedLLM

    llm = EmbeddedBackend(seed=1)
    session = llm.session()
    crit = ("The penalty covers resisting the button, but the agent still gains by steering whether it is pressed.",
            "add a large negative term")

    def ask(proposal: str) -> list[dict[str, str]]:
        return juror_questions.messages("margin", proposal, crit[0], crit[1], "", ("Yes", "No"))

    own = ask("Give the agent a shutdown button and add a large negative term to its utility for resisting it.")
    other = ask("Train a reward model on human comparisons and optimise the policy against it.")

    async def go() -> list:
        routed = RoutedLLM(llm, {}, {})
        assert reads_hidden_states(routed) and reads_hidden_states(llm)
        first = await llm.hidden_state(own)
        await llm.score(other, ["Yes", "No"])  # the context now holds another prompt with the same rules
        cached = await routed.hidden_state(own)
        return [first, cached, await llm.hidden_state(other)]

    first, cached, different = asyncio.run(go())
    session.evaluator.enabled = False
    try:
        fresh, _ = session.hidden_state(own, first.layer)
    finally:
        session.evaluator.enabled = True
    assert first.layer == default_layer(session.n_layer()) and first.values.shape == (session.llama.n_embd(),)
    assert np.all(np.isfinite(first.values))
    assert np.array_equal(first.values, cached.values)
    cos = float(np.dot(first.values, fresh) / np.linalg.norm(first.values) / np.linalg.norm(fresh))
    assert cos > 0.999  # a fresh evaluation batches differently: the same state up to rounding
    assert not np.allclose(first.values, different.values, atol=0.05)
    cal, _note = calibration_for(llm.name, "rulings", ("sustained", "overruled"))
    if PROBE_FEATURE in cal.features:
        probe = LinearProbe.from_dict(cal.probe)
        assert len(probe.mean) == session.llama.n_embd() and probe.layer < session.n_layer()
        assert math.isfinite(probe.score(first.values))
