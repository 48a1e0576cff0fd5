"""Loaded by the Daphne processes that bench/classroom_load.py starts (PYTHONPATH): logs every
full garbage collection (generation 2) with its duration and the monotonic time it ended, and,
on SIGUSR1, collects once and freezes the heap (gc.freeze(): what the app would gain by freezing
its start-up objects). Active only with K8SLEARN_BENCH_GC_LOG=1; nothing of the app changes."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

if os.environ.get("K8SLEARN_BENCH_GC_LOG") == "1":
    _started = [0.0]

    def _on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
        elif info["generation"] == 2:
            ms = (time.perf_counter() - _started[0]) * 1000
            sys.stderr.write(f"bench-gc gen2 {ms:.1f} ms at {time.monotonic():.3f}\n")
            sys.stderr.flush()

    def _freeze(*_: object) -> None:
        gc.collect()
        gc.freeze()
        sys.stderr.write(f"bench-gc frozen {gc.get_freeze_count()} objects\n")
        sys.stderr.flush()

    gc.callbacks.append(_on_gc)
    signal.signal(signal.SIGUSR1, _freeze)
