"""A port of Go's ``text/tabwriter`` (the subset kubectl uses), so columns align byte for byte.

Cells are the tab-terminated pieces of a line; the last piece of a line is not part of a column
and is never padded. A *column block* is a run of consecutive lines that all have a cell in that
column; each block gets its own width = max(minwidth, widest cell + padding). That is why, in
``kubectl describe``, ``Name:`` … ``IP:`` align with each other but not with the ``Containers:``
section below them.
"""

from __future__ import annotations


def _cell_width(text: str) -> int:
    return len(text)


def tabwrite(text: str, minwidth: int = 0, padding: int = 2, trailing: bool = True) -> str:
    """Format ``text`` (lines with ``\\t``-separated cells) as ``tabwriter.Writer`` would.

    ``trailing`` keeps the final newline of ``text`` when present.
    """
    ends_nl = text.endswith("\n")
    raw = text[:-1].split("\n") if ends_nl else text.split("\n")
    lines = [ln.split("\t") for ln in raw]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts: list[str] = []
            for j, cell in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(cell + " " * max(0, widths[j] - _cell_width(cell)))
                else:
                    parts.append(cell)
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                cells = lines[this]
                if column >= len(cells) - 1:
                    break
                w = _cell_width(cells[column]) + padding
                width = max(width, w)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(lines))
    result = "\n".join(out)
    if ends_nl and trailing:
        result += "\n"
    return result


def table(rows: list[list[str]]) -> str:
    """kubectl's table printer: tabwriter(minwidth=6, padding=3), one row per line."""
    return tabwrite("".join("\t".join(r) + "\n" for r in rows), minwidth=6, padding=3)
