"""The simulator core is pure: it imports no Django, Channels or asyncio and reads no clock."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

SIM = pathlib.Path(__file__).resolve().parent.parent / "k8slearn" / "sim"


def test_importing_the_simulator_imports_no_django_channels_or_asyncio():
    code = (
        "import sys, k8slearn.sim\n"
        "bad = [m for m in ('django', 'channels', 'daphne', 'asyncio') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_simulator_never_reads_the_wall_clock():
    forbidden = re.compile(r"\b(import time\b|from time import|datetime\.now|datetime\.utcnow|"
                           r"date\.today|time\.time|time\.monotonic|perf_counter)")
    offenders = [
        f"{path.relative_to(SIM)}:{n}: {line.strip()}"
        for path in sorted(SIM.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []
