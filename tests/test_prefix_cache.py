"""The prefix cache's segmentation and the score helpers, as pure functions (the model-backed checks that a hit
and a miss give identical logits are the slow tests in tests/test_embedded.py)."""

from __future__ import annotations

import math
import re

from gauntlet.agents.choice_logprobs import logsumexp
from gauntlet.agents.llama_session import label_variants
from gauntlet.agents.prefix_cache import CacheStats, cache_enabled, candidate_offsets, segment_ends


def chatml(messages, generation_prompt):
    out = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return out + ("<|im_start|>assistant\n" if generation_prompt else "")


def words(text):
    """A tokenizer whose tokens are whitespace-separated words with their leading whitespace (so a cut inside a
    run of whitespace changes the tokens, as BPE merges do)."""
    out, cur = [], ""
    for ch in text:
        if ch.isspace() and cur and not cur.isspace():
            out.append(cur)
            cur = ""
        cur += ch
    return out + ([cur] if cur else [])


def lines(text):
    """A tokenizer whose tokens are each newline and each run of other characters (Qwen's keeps a newline apart
    from the `{` a reply starts with, so a cut after a header's newline is a token boundary)."""
    return [t for t in re.split(r"(\n)", text) if t]


MESSAGES = [{"role": "system", "content": "Rules of the panel.\n\nYou are Ada, a logician.\nWorldview: proofs."},
            {"role": "user", "content": "Topic: safety.\n\nCritique idea r1."}]


def test_boundaries_are_first_message_paragraphs_and_message_ends():
    full, offsets, first_end = candidate_offsets(chatml, MESSAGES)
    assert full == chatml(MESSAGES, True)
    assert full[:first_end].endswith("<|im_end|>\n") and "user" not in full[:first_end]
    cut = [full[:o] for o in offsets]
    assert cut[0].endswith("Rules of the panel.\n\n")
    assert cut[-1] == full[:first_end]
    assert not any(c.endswith("Topic: safety.\n\n") for c in cut)  # only the first message is split inside


def test_a_scored_question_keeps_its_proposal_prefix():
    """(system, proposal, question, answer order): the LRU keeps the state after the proposal, so the proposal's
    next question skips it after another prompt replaced the context; not the state after the question."""
    msgs = [{"role": "system", "content": "Judge."}, {"role": "user", "content": "Proposal: box the AI."},
            {"role": "user", "content": "Does it apply?"}, {"role": "user", "content": "Answer Yes or No."}]
    full, offsets, kept_end = candidate_offsets(chatml, msgs)
    assert full[:kept_end] == chatml(msgs[:2], False)
    assert kept_end in offsets and offsets[-1] > kept_end  # the question's end is a boundary, not kept
    _, _, two = candidate_offsets(chatml, MESSAGES)
    assert two == len(chatml(MESSAGES[:1], False))  # a two-message prompt keeps only its first message


def test_a_boundary_inside_a_merged_token_is_dropped():
    full, offsets, _ = candidate_offsets(chatml, MESSAGES)
    tokens = words(full)
    ends = segment_ends(tokens, full, offsets, words)
    assert ends[-1] == len(tokens)
    assert all(a < b for a, b in zip(ends, ends[1:]))
    for e in ends[:-1]:
        assert "".join(tokens[:e]) in {full[:o] for o in offsets}
    # "Rules of the panel.\n\n" ends inside the whitespace token "\n\nYou": that boundary cannot be kept.
    assert not any("".join(tokens[:e]).endswith("panel.\n\n") for e in ends)


def test_a_follow_up_turn_keeps_the_first_call_as_its_prefix():
    """A re-ask (the first prompt, the reply, a note) is segmented so that the first call's whole prompt, assistant
    header included, ends a segment with the same segments before it: the state the first call left is reused."""
    first = MESSAGES
    follow = first + [{"role": "assistant", "content": '{"responses": []}'}, {"role": "user", "content": "Again."}]
    full1, offsets1, _ = candidate_offsets(chatml, first)
    full2, offsets2, _ = candidate_offsets(chatml, follow)
    assert full2.startswith(full1)
    ends1 = segment_ends(lines(full1), full1, offsets1, lines)
    ends2 = segment_ends(lines(full2), full2, offsets2, lines)
    assert len(lines(full1)) in ends2  # the first prompt, header included, is a boundary of the follow-up
    assert [e for e in ends2 if e <= len(lines(full1))] == ends1  # ... with the same segments before it
    assert len(lines(chatml(first, False))) not in ends2  # not split between the message and the reply's header


def test_a_single_message_prompt_is_one_segment_plus_paragraphs():
    msgs = [{"role": "user", "content": "Is 2+2=4?"}]
    full, offsets, first_end = candidate_offsets(chatml, msgs)
    assert offsets == [] and first_end > 0
    assert segment_ends(words(full), full, offsets, words) == [len(words(full))]


def test_label_variants_fold_the_leading_space():
    assert label_variants("Yes") == ["Yes", " Yes"]
    assert label_variants(" No") == ["No", " No"]
    assert math.isclose(logsumexp([math.log(0.2), math.log(0.3)]), math.log(0.5))
    assert logsumexp([-math.inf, -math.inf]) == -math.inf


def test_cache_switch_and_stats():
    assert cache_enabled({}) and cache_enabled({"GAUNTLET_PREFIX_CACHE": "on"})
    assert not cache_enabled({"GAUNTLET_PREFIX_CACHE": "off"})
    stats = CacheStats(calls=4, hits=3, reused_tokens=300, evaluated_tokens=100)
    assert stats.as_dict()["hit_rate"] == 0.75 and stats.as_dict()["reused_share"] == 0.75
