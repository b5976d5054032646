"""A random generator over a GBNF grammar, for tests: every string it yields is a sentence of the grammar text
(the very text a model would be constrained by), so properties of all sentences can be checked on many samples.

Covers the GBNF the provers emit: rules `name ::= body`, alternatives `|`, sequences, "literals" with escapes,
character classes `[a-z]` / `[^\\n]`, groups `( … )` and the postfixes `?`, `*`, `+`.
"""

from __future__ import annotations

import random
import re
from typing import Any

_TOKEN = re.compile(r'\s*(?:(?P<lit>"(?:[^"\\]|\\.)*")|(?P<cls>\[(?:[^\]\\]|\\.)*\])|(?P<name>[a-zA-Z0-9-]+)|'
                    r'(?P<op>::=|[|()?*+]))')
_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "]": "]", "[": "[", "-": "-", "^": "^"}
_PRINTABLE = [chr(c) for c in range(32, 127)]


def _unescape(body: str) -> list[str]:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            out.append(_ESC.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return out


def _class_chars(text: str) -> list[str]:
    body = _unescape(text[1:-1])
    negate = bool(body) and body[0] == "^"
    body = body[1:] if negate else body
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars |= {chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1)}
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return sorted(set(_PRINTABLE) - chars) if negate else sorted(chars)


def parse(grammar: str) -> dict[str, Any]:
    """{rule: expression}; an expression is ("alt", [seq…]), ("seq", [item…]), ("lit", str), ("cls", [chars]),
    ("ref", name) or ("rep", item, least, most)."""
    tokens, pos = [], 0
    text = grammar  # no comments: the provers' grammars carry none
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot read the grammar at {text[pos:pos + 30]!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    rules: dict[str, Any] = {}
    i = 0

    def alternatives(stop: set[str]) -> Any:
        nonlocal i
        seqs = [sequence(stop | {"|"})]
        while i < len(tokens) and tokens[i] == ("op", "|"):
            i += 1
            seqs.append(sequence(stop | {"|"}))
        return ("alt", seqs)

    def sequence(stop: set[str]) -> Any:
        nonlocal i
        items = []
        while i < len(tokens):
            kind, val = tokens[i]
            if kind == "op" and val in stop:
                break
            if kind == "name" and i + 1 < len(tokens) and tokens[i + 1] == ("op", "::="):
                break  # the next rule starts
            i += 1
            if kind == "lit":
                item: Any = ("lit", "".join(_unescape(val[1:-1])))
            elif kind == "cls":
                item = ("cls", _class_chars(val))
            elif kind == "name":
                item = ("ref", val)
            elif val == "(":
                item = alternatives({")"})
                i += 1  # the ")"
            else:
                raise ValueError(f"unexpected {val!r}")
            while i < len(tokens) and tokens[i][0] == "op" and tokens[i][1] in "?*+":
                item = ("rep", item, 0 if tokens[i][1] in "?*" else 1, 1 if tokens[i][1] == "?" else 3)
                i += 1
            items.append(item)
        return ("seq", items)

    while i < len(tokens):
        kind, name = tokens[i]
        if kind != "name" or tokens[i + 1] != ("op", "::="):
            raise ValueError(f"expected a rule at {name!r}")
        i += 2
        rules[name] = alternatives(set())
    return rules


def sample(rules: dict[str, Any], rng: random.Random, start: str = "root") -> str:
    out: list[str] = []

    def walk(e: Any) -> None:
        kind = e[0]
        if kind == "alt":
            walk(rng.choice(e[1]))
        elif kind == "seq":
            for item in e[1]:
                walk(item)
        elif kind == "lit":
            out.append(e[1])
        elif kind == "cls":
            out.append(rng.choice(e[1]))
        elif kind == "ref":
            walk(rules[e[1]])
        else:
            for _ in range(rng.randint(e[2], e[3])):
                walk(e[1])
    walk(rules[start])
    return "".join(out)
