"""Strict framework readers: every malformed file is one InputError naming file, line and fix; good files parse
the same by the vectorised fast path and the line-by-line reader."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from gauntlet.errors import InputError
from gauntlet.graphs.argument.af_formats import _apx_lines, _i23_lines, parse, read_af
from gauntlet.graphs.argument.apx_tokens import parse_canonical

MALFORMED = [
    ("i23", "p af ²\n1 2\n", 1, "header"),
    ("i23", "p af 99999999999999999999\n", 1, "memory"),
    ("i23", "p af 3\n1 2\np af 3\n", 3, "second"),
    ("i23", "p af 3\n1 4\n", 2, "out of range"),
    ("i23", "p af 3\n0 1\n", 2, "out of range"),
    ("i23", "p af 3\n1 2 3\n", 2, "not an attack line"),
    ("i23", "p af 3\n2 x\n", 2, "not an attack line"),
    ("i23", "1 2\n", 1, "header"),
    ("i23", "", 1, "empty"),
    ("i23", "  \n\n", 1, "empty"),
    ("apx", "arg(a).\narg(a).\n", 2, "declared twice"),
    ("apx", "arg(a).\natt(a,zz).\n", 2, "undeclared"),
    ("apx", "arg(a).\nhello\n", 2, "not an APX statement"),
    ("apx", "% nothing\n", 1, "no arg"),
    ("apx", "", 1, "empty"),
    ("tgf", "a\nb\na b\n", 4, "'#'"),
    ("tgf", "a\na\n#\n", 2, "declared twice"),
    ("tgf", "a\n#\na\n", 3, "two arguments"),
    ("tgf", "a\n#\na c\n", 3, "undeclared"),
    ("tgf", "a\n#\n#\n", 3, "second '#'"),
    ("tgf", "", 1, "empty"),
]


@pytest.mark.parametrize("fmt,text,line,words", MALFORMED)
def test_malformed_input_names_file_line_and_fix(fmt, text, line, words):
    with pytest.raises(InputError) as exc:
        parse(text.encode(), fmt, f"f.{fmt}")
    msg = exc.value.one_line()
    assert msg.startswith(f"f.{fmt}:{line}:") and words in msg and "(fix:" in msg and "\n" not in msg


@pytest.mark.parametrize("raw,line", [(b"p af 2\n1 2\x00\n", 2), (b"arg(a).\n\xff\xfe\n", 2)])
def test_binary_files_are_refused(raw, line):
    with pytest.raises(InputError, match=f"f.af:{line}"):
        parse(raw, "i23", "f.af")


def test_huge_header_is_refused_before_allocating():
    # 10**12 arguments would need ~200 TB; the refusal comes from the header alone.
    with pytest.raises(InputError, match="memory"):
        parse(b"p af 1000000000000\n", "i23", "f.af")


def test_fast_and_line_readers_agree_on_good_files():
    rng = random.Random(3)
    for _ in range(50):
        n = rng.randint(1, 60)
        att = [(rng.randint(1, n), rng.randint(1, n)) for _ in range(rng.randint(0, 3 * n))]
        body = "".join(f"{a}{rng.choice([' ', '  ', chr(9)])}{b}{rng.choice(['', ' ', chr(13)])}\n" + "\n" * rng.randint(0, 1)
                       for a, b in att)
        af = parse(f"p af {n}\n{body}".encode(), "i23", "f.af")
        src, dst = _i23_lines(body, n, "f.af", 1)
        assert af.src.tolist() == (src - 1).tolist() and af.dst.tolist() == (dst - 1).tolist()
        prefix = rng.choice(["x", "long_name_", "é" * 20])  # one uint64 word per name, several, or UTF-8
        apx = "".join(f"arg({prefix}{i}).\n" for i in range(n)) + "".join(f"att({prefix}{a - 1},{prefix}{b - 1}).\n" for a, b in att)
        fast, slow = parse_canonical(apx.encode()), _apx_lines(apx, "f.apx")
        assert fast is not None
        assert fast.pairs() == slow.pairs() and list(fast.names) == list(slow.names)
        assert fast.pairs() == [(f"{prefix}{a - 1}", f"{prefix}{b - 1}") for a, b in att]


def test_comments_in_iccma_files(tmp_path):
    f = tmp_path / "c.i23"
    f.write_text("# made by hand\np af 3\n# attacks\n1 2\n2 3\n")
    af = read_af(f)
    assert af.n == 3 and af.pairs() == [("1", "2"), ("2", "3")]
    assert np.array_equal(af.src, [0, 1])


@pytest.mark.parametrize("name,content,where", [
    ("huge.af", "p af 99999999999999999999\n", "huge.af:1"),
    ("bin.apx", "arg(a).\natt(a,\0).\n", "bin.apx:2"),
    ("nohash.tgf", "a\nb\na b\n", "nohash.tgf:4"),
])
def test_cli_exit_2_one_line(tmp_path, name, content, where):
    f = tmp_path / name
    f.write_text(content)
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "af", str(f), "--json"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and where in out.stderr and "Traceback" not in out.stderr
    json.dumps(out.stderr)  # printable


def test_unknown_name_on_the_byte_path():
    assert parse_canonical(b"arg(a).\narg(b).\natt(a,zz).\n") is None  # the line reader then names the line
    with pytest.raises(InputError, match="f.apx:3: attack names undeclared argument 'zz'"):
        parse(b"arg(a).\narg(b).\natt(a,zz).\n", "apx", "f.apx")


def test_byte_reader_never_disagrees_with_the_line_reader_on_mutated_files():
    """Soundness of the vectorised .apx reader: on randomly mutated files it either steps aside (None) or reads
    exactly what the line reader reads; the line reader accepts every file it accepts."""
    rng = random.Random(14)
    alphabet = ["(", ")", ",", ".", "\n", "\n\n", " ", "%", "\r", "\xa0", "a", "b", "é", "arg(", "att(", ")."]
    stepped_aside = read = 0
    for _ in range(3000):
        n = rng.randint(1, 6)
        names = [rng.choice(["a", "b", "x1", "é", "w" * rng.randint(1, 70)]) + str(i) for i in range(n)]
        lines = [f"arg({x})." for x in names] + [f"att({rng.choice(names)},{rng.choice(names)})."
                                                 for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.3:
            rng.shuffle(lines)  # attacks before their arguments' declarations are still fine
        text = "\n".join(lines) + rng.choice(["", "\n"])
        for _ in range(rng.randint(0, 2)):
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(alphabet) + text[at + rng.randint(0, 2):]
        fast = parse_canonical(text.encode())
        if fast is None:
            stepped_aside += 1
            continue
        read += 1
        slow = _apx_lines(text, "f.apx")  # raises if the fast reader accepted a file the line reader refuses
        assert fast.n == slow.n and list(fast.names) == list(slow.names) and fast.pairs() == slow.pairs()
    assert read > 500 and stepped_aside > 500  # both outcomes exercised
