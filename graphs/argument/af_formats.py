"""Strict readers for argumentation-framework files: ICCMA 2023 (.af/.i23), ASPARTIX (.apx) and TGF (.tgf).

Every malformed input raises InputError naming the file, the line and the fix: a bad, huge or repeated header,
an argument out of range, undeclared or declared twice, a TGF file without its `#` line, binary or empty files.
Large files take vectorised fast paths (canonical .apx files: `apx_tokens`); when a fast path's checks fail, the
line-by-line reader runs to find and name the first bad line, so both paths accept and refuse exactly the same files.
"""

from __future__ import annotations

import mmap
import re
import warnings
from pathlib import Path

import numpy as np

from gauntlet.errors import InputError
from gauntlet.graphs.argument.apx_tokens import parse_canonical
from gauntlet.graphs.argument.framework import AF

_MAX_BYTES = 512 * 1024 * 1024
# Peak memory of `gauntlet af` (grounded, text or --json), measured: 48-94 bytes an argument on 10⁷ and 2·10⁷
# arguments with one attack; ~8 bytes a byte of file on 10⁷ random attacks (158 MB). The estimate rounds both up,
# and a framework whose estimate is over 3/4 of the memory available now is refused before the engine allocates.
_BYTES_PER_ARG = 120
_BYTES_PER_FILE_BYTE = 12
_MAP_FROM = 1 << 20  # .apx files from this size are read through a memory map
_NAME = r"[^,()\s%]+"
_APX_ARG = re.compile(rf"^[ \t]*arg\([ \t]*({_NAME})[ \t]*\)[ \t]*\.[ \t]*(?:%.*)?$")
_APX_ATT = re.compile(rf"^[ \t]*att\([ \t]*({_NAME})[ \t]*,[ \t]*({_NAME})[ \t]*\)[ \t]*\.[ \t]*(?:%.*)?$")
_HEADER = re.compile(r"^p[ \t]+af[ \t]+([0-9]+)[ \t]*$")
_HEADER_BYTES = re.compile(_HEADER.pattern.encode())
_PAIR = re.compile(r"^([0-9]+)[ \t]+([0-9]+)[ \t]*$")
_NOT_BLANK = re.compile(r"\S")
_FORMATS = {".apx": "apx", ".tgf": "tgf", ".af": "i23", ".i23": "i23"}


def read_af(path: str | Path) -> AF:
    """The framework in an ICCMA file, format chosen by extension."""
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InputError(f"unknown framework format {p.suffix or '(none)'!r}", file=str(p),
                         fix="use .apx (arg(a). att(a,b).), .tgf or .af/.i23 (ICCMA 2023)")
    try:
        size = p.stat().st_size
        if size > _MAX_BYTES:
            raise InputError("file is over 512 MB", file=str(p), fix="split the framework")
        mapped = fmt == "apx" and size >= _MAP_FROM
        if mapped:
            fast = _apx_mapped(p)
            if fast is not None:
                return fast
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=str(p), fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a directory", file=str(p), fix="give a framework file") from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", file=str(p), fix="check the path") from None
    return parse(raw, fmt, str(p), try_bytes=not mapped)


