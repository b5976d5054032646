"""The vectorised ASPARTIX (.apx) reader: one pass over the file's bytes, names interned to ints by a hash table.

Made for the canonical files that generators write (one `arg(a).` or `att(a,b).` per line, no blanks, comments or
carriage returns); anything else returns None and the line-by-line reader in `af_formats` decides, so both accept
and refuse exactly the same files (that reader names the first bad line). The steps, numpy over the bytes:
  1. line bounds from the newline positions; each line must read `arg(` or `att(` … `).` with exactly one `(`,
     one `)`, and one comma on attack lines only;
  2. every name becomes up to 8 little-endian uint64 words read in place (an unaligned strided view of the bytes,
     no copy per name), zero-padded past its end (names never contain NUL);
  3. declared names go into an open-addressing table (linear probing, built and probed in vectorised rounds);
     attack endpoints are looked up in it, their words compared in full, so a hash collision cannot mislabel.
Work runs in blocks of ~10⁵ items: the temporaries then stay in cache and in reused heap memory (on this VM a
fresh 50 MB numpy temporary costs ~0.1 s in page faults alone). 10⁶ arguments, 3·10⁶ attacks: ~0.5 s, where
per-name dict lookups took ~5 s.
"""

from __future__ import annotations

import re

import numpy as np

from gauntlet.graphs.argument.framework import AF

_MAX_WORDS = 8  # names up to 64 bytes take this path; longer ones the line reader (rare, and still correct)
_BLOCK = 1 << 17  # items per vectorised block
_BYTE_BLOCK = 1 << 22
# The fast path accepts printable ASCII except "%" (comments), newlines and UTF-8 bytes >= 0x80 when the text has
# none of the Unicode blanks below (the line reader's \s treats them as separators).
_UNICODE_BLANK = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)  # the low k bytes of a word
_ARG, _ATT = (int.from_bytes(w, "little") for w in (b"arg(", b"att("))
_CLOSE = int.from_bytes(b").", "little")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xFF51AFD7ED558CCD)


