"""ICCMA argumentation-framework files: ASPARTIX (.apx), Trivial Graph Format (.tgf) and ICCMA 2023 (.af/.i23)."""

from __future__ import annotations

import re
from pathlib import Path

from gauntlet.errors import InputError

_APX = re.compile(r"^\s*(arg|att)\(\s*([^,()\s]+)\s*(?:,\s*([^,()\s]+)\s*)?\)\s*\.\s*(?:%.*)?$")
_MAX_BYTES = 512 * 1024 * 1024

Framework = tuple[list[str], list[tuple[str, str]]]


def read_framework(path: str | Path) -> Framework:
    """Arguments and attacks from an ICCMA file, chosen by extension. Errors name the file and line."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".apx", ".tgf", ".af", ".i23"):
        raise InputError(f"unknown framework format {suffix or '(none)'!r}", file=str(p),
                         fix="use .apx (arg(a). att(a,b).), .tgf or .af/.i23 (ICCMA 2023)")
    try:
        if p.stat().st_size > _MAX_BYTES:
            raise InputError("file is over 512 MB", file=str(p), fix="split the framework")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=str(p), fix="check the path") from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(p), fix="give a text framework file") from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", file=str(p), fix="check the path") from None
    parse = {".apx": parse_apx, ".tgf": parse_tgf}.get(suffix, parse_i23)
    return parse(text, str(p))


def _check(args: list[str], attacks: list[tuple[str, str, int]], source: str) -> Framework:
    known = set(args)
    for a, b, line in attacks:
        for x in (a, b):
            if x not in known:
                raise InputError(f"attack names undeclared argument {x!r}", file=source, line=line,
                                 fix="declare every argument before it is used")
    return list(dict.fromkeys(args)), [(a, b) for a, b, _ in attacks]


def parse_apx(text: str, source: str = "<apx>") -> Framework:
    args: list[str] = []
    attacks: list[tuple[str, str, int]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("%"):
            continue
        m = _APX.match(line)
        if not m or (m.group(1) == "arg") != (m.group(3) is None):
            raise InputError(f"not an APX statement: {line.strip()[:60]!r}", file=source, line=n,
                             fix="write arg(a). or att(a,b).")
        if m.group(1) == "arg":
            args.append(m.group(2))
        else:
            attacks.append((m.group(2), m.group(3), n))
    return _check(args, attacks, source)


def parse_tgf(text: str, source: str = "<tgf>") -> Framework:
    args: list[str] = []
    attacks: list[tuple[str, str, int]] = []
    in_edges = False
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        if s == "#":
            in_edges = True
            continue
        parts = s.split()
        if not in_edges:
            args.append(parts[0])
        elif len(parts) >= 2:
            attacks.append((parts[0], parts[1], n))
        else:
            raise InputError(f"edge line needs two arguments: {s[:60]!r}", file=source, line=n,
                             fix="write 'a b' for a attacks b")
    return _check(args, attacks, source)


def parse_i23(text: str, source: str = "<af>") -> Framework:
    args: list[str] = []
    attacks: list[tuple[str, str, int]] = []
    header = False
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if parts[0] == "p":
            if len(parts) != 3 or parts[1] != "af" or not parts[2].isdigit():
                raise InputError("bad header", file=source, line=n, fix="write 'p af N'")
            args = [str(i) for i in range(1, int(parts[2]) + 1)]
            header = True
        elif not header:
            raise InputError("attack before the 'p af N' header", file=source, line=n,
                             fix="start with 'p af N'")
        elif len(parts) == 2 and all(x.isdigit() for x in parts):
            attacks.append((parts[0], parts[1], n))
        else:
            raise InputError(f"not an attack line: {s[:60]!r}", file=source, line=n, fix="write 'i j'")
    return _check(args, attacks, source)