def _apx_mapped(p: Path) -> AF | None:
    """The byte reader on the file mapped in place (no 80 MB copy and its page faults at 10⁶ arguments)."""
    with open(p, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        af = parse_canonical(mapped)
    return af


def read_framework(path: str | Path) -> tuple[list, list[tuple]]:
    """(arguments, attacks) as names, for callers that want plain lists."""
    af = read_af(path)
    return af.names_of(range(af.n)), af.pairs()


def parse(raw: bytes | str, fmt: str, source: str, try_bytes: bool = True) -> AF:
    """The framework in `raw`; `try_bytes=False` when the byte reader has already stepped aside."""
    if fmt == "apx" and try_bytes:
        fast = parse_canonical(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
        if fast is not None:  # straight from the bytes; None: the checks and the line reader below decide
            return fast
    if isinstance(raw, bytes):
        if b"\0" in raw:
            raise InputError("binary file (NUL bytes)", file=source, line=raw[:raw.index(b"\0")].count(b"\n") + 1,
                             fix="give a text framework file")
        if fmt == "i23" and try_bytes and (fast := _i23_bytes(raw, source)) is not None:
            return fast
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError("not UTF-8 text", file=source, line=raw[:exc.start].count(b"\n") + 1,
                             fix="give a text framework file") from None
    else:
        text = raw
    if _NOT_BLANK.search(text) is None:
        raise InputError("empty file", file=source, line=1, fix=_EMPTY_FIX[fmt])
    return {"apx": parse_apx, "tgf": parse_tgf, "i23": parse_i23}[fmt](text, source)


_EMPTY_FIX = {"apx": "write arg(a). and att(a,b). statements", "tgf": "list arguments, a '#' line, then attacks",
              "i23": "start with the header 'p af N'"}


def memory_needed(n: int, file_bytes: int) -> int:
    """Bytes `gauntlet af` needs at its peak for a framework of n arguments read from a file of file_bytes."""
    return n * _BYTES_PER_ARG + file_bytes * _BYTES_PER_FILE_BYTE


def available_memory() -> int:
    """MemAvailable from /proc/meminfo (8 GB where there is none to read)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            return next(int(x.split()[1]) * 1024 for x in f if x.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return 8 * 1024**3


def check_room(n: int, file_bytes: int, source: str, line: int, available: int | None = None) -> None:
    """InputError when the framework would not fit: its estimate is over 3/4 of the available memory."""
    avail = available_memory() if available is None else available
    need = memory_needed(n, file_bytes)
    if need > avail // 4 * 3:
        most = max(0, (avail // 4 * 3 - file_bytes * _BYTES_PER_FILE_BYTE) // _BYTES_PER_ARG)
        raise InputError(f"header declares {n} arguments: ~{_gb(need)} of memory, {_gb(avail)} available "
                         f"(~{most} arguments at most)", file=source, line=line,
                         fix="check the header's argument count, or run on a machine with more memory")


def _gb(b: int) -> str:
    return f"{b / 1024**3:.1f} GB"


# --- ICCMA 2023: "p af N" then one "i j" attack per line; "#" starts a comment line -------------------------------
def parse_i23(text: str, source: str = "<af>") -> AF:
    lines = text.split("\n", 64)
    n = header_line = None
    for k, line in enumerate(lines[:-1] if len(lines) > 64 else lines, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = _HEADER.match(s)
        if not m:
            raise InputError(f"expected the header 'p af N', got {s[:40]!r}", file=source, line=k,
                             fix="start with 'p af N' (N arguments named 1..N)")
        n, header_line = int(m.group(1)), k
        break
    if n is None:
        raise InputError("no 'p af N' header in the first 64 lines", file=source, line=1,
                         fix="start with 'p af N' (N arguments named 1..N)")
    check_room(n, len(text), source, header_line)
    end = 0
    for _ in range(header_line):
        nl = text.find("\n", end)
        end = len(text) if nl < 0 else nl + 1
    body = text[end:]
    found = _i23_fast(body.encode("ascii", "replace"), n)
    if found is None:
        found = _i23_lines(body, n, source, header_line)
    src, dst = found
    return AF(n, src - 1, dst - 1, None)


def _i23_bytes(raw: bytes, source: str) -> AF | None:
    """The ICCMA reader on the file's bytes, without the text copies (two fewer copies of the file at the peak).
    None when a line before the header is not plain, or an attack line fails the fast checks: the text reader
    then decides, and names the line."""
    start = 0
    for k in range(1, 65):
        nl = raw.find(b"\n", start)
        stop = len(raw) if nl < 0 else nl
        s = raw[start:stop].strip()
        start = stop + 1
        if s and not s.startswith(b"#"):
            m = _HEADER_BYTES.match(s)
            if m is None:
                return None
            n = int(m.group(1))
            check_room(n, len(raw), source, k)
            found = _i23_fast(raw[start:], n)
            return None if found is None else AF(n, found[0] - 1, found[1] - 1, None)
        if nl < 0:
            return None
    return None


def _i23_fast(raw: bytes, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorised check and parse of the attack lines: only digits, blanks and newlines, two numbers of at most
    18 digits on every non-empty line, all in 1..n. None when any check fails (the line reader then explains)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    digit = np.empty(data.size + 2, dtype=bool)  # padded with a non-digit each side
    digit[0] = digit[-1] = False
    np.less(data - np.uint8(48), 10, out=digit[1:-1])
    # Only digits, blanks and newlines (a byte table would index through 8-byte integers: 10x slower).
    other = ~digit[1:-1]
    for byte in (32, 10, 9, 13):
        other &= data != byte
    if other.any():
        return None
    first = np.flatnonzero(digit[1:-1] & ~digit[:-2])  # where each number starts
    end = np.flatnonzero(digit[1:-1] & ~digit[2:]) + 1  # and ends
    if first.size % 2 or (end - first).max(initial=0) > 18:
        return None
    # Two numbers on every non-empty line: each pair's numbers share a line, and a newline separates pairs.
    line = np.searchsorted(np.flatnonzero(data == 10), first)
    if (line[1::2] != line[0::2]).any() or (line[2::2] <= line[1:-1:2]).any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fromstring(sep=) is the fast text parser numpy has
        values = np.fromstring(raw, dtype=np.int64, sep=" ") if first.size else np.zeros(0, np.int64)
    if values.size != first.size or values.size and (values.min() < 1 or values.max() > n):
        return None
    return values[0::2], values[1::2]


def _i23_lines(body: str, n: int, source: str, header_line: int) -> tuple[np.ndarray, np.ndarray]:
    pairs: list[int] = []
    for k, line in enumerate(body.split("\n"), header_line + 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if _HEADER.match(s) or s.startswith("p "):
            raise InputError("a second 'p af' header", file=source, line=k,
                             fix=f"keep only the header on line {header_line}")
        m = _PAIR.match(s)
        if not m:
            raise InputError(f"not an attack line: {s[:40]!r}", file=source, line=k,
                             fix="write 'i j' (argument i attacks j), numbers only")
        for x in m.groups():
            if len(x) > 18 or not 1 <= int(x) <= n:
                raise InputError(f"argument {x[:20]} is out of range 1..{n}", file=source, line=k,
                                 fix=f"use arguments 1..{n} or raise N in the header")
            pairs.append(int(x))
    arr = np.asarray(pairs, dtype=np.int64)
    return arr[0::2].copy(), arr[1::2].copy()


# --- ASPARTIX: one arg(a). or att(a,b). per line; "%" starts a comment ------------------------------------------
def parse_apx(text: str, source: str = "<apx>") -> AF:
    if _STATEMENT_LINE.search(text) is None:
        raise InputError("no arg(...) statements", file=source, line=1, fix=_EMPTY_FIX["apx"])
    return _apx_lines(text, source)


_TGF_HASH = re.compile(r"^[ \t]*#[ \t]*\r?$", re.M)
_STATEMENT_LINE = re.compile(r"^[ \t]*[^\s%]", re.M)


def _apx_lines(text: str, source: str) -> AF:
    """The line-by-line reader: the same language as the fast path, with the first bad line named."""
    index: dict[str, int] = {}
    pairs: list[tuple[str, str, int]] = []
    for k, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not s or s.startswith("%"):
            continue
        if (m := _APX_ARG.match(s)) is not None:
            if m.group(1) in index:
                raise InputError(f"argument {m.group(1)[:40]!r} is declared twice", file=source, line=k,
                                 fix="declare each argument once")
            index[m.group(1)] = len(index)
        elif (m := _APX_ATT.match(s)) is not None:
            pairs.append((m.group(1), m.group(2), k))
        else:
            raise InputError(f"not an APX statement: {s[:60]!r}", file=source, line=k,
                             fix="write arg(a). or att(a,b). one per line")
    return _named(list(index), index, pairs, source)


def _named(names: list[str], index: dict[str, int], pairs: list[tuple[str, str, int]], source: str) -> AF:
    flat = []
    for a, b, k in pairs:
        for x in (a, b):
            if x not in index:
                raise InputError(f"attack names undeclared argument {x[:40]!r}", file=source, line=k,
                                 fix="declare every argument")
            flat.append(index[x])
    idx = np.asarray(flat, dtype=np.int64)
    return AF(len(names), idx[0::2].copy(), idx[1::2].copy(), names, index)


# --- TGF: one argument per line, a "#" line, then one "a b" attack per line -----------------------------------------
def parse_tgf(text: str, source: str = "<tgf>") -> AF:
    lines = text.split("\n")
    first_hash = _TGF_HASH.search(text)
    if first_hash is None:
        raise InputError("no '#' line between the arguments and the attacks", file=source, line=len(lines),
                         fix="add a line with only '#' after the last argument")
    cut = text.count("\n", 0, first_hash.start())
    index: dict[str, int] = {}
    for k, line in enumerate(lines[:cut], 1):
        parts = line.split(None, 1)
        if not parts:
            continue
        if parts[0] in index:
            raise InputError(f"argument {parts[0][:40]!r} is declared twice", file=source, line=k,
                             fix="declare each argument once")
        index[parts[0]] = len(index)
    pairs = []
    for k, line in enumerate(lines[cut + 1:], cut + 2):
        parts = line.split()
        if not parts:
            continue
        if parts == ["#"]:
            raise InputError("a second '#' line", file=source, line=k, fix="keep one '#' line")
        if len(parts) < 2:
            raise InputError(f"an attack line needs two arguments: {line.strip()[:40]!r}", file=source, line=k,
                             fix="write 'a b' (a attacks b)")
        pairs.append((parts[0], parts[1], k))
    return _named(list(index), index, pairs, source)
