"""The toy cluster: a small, deterministic Kubernetes that runs in pure Python.

Rules for everything under k8slearn/sim/:
 1. No I/O and no framework: never import django, channels, asyncio, or read the wall clock.
    Time is ``Cluster.clock`` (virtual, integer milliseconds); randomness is ``Cluster.rng``
    (seeded ``random.Random``). Never iterate over a ``set`` of strings where order matters:
    Python's string hashing is randomised per process, so use dicts or ``sorted()``.
 2. Same seed + same calls -> same history, byte for byte. Every bit of state lives in
    ``Cluster.store`` (API objects as real Kubernetes JSON), ``Cluster.clock`` (timers as data),
    ``Cluster.rng`` or ``Cluster.state`` (JSON-native internal tables), so ``snapshot()``
    round-trips exactly: restore, then continue == continue.
 3. Controllers are level-based: they read the store, never the event that woke them. A change to
    an object enqueues *keys*; ``reconcile(key)`` compares desired with current state and acts.

Theory of operation: ``Cluster.advance(seconds)`` runs every controller until the work queues are
empty (the cluster is "quiet"), then pops the next due timer (a container finishing its start-up,
a restart back-off expiring, a node's grace period running out …), sets the clock to its due
time, runs it, and repeats until the target time. Nothing happens between timers, so idle time
costs nothing and a 5-minute eviction is as cheap as a 5-second one.
"""

from __future__ import annotations

from k8slearn.sim.cluster import Cluster
from k8slearn.sim.errors import ApiError, SimError
from k8slearn.sim.kubectl.result import KubectlResult

__all__ = ["ApiError", "Cluster", "KubectlResult", "SimError"]
