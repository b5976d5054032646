"""Large frameworks: a header that would not fit is refused from the header alone (exit 2, nothing allocated);
one that fits is answered with its names kept as positions until written, and the text is the one the plain
lists would give. Speed is measured by `gauntlet bench af-large`, not here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gauntlet.errors import InputError
from gauntlet.graphs.argument import af_formats
from gauntlet.graphs.argument.af_formats import check_room, memory_needed, parse, read_af
from gauntlet.graphs.argument.af_names import Names, decimal_text, names
from gauntlet.graphs.argument.framework import AF, distinct
from gauntlet.graphs.argument.iccma import dumps, plain, plain_lines, run_task

GB = 1024**3


def test_the_estimate_grows_with_arguments_and_file_size():
    assert memory_needed(2 * 10**7, 20) > memory_needed(10**7, 20) > memory_needed(10**7, 0) > 0
    assert memory_needed(10**7, 10**8) > memory_needed(10**7, 10**6)


def test_twenty_million_arguments_fit_where_there_is_room_and_are_refused_where_there_is_not():
    check_room(20_000_000, 20, "big.af", 1, available=16 * GB)  # ~2.2 GB needed: computed
    with pytest.raises(InputError) as exc:
        check_room(20_000_000, 20, "big.af", 1, available=2 * GB)
    msg = exc.value.one_line()
    assert msg.startswith("big.af:1:") and "20000000 arguments" in msg and "GB available" in msg and "(fix:" in msg


def test_a_header_too_big_for_this_machine_is_refused_before_the_attacks_are_read(monkeypatch):
    def no_parse(*_a, **_k):  # the refusal must come from the header alone
        raise AssertionError("attack lines parsed before the memory check")

    monkeypatch.setattr(af_formats, "_i23_fast", no_parse)
    monkeypatch.setattr(af_formats, "_i23_lines", no_parse)
    monkeypatch.setattr(af_formats, "available_memory", lambda: 1 * GB)
    with pytest.raises(InputError, match="memory"):
        parse(b"p af 20000000\n1 2\n", "i23", "big.af")


def test_the_twenty_million_argument_file_is_answered(tmp_path):
    f = tmp_path / "big.af"
    f.write_text("p af 20000000\n1 2\n")
    try:
        af = read_af(f)
    except InputError as exc:  # a machine without ~2.2 GB free: the refusal is the answer
        assert "memory" in str(exc)
        return
    doc = plain(af, "grounded", 10, str(f))
    assert isinstance(doc["in"], Names) and len(doc["in"]) == 19_999_999
    assert list(doc["out"]) == ["2"] and len(doc["undec"]) == 0
    assert doc["in"][:3] == ["1", "3", "4"] and doc["in"][-1] == "20000000"


@pytest.mark.parametrize("values", [[0], [7, 7, 0, 10, 9], list(range(0, 2000, 7)), [10**18, 2**63 - 1, 5],
                                    sorted(np.random.default_rng(5).integers(0, 10**12, 500).tolist())])
def test_decimal_text_is_str_joined(values):
    for sep, quote in ((" ", ""), (", ", '"'), ("\n", "")):
        want = sep.join(f"{quote}{v}{quote}" for v in values)
        assert decimal_text(np.asarray(values, dtype=np.uint64 if max(values) >= 2**63 else np.int64),
                            sep.encode(), quote.encode()).decode() == want


def test_large_answers_write_the_same_text_as_lists():
    rng = np.random.default_rng(2)
    n = 3000
    af = AF(n, rng.integers(0, n, n), rng.integers(0, n, n))
    named = AF.from_pairs([f"a{i}" for i in range(n)], zip((f"a{i}" for i in af.src), (f"a{i}" for i in af.dst)))
    for framework in (af, named):
        lazy = {k: Names(framework, np.asarray([framework.index_of(x) for x in v]))
                for k, v in plain(framework, "grounded", 10, "f").items()}
        eager = {k: list(v) for k, v in lazy.items()}
        assert lazy == eager
        assert json.loads(dumps(lazy)) == eager  # the indented form (short answers)
        compact = dumps({"x": lazy["in"], "pad": ["1"] * 10_001})  # the one-join form (long ones)
        assert json.loads(compact)["x"] == eager["in"]
        assert list(plain_lines(lazy)) == [f"{k}: {' '.join(v)}" for k, v in eager.items()]


def test_short_answers_stay_plain_lists():
    af = parse(b"p af 3\n1 2\n", "i23", "f.af")
    assert plain(af, "grounded", 10, "f") == {"in": ["1", "3"], "out": ["2"], "undec": []}
    assert isinstance(names(af, [0, 2]), list)
    assert run_task(af, "grounded", "SE", None, 10, "f")["extension"] == ["1", "3"]


def test_distinct_is_unique():
    rng = np.random.default_rng(0)
    for size, n in ((0, 10), (5, 1000), (5000, 100), (100, 10**6)):
        x = rng.integers(0, n, size)
        assert np.array_equal(distinct(x, n), np.unique(x)) and np.array_equal(distinct(x), np.unique(x))


@pytest.mark.parametrize("family", ["header_only", "random_d1"])
def test_bench_af_large_rows_agree_with_clingo(tmp_path, family):
    pytest.importorskip("clingo", reason="clingo comes with the test extra: pip install -e .[test]")
    from gauntlet.ui.bench.bench_af_large import run_row
    row = run_row(tmp_path, family, 3000, 1, clingo_timeout=120, memory_gb=4, clingo_up_to=10**7)
    assert row["agree"] is True and row["gauntlet"]["in"] == row["clingo"]["in"] > 0
    assert row["gauntlet_s"] > 0 and row["clingo_s"] > 0 and row["ratio"] is not None


@pytest.mark.parametrize("text", ["p af 3\n1 2\n2 3\n", "# é made by hand\n\np af 2\n1 2\n", "p af 3\n# attacks\n1 2\n",
                                  "\n\n  p af 4  \n1 2\n\n3   4\r\n", "p af 5\n", "p\taf\t2\n2\t1"])
def test_the_byte_reader_and_the_text_reader_agree(text):
    by_bytes, by_text = parse(text.encode(), "i23", "f.af"), af_formats.parse_i23(text, "f.af")
    assert by_bytes.n == by_text.n and by_bytes.pairs() == by_text.pairs()
