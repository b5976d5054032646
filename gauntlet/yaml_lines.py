"""Load YAML safely and remember the line of every key, so config errors can point at a line."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import yaml
from pydantic import BaseModel

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


# libyaml's safe loader where PyYAML was built with it: the same data and marks, ~10x faster (the failure-mode
# library is ~0.25 s of pure-Python parsing per process otherwise).
_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML with the safe loader; return the data and a map from key path to 1-based line."""
    node = yaml.compose(text, Loader=_SAFE)
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines)
    data = yaml.load(text, Loader=_SAFE)  # noqa: S506 - a safe loader
    return data, lines


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
            lines[path + (k,)] = key.start_mark.line + 1
            _walk(value, path + (k,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines)


def line_for(lines: dict[Path_, int], loc: Path_) -> int | None:
    """The line of the deepest known ancestor of loc."""
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def validated(model: type[M], data: Any, lines: dict[Path_, int], source: str,
              fix_for: Callable[[dict[str, Any]], str]) -> M:
    """`model.model_validate(data)`, or InputError naming the file, the line of the first bad field, the field and
    the fix (`fix_for` maps a pydantic error to advice for this kind of file)."""
    from pydantic import ValidationError

    from gauntlet.errors import InputError  # core sibling; imported here to keep this module's top light
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        raise InputError(err["msg"].removeprefix("Value error, "), file=source, line=line_for(lines, loc),
                         field=field, fix=fix_for(err)) from None
