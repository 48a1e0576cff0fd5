"""A virtual clock: a heap of timers, in the style of SimPy's core.

Time is an integer number of milliseconds, so that adding 0.1 s a thousand times lands exactly on
100 s and snapshots compare equal. Timers are plain data ``[due_ms, priority, seq, kind, args]``
(JSON-native) dispatched by ``kind`` to a handler registered on the Cluster; handlers re-check
the state they act on, so a stale timer (for a pod that is gone, say) is simply a no-op. That is
also how "cancelling" works: nothing is ever removed from the heap early.
"""

from __future__ import annotations

import heapq
from typing import Any

Timer = list[Any]  # [due_ms, priority, seq, kind, args]


def to_ms(seconds: float) -> int:
    return int(round(seconds * 1000))


class VirtualClock:
    def __init__(self, now_ms: int = 0) -> None:
        self.now_ms = now_ms
        self._heap: list[Timer] = []
        self._seq = 0

    @property
    def now(self) -> float:
        """Virtual seconds since the cluster was created."""
        return self.now_ms / 1000

    def call_at_ms(self, due_ms: int, kind: str, args: list[Any], priority: int = 0) -> None:
        # seq breaks ties deterministically: equal (due, priority) run in scheduling order.
        self._seq += 1
        heapq.heappush(self._heap, [max(due_ms, self.now_ms), priority, self._seq, kind, args])

    def call_later(self, seconds: float, kind: str, args: list[Any], priority: int = 0) -> None:
        """Run timer ``kind`` with ``args`` after ``seconds`` of virtual time."""
        self.call_at_ms(self.now_ms + to_ms(seconds), kind, args, priority)

    def peek(self) -> int | None:
        """Due time (ms) of the next timer, or None."""
        return self._heap[0][0] if self._heap else None

    def pop(self) -> Timer:
        return heapq.heappop(self._heap)

    def __len__(self) -> int:
        return len(self._heap)

    def to_dict(self) -> dict[str, Any]:
        return {"now_ms": self.now_ms, "seq": self._seq, "heap": [list(t) for t in self._heap]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VirtualClock:
        clock = cls(d["now_ms"])
        clock._seq = d["seq"]
        clock._heap = [list(t) for t in d["heap"]]  # a valid heap stays a valid heap
        return clock