def parse_canonical(raw: bytes) -> AF | None:
    """The framework in a canonical .apx file, or None when the file is not canonical or the table path cannot
    decide (duplicate names, undeclared names, names over 64 bytes): the line reader then reads it."""
    if len(raw) < 8:
        return None  # too short for the word reads below; the line reader is instant here anyway
    data = np.frombuffer(raw, dtype=np.uint8)
    scan = _scan(data)
    if scan is None:
        return None
    newline, comma, brackets, non_ascii = scan
    if non_ascii:
        try:
            if _UNICODE_BLANK.search(raw[:].decode("utf-8")):
                return None
        except UnicodeDecodeError:
            return None
    lines = _lines(data, newline, comma, brackets)
    if lines is None:
        return None
    is_arg, start, end = lines
    reader = _Words(data)
    arg_lo, arg_hi = start[is_arg] + 4, end[is_arg] - 2
    if arg_lo.size == 0:
        return None
    width = int(-(-int((arg_hi - arg_lo).max(initial=1)) // 8))
    if width > _MAX_WORDS:
        return None
    declared = np.concatenate([reader.words(arg_lo[k:k + _BLOCK], arg_hi[k:k + _BLOCK], width)
                               for k in range(0, arg_lo.size, _BLOCK)])
    table = _Table(declared)
    if not table.unique():
        return None  # a name declared twice
    att_lo, att_hi = start[~is_arg] + 4, end[~is_arg] - 2
    src = np.empty(comma.size, dtype=np.int64)
    dst = np.empty(comma.size, dtype=np.int64)
    for k in range(0, comma.size, _BLOCK):
        cut = slice(k, k + _BLOCK)
        for out, lo, hi in ((src, att_lo[cut], comma[cut]), (dst, comma[cut] + 1, att_hi[cut])):
            if (hi <= lo).any() or (hi - lo > 8 * width).any():
                return None  # an empty name, or one longer than every declared name
            found = table.find(reader.words(lo, hi, width))
            if (found < 0).any():
                return None  # an undeclared name: the line reader names its line
            out[cut] = found
    return AF(int(arg_lo.size), src, dst, _names(raw, data, is_arg, arg_lo, arg_hi))


def _scan(data: np.ndarray):
    """(newline positions, comma positions, [count of "(", of ")"], any byte >= 0x80) in one blockwise pass;
    None on a blank, control byte, DEL or "%" (not canonical)."""
    buf = np.empty(min(_BYTE_BLOCK, data.size), dtype=bool)
    newlines, commas, brackets, non_ascii = [], [], [0, 0], False
    for k in range(0, data.size, _BYTE_BLOCK):
        block = data[k:k + _BYTE_BLOCK]
        b = buf[:block.size]
        nl = np.flatnonzero(np.equal(block, 10, out=b))
        if np.count_nonzero(np.less(block, 0x21, out=b)) != nl.size or np.equal(block, 0x7F, out=b).any() \
                or np.equal(block, 0x25, out=b).any():
            return None
        newlines.append(nl + k)
        commas.append(np.flatnonzero(np.equal(block, 44, out=b)) + k)
        brackets[0] += int(np.count_nonzero(np.equal(block, 40, out=b)))
        brackets[1] += int(np.count_nonzero(np.equal(block, 41, out=b)))
        non_ascii = non_ascii or bool(np.greater_equal(block, 0x80, out=b).any())
    return np.concatenate(newlines), np.concatenate(commas), brackets, non_ascii


def _lines(data: np.ndarray, newline: np.ndarray, comma: np.ndarray, brackets: list[int]):
    """(is_arg, start, end) of the non-empty lines; None when a line is not `arg(…).` / `att(…,…).`, a "(" or
    ")" is inside a name, or the commas are not one per attack line."""
    size = data.size
    start = np.concatenate(([0], newline + 1))
    end = np.concatenate((newline, [size]))
    if newline.size and newline[-1] == size - 1:  # the usual final newline: no line after it
        start, end = start[:-1], end[:-1]
    keep = end > start
    if not keep.all():
        start, end = start[keep], end[keep]
    if start.size == 0 or (end - start < 7).any() or brackets != [start.size, start.size]:
        return None
    head = _view(data, "<u4")[start]  # the first four bytes of each line as one number
    is_arg = head == _ARG
    is_att = head == _ATT
    if not (is_arg | is_att).all() or not (_view(data, "<u2")[end - 2] == _CLOSE).all():
        return None
    if comma.size != np.count_nonzero(is_att):
        return None
    # As many commas as attack lines, both in file order: the k-th comma inside the k-th attack line's brackets
    # means one comma on each attack line and none elsewhere.
    if not ((comma > start[is_att] + 3) & (comma < end[is_att] - 2)).all():
        return None
    return is_arg, start, end


def _view(data: np.ndarray, dtype: str) -> np.ndarray:
    """Every byte offset read as the start of a little-endian number (an unaligned view: no copy)."""
    width = np.dtype(dtype).itemsize
    return np.ndarray((data.size - width + 1,), dtype=dtype, buffer=data, strides=(1,))


class _Words:
    """Names as zero-padded uint64 words read from the file's bytes."""

    def __init__(self, data: np.ndarray) -> None:
        self.view, self.last = _view(data, "<u8"), data.size - 8

    def words(self, lo: np.ndarray, hi: np.ndarray, width: int) -> np.ndarray:
        """Shape (names, width); the caller ensures hi - lo <= 8 * width."""
        out = np.empty((lo.size, width), dtype=np.uint64)
        length = hi - lo
        for w in range(width):
            at = lo + 8 * w
            inside = np.minimum(at, self.last)  # a word reaching past the file: read the last 8 bytes, shift
            word = self.view[inside]
            if inside[-1:].size and inside[-1] != at[-1]:
                word >>= (8 * (at - inside)).astype(np.uint64)
            out[:, w] = word & _MASKS[np.clip(length - 8 * w, 0, 8)]
        return out


def _hash(words: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row; for one word a bijection (xor-shift, odd multiply): equal hash, equal name."""
    h = words[:, 0].copy()
    for w in range(1, words.shape[1]):
        h = (h ^ (h >> np.uint64(29))) * _MIX + words[:, w]
    h ^= h >> np.uint64(32)
    return h * _GOLDEN


class _Table:
    """An open-addressing hash table of the declared names (linear probing, load factor <= 1/2)."""

    def __init__(self, words: np.ndarray) -> None:
        bits = max(4, int(2 * words.shape[0] - 1).bit_length() + 1)
        self.words, self.key_hash = words, _hash(words)
        self.shift, self.mask = np.uint64(64 - bits), (1 << bits) - 1
        self.slots = np.full(1 << bits, -1, dtype=np.int32 if words.shape[0] < 2**31 else np.int64)
        pending = np.arange(words.shape[0])
        slot = (self.key_hash >> self.shift).astype(np.int64)
        while pending.size:  # empty slots are taken, one winner per slot a round; the rest probe the next slot
            free = self.slots[slot] < 0
            self.slots[slot[free]] = pending[free]
            lost = self.slots[slot] != pending
            pending, slot = pending[lost], (slot[lost] + 1) & self.mask

    def unique(self) -> bool:
        """No name declared twice: each name finds itself (a repeat finds its twin)."""
        n = self.words.shape[0]
        return all(np.array_equal(self.find(self.words[k:k + _BLOCK]), np.arange(k, min(k + _BLOCK, n)))
                   for k in range(0, n, _BLOCK))

    def find(self, query: np.ndarray) -> np.ndarray:
        """Positions of the query names (one block), -1 for names not in the table."""
        qh = _hash(query)
        slot = (qh >> self.shift).astype(np.int64)
        cand = self.slots[slot]
        found = self._hits(cand, qh, query, np.arange(qh.size)) if self.words.shape[1] > 1 else \
            np.where(self.key_hash[cand] == qh, cand, -1)  # one word: equal hash is equal name
        found[cand < 0] = -1  # an empty slot (cand -1 read the last key above)
        todo = np.flatnonzero((found < 0) & (cand >= 0))  # the home slot holds another name: probe on
        while todo.size:
            slot[todo] = (slot[todo] + 1) & self.mask
            cand = self.slots[slot[todo]]
            got = self._hits(cand, qh[todo], query, todo)
            got[cand < 0] = -1
            found[todo] = got
            todo = todo[(got < 0) & (cand >= 0)]
        return found

    def _hits(self, cand: np.ndarray, qh: np.ndarray, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """cand where it holds the query name (hash, then every word for longer names), else -1."""
        hit = self.key_hash[cand] == qh
        if self.words.shape[1] > 1 and hit.any():
            at = np.flatnonzero(hit)
            hit[at[~(self.words[cand[at]] == query[rows[at]]).all(axis=1)]] = False
        return np.where(hit, cand, -1)


def _names(raw: bytes, data: np.ndarray, is_arg: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[str]:
    """The declared names as strings. Consecutive `arg(…).` lines (the usual layout) are one split of the block;
    otherwise the names' bytes are picked out and split on the ")" kept after each."""
    if lo.size == 0:
        return []
    rows = np.flatnonzero(is_arg)
    if rows[-1] - rows[0] == rows.size - 1:
        names = raw[lo[0]:hi[-1]].decode("utf-8").split(").\narg(")
        if len(names) == lo.size:
            return names
    keep = np.zeros(data.size + 1, dtype=np.int8)
    keep[lo] += 1
    keep[hi + 1] -= 1  # keep the ")" after each name as a separator
    picked = data[np.cumsum(keep[:-1], dtype=np.int8).view(bool)]
    return picked.tobytes().decode("utf-8").split(")")[:-1]
