"""Screen untrusted formal text before any prover sees it. Pure functions: no I/O, no processes.

Lean is a programming language: `#eval`, `run_cmd`, `initialize`, macros/elaborators, `IO` and friends run
arbitrary code *while the file is elaborated*, so "checking a proof" of hostile text can read files or spawn
processes. The screen is default-deny where it can be (imports, `#` commands, options) and a deny-list of
identifier components elsewhere. It matches on several normalised views of the text (raw NFKC, comments
blanked, «» unquoted, escapes decoded) and refuses if *any* view hits, so a disagreement between our
tokeniser and Lean's can only cause a false refusal, never a pass. Refusing something harmless (say `IO` in a
comment) is the accepted cost.

SMT-LIB is mostly data, but z3 honours `(set-option :regular-output-channel "FILE")` and similar, which writes
files; only an allow-list of commands and options is let through.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_LEAN_BYTES = 64 * 1024
MAX_SMT_BYTES = 256 * 1024

# Roots a theorem may import. Everything else could be a module that runs `initialize` code on load.
LEAN_IMPORT_ROOTS = ("Mathlib", "Batteries", "Std", "Init", "Lean", "Aesop", "Qq", "Plausible")
# Commands starting with '#': only #check is inert; #eval/#exit/#reduce/#guard_msgs… execute or cut the file.
LEAN_HASH_ALLOWED = ("#check",)
# Identifier components (split on '.') that reach code execution, the file system, the compiler, or let a
# file extend Lean's own parser/elaborator (macros can expand to any command, so they are refused outright).
LEAN_FORBIDDEN: dict[str, str] = {
    "IO": "IO actions run real side effects", "EIO": "IO actions run real side effects",
    "BaseIO": "IO actions run real side effects", "unsafe": "unsafe code escapes the kernel",
    "System": "System.* reaches files and processes", "Process": "spawns processes",
    "FilePath": "touches the file system", "FS": "touches the file system",
    "run_cmd": "runs code at elaboration time", "run_tac": "runs code at elaboration time",
    "run_elab": "runs code at elaboration time", "run_meta": "runs code at elaboration time",
    "initialize": "runs code when the module loads", "builtin_initialize": "runs code when the module loads",
    "init": "@[init] runs code when the module loads", "builtin_init": "runs code when the module loads",
    "extern": "@[extern] binds native code", "implemented_by": "@[implemented_by] swaps in unchecked code",
    "export": "@[export] exposes native symbols", "csimp": "@[csimp] swaps compiled code",
    "elab": "custom elaborators run code at elaboration time", "elab_rules": "custom elaborators run code",
    "macro": "macros can expand to any command", "macro_rules": "macros can expand to any command",
    "syntax": "new syntax can smuggle commands", "declare_syntax_cat": "new syntax can smuggle commands",
    "command_elab": "custom elaborators run code", "term_elab": "custom elaborators run code",
    "tactic": "@[tactic] registers code run by the elaborator", "Elab": "elaborator internals run code",
    "Meta": "meta-programming runs code", "MetaM": "meta-programming runs code",
    "CoreM": "meta-programming runs code", "TacticM": "meta-programming runs code",
    "TermElabM": "meta-programming runs code", "CommandElabM": "meta-programming runs code",
    "Environment": "edits the environment directly", "addDecl": "adds declarations past the elaborator",
    "evalConst": "evaluates arbitrary constants", "evalExpr": "evaluates arbitrary expressions",
    "evalDecl": "evaluates arbitrary declarations",
    # native_decide compiles the goal and trusts the compiled code (and any @[implemented_by] under it); its
    # proofs rest on the Lean.ofReduceBool axiom, so a "proved" verdict would not be kernel-checked.
    "native_decide": "native_decide runs compiled code and is not kernel-checked",
    "ofReduceBool": "trusts compiled code", "reduceBool": "trusts compiled code",
    # A file that may declare axioms can prove anything; a verdict must rest on Lean's own axioms only.
    "axiom": "declaring an axiom makes any statement provable",
    "opaque": "opaque constants can carry @[implemented_by] code",
}
# Options a proof may set. Everything else is refused (e.g. debug.skipKernelTC skips the kernel check).
LEAN_OPTIONS_ALLOWED = ("maxHeartbeats", "maxRecDepth", "linarith", "pp")
LEAN_MAX_HEARTBEATS = 1_000_000
LEAN_MAX_REC_DEPTH = 10_000

SMT_COMMANDS = frozenset({
    "set-logic", "set-info", "set-option", "declare-const", "declare-fun", "define-fun", "define-fun-rec",
    "define-funs-rec", "declare-sort", "define-sort", "declare-datatype", "declare-datatypes", "assert",
    "check-sat", "get-model", "get-value", "push", "pop", "exit"})
SMT_OPTIONS_ALLOWED = frozenset({":produce-models", ":produce-unsat-cores", ":produce-assignments"})


@dataclass(frozen=True)
class Screening:
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons

    def summary(self) -> str:
        more = len(self.reasons) - 6
        return "refused: " + "; ".join(self.reasons[:6]) + (f"; and {more} more" if more > 0 else "")


# --- Lean -----------------------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f][\w'!?\u2080-\u209c\u1d62-\u1d6a]*"
                    r"(?:\.[A-Za-z_][\w'!?]*)*")
_ESCAPE = re.compile(r"\\u\{([0-9A-Fa-f]{1,6})\}|\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})")


def _blank_comments(text: str) -> str:
    """Replace `-- …` and (nested) `/- … -/` comments by a space; a comment can split tokens for Lean."""
    out, i, depth, n = [], 0, 0, len(text)
    while i < n:
        if text.startswith("/-", i):
            depth += 1
            i += 2
            continue
        if depth and text.startswith("-/", i):
            depth -= 1
            i += 2
            if not depth:
                out.append(" ")
            continue
        if depth:
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            out.append(" ")
            i = n if j < 0 else j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _decode_escapes(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = int(next(g for g in m.groups() if g), 16)
        return chr(code) if code < 0x110000 else ""
    return _ESCAPE.sub(sub, text)


def _views(text: str) -> list[str]:
    base = unicodedata.normalize("NFKC", text)
    unquoted = base.replace("«", " ").replace("»", " ")  # `«IO»` is the identifier IO
    blanked = _blank_comments(unquoted)
    views = [base, unquoted, blanked, _decode_escapes(blanked)]
    # Glue views: a comment can sit inside what the eye reads as one token (`run/- -/_cmd` is not a token
    # for Lean, but refusing it costs nothing).
    views.append(re.sub(r"/-.*?-/", "", unquoted, flags=re.S))
    return views


def _line_of(text: str, needle: str) -> int | None:
    idx = text.find(needle)
    return None if idx < 0 else text.count("\n", 0, idx) + 1


def screen_lean(text: str) -> Screening:
    """Reasons to refuse `text` (empty when it may be handed to Lean)."""
    reasons: list[str] = []
    if len(text.encode("utf-8", "replace")) > MAX_LEAN_BYTES:
        return Screening((f"over {MAX_LEAN_BYTES // 1024} KB of Lean",))
    for ch in set(text):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Co", "Cs") and ch not in "\n\t\r":
            # Control, format (bidi overrides, zero-width joiners) and private-use characters hide tokens.
            reasons.append(f"invisible or control character U+{ord(ch):04X}")
    seen: set[str] = set()
    for view in _views(text):
        for m in re.finditer(r"#[A-Za-z_][\w!]*", view):
            cmd = m.group(0)
            if cmd not in LEAN_HASH_ALLOWED and cmd not in seen:
                seen.add(cmd)
                reasons.append(_at(text, cmd, f"`{cmd}` executes or alters the file (only #check is allowed)"))
        for m in _IDENT.finditer(view):
            for part in m.group(0).split("."):
                if part in LEAN_FORBIDDEN and part not in seen:
                    seen.add(part)
                    reasons.append(_at(text, part, f"`{part}`: {LEAN_FORBIDDEN[part]}"))
        for m in re.finditer(r"\bimport\b([^\n]*)", view):
            for module in m.group(1).split():
                root = module.split(".")[0]
                if root not in LEAN_IMPORT_ROOTS and ("import " + module) not in seen:
                    seen.add("import " + module)
                    reasons.append(_at(text, module, f"import of `{module}` (allowed roots: "
                                                     f"{', '.join(LEAN_IMPORT_ROOTS)})"))
        reasons += [r for r in _options(view, text) if r not in reasons]
    return Screening(tuple(dict.fromkeys(reasons)))


def _options(view: str, raw: str) -> list[str]:
    out = []
    for m in re.finditer(r"\bset_option\b\s*([^\s]*)\s*([^\s]*)", view):
        name, value = m.group(1), m.group(2)
        root = name.split(".")[0]
        if root not in LEAN_OPTIONS_ALLOWED:
            out.append(_at(raw, "set_option", f"`set_option {name}` is not allowed (allowed: "
                                              f"{', '.join(LEAN_OPTIONS_ALLOWED)})"))
            continue
        limit = {"maxHeartbeats": LEAN_MAX_HEARTBEATS, "maxRecDepth": LEAN_MAX_REC_DEPTH}.get(name)
        if limit is not None and not (value.isdigit() and 0 < int(value) <= limit):
            out.append(_at(raw, "set_option", f"`set_option {name} {value}` must be between 1 and {limit} "
                                              "(0 disables the limit)"))
    return out


def _at(raw: str, needle: str, reason: str) -> str:
    line = _line_of(raw, needle)
    return f"line {line}: {reason}" if line else reason


# --- SMT-LIB --------------------------------------------------------------------------------------------
def _smt_commands(text: str) -> tuple[list[tuple[str, list[str], int]], str | None]:
    """Top-level commands as (head, first tokens, line); or an error. Follows SMT-LIB 2.6 lexical rules."""
    cmds: list[tuple[str, list[str], int]] = []
    depth, i, n, line = 0, 0, len(text), 1
    current: list[str] | None = None
    start_line = 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == ";":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "|":
            j = text.find("|", i + 1)
            if j < 0:
                return cmds, f"line {line}: unterminated |quoted symbol|"
            line += text.count("\n", i, j)
            if current is not None and len(current) < 3 and depth == 1:
                current.append(text[i:j + 1])
            i = j + 1
        elif c == '"':
            j = i + 1
            while True:
                j = text.find('"', j)
                if j < 0:
                    return cmds, f"line {line}: unterminated string"
                if text.startswith('""', j):  # SMT-LIB escapes a quote by doubling it
                    j += 2
                    continue
                break
            line += text.count("\n", i, j)
            i = j + 1
        elif c == "(":
            depth += 1
            if depth == 1:
                current, start_line = [], line
            i += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return cmds, f"line {line}: unbalanced ')'"
            if depth == 0 and current is not None:
                cmds.append((current[0] if current else "", current[1:], start_line))
                current = None
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()";|':
                j += 1
            if depth == 0:
                return cmds, f"line {line}: text outside a command: {text[i:j][:40]!r}"
            if current is not None and len(current) < 3 and depth == 1:
                current.append(text[i:j])
            i = j
    if depth:
        return cmds, "unbalanced '(': a command is not closed"
    return cmds, None


def screen_smtlib(text: str) -> Screening:
    """Reasons to refuse SMT-LIB `text` (empty when z3 may parse it)."""
    if len(text.encode("utf-8", "replace")) > MAX_SMT_BYTES:
        return Screening((f"over {MAX_SMT_BYTES // 1024} KB of SMT-LIB",))
    if "\x00" in text:
        return Screening(("NUL byte in SMT-LIB text",))
    cmds, problem = _smt_commands(text)
    reasons = [problem] if problem else []
    for head, args, line in cmds:
        if head not in SMT_COMMANDS:
            reasons.append(f"line {line}: command `({head} …)` is not allowed (allowed: assert, declare-*, "
                           "define-*, set-logic, check-sat, get-model …)")
        elif head == "set-option" and (not args or args[0] not in SMT_OPTIONS_ALLOWED):
            reasons.append(f"line {line}: `(set-option {args[0] if args else ''} …)` is not allowed "
                           f"(allowed: {', '.join(sorted(SMT_OPTIONS_ALLOWED))}; the timeout is set by gauntlet)")
    # Defence in depth against a lexer disagreement with z3: these never belong in a claim.
    for word in ("output-channel", "smtlib2_log", "include", "trace_file"):
        if word in text:
            reasons.append(f"`{word}` can make z3 read or write files")
    if not problem and not any(h == "assert" for h, _, _ in cmds):
        reasons.append("nothing is asserted: assert the negation of the claim, e.g. (assert (not (>= x 0)))")
    return Screening(tuple(dict.fromkeys(reasons)))
