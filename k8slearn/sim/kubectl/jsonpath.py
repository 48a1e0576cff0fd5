"""A small subset of kubectl's JSONPath (``-o jsonpath=…`` and ``--sort-by``).

Supported: text with ``{…}`` expressions, ``.field`` chains, ``['key.with.dots']``, ``[N]``,
``[*]``, ``..`` is not supported; ``{range EXPR}…{end}``, and string literals ``{"\\n"}``.
Multiple results of one expression are joined by a space, as kubectl does.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(r"\.([A-Za-z0-9_$@-]+)|\[(\*|-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class JsonPathError(ValueError):
    pass


def _steps(expr: str) -> list[str | int]:
    expr = expr.strip()
    if expr.startswith("$"):
        expr = expr[1:]
    if expr and not expr.startswith((".", "[")):
        expr = "." + expr
    steps: list[str | int] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise JsonPathError(f"unrecognized character in action: {expr[pos:]!r}")
        if m.group(1) is not None:
            steps.append(m.group(1))
        elif m.group(2) is not None:
            steps.append("*" if m.group(2) == "*" else int(m.group(2)))
        else:
            steps.append(m.group(3) if m.group(3) is not None else m.group(4))
        pos = m.end()
    return steps


def evaluate(expr: str, data: Any) -> list[Any]:
    """All values ``expr`` selects in ``data`` (missing paths select nothing)."""
    current = [data]
    for step in _steps(expr):
        nxt: list[Any] = []
        for v in current:
            if step == "*":
                if isinstance(v, list):
                    nxt.extend(v)
                elif isinstance(v, dict):
                    nxt.extend(v.values())
            elif isinstance(step, int):
                if isinstance(v, list) and -len(v) <= step < len(v):
                    nxt.append(v[step])
            elif isinstance(v, dict) and step in v:
                nxt.append(v[step])
        current = nxt
    return current


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, separators=(",", ":"), sort_keys=True)
    return str(v)


def _parse(template: str) -> list[tuple[str, str]]:
    """-> [("text", s) | ("expr", e) | ("range", e) | ("end", "")]."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            out.append(("text", template[i:]))
            break
        if j > i:
            out.append(("text", template[i:j]))
        k = template.find("}", j)
        if k < 0:
            raise JsonPathError("unclosed action")
        body = template[j + 1:k].strip()
        if body.startswith('"') and body.endswith('"') and len(body) >= 2:
            out.append(("text", body[1:-1].encode().decode("unicode_escape")))
        elif body.startswith("range "):
            out.append(("range", body[6:].strip()))
        elif body == "end":
            out.append(("end", ""))
        else:
            out.append(("expr", body))
        i = k + 1
    return out


def render(template: str, data: Any) -> str:
    """Execute a kubectl JSONPath template against ``data``."""
    parts = _parse(template)
    out, _ = _run(parts, 0, data)
    return out


def _run(parts: list[tuple[str, str]], i: int, data: Any) -> tuple[str, int]:
    out: list[str] = []
    while i < len(parts):
        kind, val = parts[i]
        if kind == "text":
            out.append(val)
        elif kind == "expr":
            out.append(" ".join(_fmt(v) for v in evaluate(val, data)))
        elif kind == "range":
            depth, j = 1, i + 1
            while j < len(parts) and depth:
                depth += {"range": 1, "end": -1}.get(parts[j][0], 0)
                j += 1
            if depth:
                raise JsonPathError("not in range, nothing to end")
            body = parts[i + 1:j - 1]
            for item in evaluate(val, data):
                text, _ = _run(body, 0, item)
                out.append(text)
            i = j
            continue
        else:
            raise JsonPathError("not in range, nothing to end")
        i += 1
    return "".join(out), i


def sort_key(expr: str) -> Any:
    """A key function for ``--sort-by``: missing values sort first, numbers before text."""
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]

    def key(obj: Any) -> tuple[int, Any]:
        vals = evaluate(expr, obj)
        if not vals:
            return (0, "")
        v = vals[0]
        if isinstance(v, bool):
            return (1, int(v))
        if isinstance(v, int | float):
            return (1, v)
        return (2, _fmt(v))

    return key
