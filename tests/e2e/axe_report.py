"""What the accessibility tests count as a failure, and how they print it."""

from __future__ import annotations

from typing import Any

BLOCKING = {"serious", "critical"}


def blocking(results: Any) -> list[dict]:
    """The serious and critical violations in an ``Axe.run`` result."""
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"  {violation['helpUrl']}"
        )
        for node in violation["nodes"][:10]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)
