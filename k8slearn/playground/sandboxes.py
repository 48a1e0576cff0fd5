"""Running sandboxes: the per-process registry, the ticker and persistence.

Every ``Cluster`` call happens on the event-loop thread (the consumers, the ticker and the page
views through ``async_to_sync``), so nothing here needs a lock around the cluster. The database
is reached through ``database_sync_to_async`` with data that is already serialised.

* A sandbox belongs to one session and one context ("play" or a lesson id); its id is
  unguessable and a socket may attach only with the owning session.
* Changes are rendered once per language that has sockets and sent to the group
  ``sbx.<id>.<lang>`` (always through the channel layer).
* The ticker (one task per process) advances each unpaused sandbox that has sockets by
  wall-time elapsed × speed every ``TICK_SECONDS``; a sandbox nobody watches stands still.
* Persistence (see below): a snapshot plus a journal of the steps since. Saved after every
  action (the reply goes first; writes are batched), every ``SAVE_EVERY`` seconds while a
  sandbox ticks, when its last socket closes and when it is evicted. A sandbox without sockets
  for ``IDLE_SECONDS`` is saved and leaves memory; the next visit restores it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from k8slearn.playground import actions, owners
from k8slearn.playground import board as vm
from k8slearn.playground.actions import ActionError, Command, Step, message
from k8slearn.sim import Cluster, scenarios, steps

logger = logging.getLogger(__name__)
timing = logging.getLogger("k8slearn.playground.timing")

TICK_SECONDS = 0.5  # a learner sees time-driven changes at most every UPDATE_EVERY anyway
SAVE_EVERY = 5.0  # seconds of wall time between saves of a ticking sandbox (its clock)
SNAPSHOT_EVERY = 60.0  # ... and between fresh snapshots while its objects change
JOURNAL_MAX = 50  # steps kept in the journal before a fresh snapshot replaces them
IDLE_SECONDS = 300.0  # no sockets for this long: save and leave memory
UPDATE_EVERY = 1.0  # seconds between two time-driven board updates of one sandbox
YIELD_AFTER = 0.004  # seconds of ticker work before other tasks get the loop
# The browser runs the clock and the pods' AGE itself (playground.js) from the virtual time each
# update carries; with nothing else to say, the server re-syncs it this often.
CLOCK_SYNC_EVERY = 15.0
MAX_OUTPUT = 16 * 1024  # kubectl output shown in the terminal, in characters
DEFAULT_SCENARIO = "web"
PLAY = "play"
LANGS = ("ko", "en")


class Busy(Exception):
    """This process runs as many sandboxes as it may (``PLAYGROUND_MAX_LIVE_SANDBOXES``)."""


def max_live() -> int:
    return int(getattr(settings, "PLAYGROUND_MAX_LIVE_SANDBOXES", 2000))


def group_name(sandbox_id: str, lang: str) -> str:
    return f"sbx.{sandbox_id}.{lang}"


def _render() -> Any:
    # Imported late: render.py imports templates and the board view-models.
    from k8slearn.playground import render

    return render


# --------------------------------------------------------------------------- lessons


@dataclass
class Setup:
    """How a context starts: a named scenario or a lesson's own manifests, plus exercises."""

    scenario: str
    manifests: str | None = None
    nodes: int = 3
    exercises: list[Any] = field(default_factory=list)
    lesson: Any = None

    @property
    def paused(self) -> bool:
        """Exercises that teach step by step start with the clock paused."""
        return any(bool(_field(e, "paused", False)) for e in self.exercises[:1])


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def lesson_setup(context: str) -> Setup | None:
    """The playground block of lesson ``context`` (None when it has none)."""
    from k8slearn.courses.loader import get_course

    lesson = get_course().get(context)
    block = getattr(lesson, "playground", None) if lesson is not None else None
    if not block:
        return None
    return Setup(
        scenario=_field(block, "scenario") or DEFAULT_SCENARIO,
        manifests=_field(block, "manifests") or None,
        nodes=_field(block, "nodes") or 3,
        exercises=list(_field(block, "exercises") or ()),
        lesson=lesson,
    )


def lesson_of(context: str) -> str:
    """The lesson a context plays: "self-healing", or "self-healing#class-3" for a class's
    presenter sandbox (the instructor's own copy of the lesson stays apart)."""
    return context.partition("#")[0]


def _setup_for(context: str, scenario: str) -> Setup:
    if context == PLAY:
        return Setup(scenario=scenario if scenario in scenarios.SCENARIOS else DEFAULT_SCENARIO)
    setup = lesson_setup(lesson_of(context))
    if setup is None:
        return Setup(scenario=DEFAULT_SCENARIO)
    return setup


def _build(setup: Setup) -> Cluster:
    if setup.manifests:
        return scenarios.build_from_manifests(setup.manifests, nodes=setup.nodes)
    return scenarios.build(setup.scenario)


def _trackers(setup: Setup, cluster: Cluster, saved: dict[str, Any] | None) -> dict[str, Any]:
    if not setup.exercises:
        return {}
    from k8slearn.sim import goals

    trackers: dict[str, Any] = {}
    for exercise in setup.exercises:
        ex_id = _field(exercise, "id")
        spec = _field(exercise, "goal")
        if not ex_id or spec is None:
            continue
        state = (saved or {}).get(ex_id)
        # A goal edited since the save starts again; an unchanged one goes on where it was.
        if isinstance(state, dict) and state.get("spec") == spec:
            try:
                trackers[ex_id] = goals.GoalTracker.from_dict(state)
                continue
            except (KeyError, TypeError, ValueError):
                logger.warning("goal %s could not be restored; starting it again", ex_id)
        trackers[ex_id] = goals.GoalTracker(spec, cluster)
    return trackers


# --------------------------------------------------------------------------- live sandboxes


@dataclass
class LiveSandbox:
    """One running sandbox. Also the ``sandbox`` object that ``render`` receives."""

    id: str
    session_key: str
    context: str
    scenario: str
    cluster: Cluster
    setup: Setup
    speed: int = 1
    paused: bool = False
    trackers: dict[str, Any] = field(default_factory=dict)
    sockets: dict[str, int] = field(default_factory=dict)  # lang -> open sockets
    version_sent: int | None = None
    seq_sent: int | None = None  # the last event's seq at version_sent
    last_active: float = field(default_factory=time.monotonic)
    last_saved: float = field(default_factory=time.monotonic)
    last_clock_sent: float = 0.0
    last_published: float = 0.0
    clock_shown: int = -1
    traffic_sent: str = ""
    generation: int = 0  # +1 on every reset or change of scenario (see board_token)
    dirty: bool = False
    journal: list[Any] = field(default_factory=list)  # [virtual ms, step] since the snapshot
    needs_snapshot: bool = False
    saved_version: int = -1
    saved_now: float = -1.0
    snapshot_version: int = -1
    last_snapshot: float = field(default_factory=time.monotonic)

    @property
    def exercises(self) -> list[Any]:
        return self.setup.exercises

    @property
    def reached(self) -> dict[str, bool]:
        """Exercise id -> goal reached (in this sandbox)."""
        return {ex_id: bool(t.reached) for ex_id, t in self.trackers.items()}

    @property
    def is_lesson(self) -> bool:
        return self.context != PLAY

    @property
    def records_progress(self) -> bool:
        """A learner's own lesson sandbox: reached goals count as their progress."""
        return self.is_lesson and "#" not in self.context

    @property
    def socket_count(self) -> int:
        return sum(self.sockets.values())

    def languages(self) -> list[str]:
        return [lang for lang, n in self.sockets.items() if n > 0]


REGISTRY: dict[str, LiveSandbox] = {}
_OWNERS: dict[tuple[str, str], str] = {}  # (session_key, context) -> sandbox id
_LOADING: dict[str, asyncio.Future[LiveSandbox | None]] = {}
_ticker: asyncio.Task[None] | None = None


def reset_registry() -> None:
    """Forget every live sandbox and stop the ticker (tests)."""
    global _ticker, _writer
    if _ticker is not None and not _ticker.done():
        with contextlib.suppress(RuntimeError):
            _ticker.cancel()
    _ticker = _writer = None
    owners.reset()
    _PENDING.clear()
    _BOARDS.clear()
    LISTENERS.clear()
    REGISTRY.clear()
    _OWNERS.clear()
    _LOADING.clear()


def _register(sbx: LiveSandbox) -> None:
    REGISTRY[sbx.id] = sbx
    _OWNERS[(sbx.session_key, sbx.context)] = sbx.id


def _unregister(sbx: LiveSandbox) -> None:
    REGISTRY.pop(sbx.id, None)
    for lang in LANGS:
        _BOARDS.pop((sbx.id, lang), None)
    _render().forget(sbx.id)
    if _OWNERS.get((sbx.session_key, sbx.context)) == sbx.id:
        del _OWNERS[(sbx.session_key, sbx.context)]


async def _make_room() -> None:
    """At the cap, evict the longest-idle sandbox without sockets; none: ``Busy``."""
    while len(REGISTRY) >= max_live():
        idle = [s for s in REGISTRY.values() if s.socket_count == 0]
        if not idle:
            raise Busy
        await evict(min(idle, key=lambda s: s.last_active))


# --------------------------------------------------------------------------- persistence
# A row holds a snapshot plus a journal of the steps run since (with the virtual time of each)
# and the virtual time reached. The core is deterministic and advancing in slices equals
# advancing at once, so restore + replay gives back exactly the same cluster. An action
# therefore writes a few hundred bytes, not the whole snapshot; a fresh snapshot replaces the
# journal when it grows, every ``SNAPSHOT_EVERY`` s while objects change, and on eviction.
# Writes are batched: everything marked while one batch is written goes in the next one.


def _pack(snapshot: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(snapshot, separators=(",", ":")).encode(), 1)


def _unpack(data: bytes | memoryview) -> dict[str, Any]:
    return json.loads(zlib.decompress(bytes(data)))


def replay(snapshot: dict[str, Any], journal: list[Any], now_ms: int) -> Cluster:
    """The cluster a row describes: its snapshot, the journal's steps at their times, then
    the clock moved on to ``now_ms``."""
    cluster = Cluster.restore(snapshot)
    for at_ms, step in journal:
        if at_ms > cluster.clock.now_ms:
            cluster.advance((at_ms - cluster.clock.now_ms) / 1000)
        steps.run_step(cluster, step)
    if now_ms > cluster.clock.now_ms:
        cluster.advance((now_ms - cluster.clock.now_ms) / 1000)
    return cluster


@database_sync_to_async
def _db_write_many(rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> None:
    from django.db import transaction

    from k8slearn.playground.models import Sandbox

    with transaction.atomic():  # one commit for the whole batch
        for sandbox_id, fields, snapshot in rows:
            if snapshot is not None:
                fields = {**fields, "snapshot": _pack(snapshot)}
            Sandbox.objects.filter(pk=sandbox_id).update(**fields)


@database_sync_to_async
def _db_create(session_key: str, context: str, scenario: str, snapshot: dict[str, Any],
               trackers: dict[str, Any], paused: bool) -> str:
    from django.db import IntegrityError

    from k8slearn.playground.models import Sandbox

    try:
        row = Sandbox.objects.create(session_key=session_key, context=context, scenario=scenario,
                                     snapshot=_pack(snapshot), trackers=trackers, paused=paused,
                                     now_ms=snapshot["clock"].get("now_ms", 0))
    except IntegrityError:  # two tabs created it at once: use the first
        row = Sandbox.objects.get(session_key=session_key, context=context)
    return row.pk


@database_sync_to_async
def _db_read(**lookup: str) -> dict[str, Any] | None:
    from k8slearn.playground.models import Sandbox

    row = Sandbox.objects.filter(**lookup).first()
    if row is None:
        return None
    return {
        "id": row.pk, "session_key": row.session_key, "context": row.context,
        "scenario": row.scenario, "speed": row.speed, "paused": row.paused,
        "trackers": row.trackers or {}, "snapshot": _unpack(row.snapshot),
        "journal": row.journal or [], "now_ms": row.now_ms,
    }


@database_sync_to_async
def _db_reached(session_key: str, lesson_id: str, exercise_id: str) -> None:
    from k8slearn.courses.signals import progress_changed
    from k8slearn.playground.models import ExerciseProgress

    _, created = ExerciseProgress.objects.get_or_create(
        session_key=session_key, lesson_id=lesson_id, exercise_id=exercise_id
    )
    if created:  # (in a worker thread: a listener may wait on the channel layer)
        progress_changed.send(sender=None, session_key=session_key, lesson_id=lesson_id)


_PENDING: dict[str, LiveSandbox] = {}  # sandboxes with unsaved changes
_writer: asyncio.Task[None] | None = None


def _row(sbx: LiveSandbox, snapshot: bool) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """What to write for ``sbx`` now (taken on the loop, where the cluster lives)."""
    now = time.monotonic()
    sbx.dirty = False
    sbx.last_saved = now
    sbx.saved_version, sbx.saved_now = sbx.cluster.version, sbx.cluster.now
    snap = None
    if snapshot or sbx.needs_snapshot or len(sbx.journal) >= JOURNAL_MAX:
        snap = sbx.cluster.snapshot()
        sbx.journal = []
        sbx.needs_snapshot = False
        sbx.snapshot_version, sbx.last_snapshot = sbx.cluster.version, now
    fields = {
        "scenario": sbx.scenario, "speed": sbx.speed, "paused": sbx.paused,
        "trackers": {k: t.to_dict() for k, t in sbx.trackers.items()},
        "journal": list(sbx.journal), "now_ms": sbx.cluster.clock.now_ms,
    }
    return sbx.id, fields, snap


def mark(sbx: LiveSandbox, *, snapshot: bool = False) -> None:
    """Save ``sbx`` with the next batch (``snapshot``: a fresh snapshot, not just the journal)."""
    global _writer
    sbx.dirty = True
    sbx.needs_snapshot = sbx.needs_snapshot or snapshot
    _PENDING[sbx.id] = sbx
    if _writer is None or _writer.done():
        _writer = owners.background(_write_batches())


async def _write_batches() -> None:
    while _PENDING:
        # A row may take a snapshot (about a millisecond each): let other work in between,
        # so that a hundred of them do not hold a learner's click for a tenth of a second.
        batch = []
        slice_start = time.perf_counter()
        while _PENDING:
            batch.append(_row(_PENDING.popitem()[1], False))
            if time.perf_counter() - slice_start > YIELD_AFTER:
                await asyncio.sleep(0)
                slice_start = time.perf_counter()
        try:
            await _db_write_many(batch)
        except Exception:
            logger.exception("could not save %d sandboxes", len(batch))


async def save(sbx: LiveSandbox, *, snapshot: bool = True) -> None:
    """Write ``sbx`` now (a snapshot unless told otherwise) and wait for it."""
    _PENDING.pop(sbx.id, None)
    await _db_write_many([_row(sbx, snapshot)])


async def evict(sbx: LiveSandbox) -> None:
    """Save and forget a sandbox (it comes back from the database on the next visit)."""
    _unregister(sbx)
    await save(sbx, snapshot=True)
    await owners.release(sbx.id)


def _live_from_row(row: dict[str, Any]) -> LiveSandbox:
    setup = _setup_for(row["context"], row["scenario"])
    cluster = replay(row["snapshot"], row["journal"], row["now_ms"])
    sbx = LiveSandbox(
        id=row["id"], session_key=row["session_key"], context=row["context"],
        scenario=row["scenario"], cluster=cluster, setup=setup,
        speed=row["speed"] if row["speed"] in actions.SPEEDS else 1, paused=row["paused"],
        journal=list(row["journal"]),
    )
    sbx.trackers = _trackers(setup, cluster, row["trackers"])
    sbx.saved_version, sbx.saved_now = cluster.version, cluster.now
    return sbx


async def _load(sandbox_id: str, session_key: str | None = None) -> LiveSandbox | None:
    """The live sandbox ``sandbox_id``, restored from the database if needed (None: no such,
    or not ``session_key``'s: another session's sandbox is not even read)."""
    sbx = REGISTRY.get(sandbox_id)
    if sbx is not None:
        return sbx
    pending = _LOADING.get(sandbox_id)
    if pending is not None:  # another socket is restoring it right now
        return await asyncio.shield(pending)
    future: asyncio.Future[LiveSandbox | None] = asyncio.get_running_loop().create_future()
    _LOADING[sandbox_id] = future
    try:
        lookup = {"pk": sandbox_id}
        if session_key is not None:
            lookup["session_key"] = session_key
        row = await _db_read(**lookup)
        sbx = None
        if row is not None and owners.shared() and sandbox_id not in REGISTRY:
            owner = await owners.claim(sandbox_id)
            if owner is not None:  # live in another process: reach it there
                raise owners.Elsewhere(owners.Remote(sandbox_id, owner, row["session_key"],
                                                     row["context"]))
            row = await _db_read(**lookup)  # what the last owner saved before letting go
        if row is not None:
            await _make_room()
            sbx = REGISTRY.get(sandbox_id) or _live_from_row(row)
            _register(sbx)
        future.set_result(sbx)
        return sbx
    except BaseException as err:
        future.set_exception(err)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waits
        raise
    finally:
        _LOADING.pop(sandbox_id, None)


def known_sandbox(session_key: str, context: str) -> str | None:
    """The id of the session's sandbox for ``context`` if it exists, live or saved (no event
    loop needed: a page view may ask from its thread), else None."""
    sandbox_id = _OWNERS.get((session_key, context))
    if sandbox_id is not None:
        return sandbox_id
    from k8slearn.playground.models import Sandbox

    return Sandbox.objects.filter(session_key=session_key, context=context).values_list(
        "pk", flat=True).first()


async def open_sandbox(session_key: str, context: str, scenario: str | None = None) -> LiveSandbox:
    """The session's sandbox for ``context``: live, restored, or created from its scenario."""
    sandbox_id = _OWNERS.get((session_key, context))
    if sandbox_id is not None and sandbox_id in REGISTRY:
        sbx = REGISTRY[sandbox_id]
        sbx.last_active = time.monotonic()
        return sbx
    row = await _db_read(session_key=session_key, context=context)
    if row is not None:
        sbx = await _load(row["id"])
        if sbx is not None:
            sbx.last_active = time.monotonic()
            return sbx
    await _make_room()
    setup = _setup_for(context, scenario or DEFAULT_SCENARIO)
    cluster = _build(setup)
    trackers = _trackers(setup, cluster, None)
    sandbox_id = await _db_create(session_key, context, setup.scenario, cluster.snapshot(),
                                  {k: t.to_dict() for k, t in trackers.items()}, setup.paused)
    if sandbox_id in REGISTRY:  # another tab won the race
        return REGISTRY[sandbox_id]
    if owners.shared():
        owner = await owners.claim(sandbox_id)
        if owner is not None:  # another process made it at the same moment
            raise owners.Elsewhere(owners.Remote(sandbox_id, owner, session_key, context))
    sbx = LiveSandbox(id=sandbox_id, session_key=session_key, context=context,
                      scenario=setup.scenario, cluster=cluster, setup=setup, trackers=trackers,
                      paused=setup.paused, saved_version=cluster.version, saved_now=cluster.now,
                      snapshot_version=cluster.version)
    _register(sbx)
    return sbx


async def attach(sandbox_id: str, session_key: str | None,
                 lang: str) -> LiveSandbox | owners.Remote | None:
    """A socket joins: the sandbox if this session owns it, else None; a ``Remote`` when it
    lives in another process. May raise ``Busy``."""
    if not session_key or not sandbox_id:
        return None
    sbx = REGISTRY.get(sandbox_id)
    if sbx is None:
        try:
            sbx = await _load(sandbox_id, session_key)
        except owners.Elsewhere as where:
            return where.remote if where.remote.session_key == session_key else None
    if sbx is None or sbx.session_key != session_key:
        return None
    sbx.sockets[lang] = sbx.sockets.get(lang, 0) + 1
    sbx.last_active = time.monotonic()
    if sbx.version_sent is None:  # nothing sent yet: the joining socket gets the full board
        sbx.version_sent = sbx.cluster.version
        sbx.seq_sent = event_seq(sbx.cluster)
        sbx.clock_shown = int(sbx.cluster.now)
        sbx.last_clock_sent = time.monotonic()  # the joining socket's page has the clock
    ensure_ticker()
    return sbx


async def watch(sandbox_id: str, lang: str) -> LiveSandbox | owners.Remote | None:
    """A socket joins a sandbox that its session does not own (a class's presenter and its
    followers; the caller has checked that it may). May raise ``Busy``."""
    try:
        sbx = REGISTRY.get(sandbox_id) or await _load(sandbox_id)
    except owners.Elsewhere as where:
        return where.remote
    if sbx is None:
        return None
    sbx.sockets[lang] = sbx.sockets.get(lang, 0) + 1
    sbx.last_active = time.monotonic()
    if sbx.version_sent is None:
        sbx.version_sent = sbx.cluster.version
        sbx.seq_sent = event_seq(sbx.cluster)
        sbx.clock_shown = int(sbx.cluster.now)
        sbx.last_clock_sent = time.monotonic()
    ensure_ticker()
    return sbx


def detach(sbx: LiveSandbox, lang: str) -> None:
    sbx.sockets[lang] = max(0, sbx.sockets.get(lang, 0) - 1)
    sbx.last_active = time.monotonic()
    if sbx.socket_count == 0:  # the last tab left: keep the clock where the learner saw it
        mark(sbx)


# --------------------------------------------------------------------------- rendering


def full_board(sbx: LiveSandbox, lang: str) -> str:
    return _render().full_board(sbx.cluster, lang, sandbox=sbx)


def board_token(sbx: LiveSandbox) -> str:
    """Names the board a page shows: the same token later means the same objects (a reset
    starts a new generation, since a new cluster counts versions from the start again)."""
    return f"{sbx.generation}.{sbx.cluster.version}"


_BOARDS: dict[tuple[str, str], tuple[tuple[Any, ...], str]] = {}


def first_message(sbx: LiveSandbox, lang: str, shown: str | None) -> str:
    """What a socket gets when it joins: the whole board, or, when its page already shows the
    current objects (``shown``), just the clock, time controls and goals to bring it up to date.

    The whole board is kept while nothing it shows changes: when a class of 500 opens the
    presenter's board at once, it is drawn once, not 500 times."""
    if shown and shown == board_token(sbx):
        return _render().sync(sbx.cluster, lang, sandbox=sbx)
    key = (sbx.generation, sbx.cluster.version, int(sbx.cluster.now), sbx.paused, sbx.speed,
           tuple(sorted(sbx.reached.items())), vm.traffic_fingerprint(sbx.cluster))
    cached = _BOARDS.get((sbx.id, lang))
    if cached is not None and cached[0] == key:
        return cached[1]
    html = full_board(sbx, lang)
    _BOARDS[(sbx.id, lang)] = (key, html)
    return html


async def publish(sbx: LiveSandbox, *, full: bool = False, extra: dict[str, str] | None = None,
                  now: float | None = None, clock: bool = True) -> bool:
    """Render what changed since the last send, once per language with sockets, and send it
    to the sandbox's groups. Also observes the exercise goals. True when something was sent.
    ``clock``: re-sync the browsers' clock with it (the ticker only does so now and then)."""
    now = time.monotonic() if now is None else now
    cluster = sbx.cluster
    changed = full or sbx.version_sent is None or cluster.version != sbx.version_sent
    reached = observe_goals(sbx) if changed else []
    clock_due = (int(cluster.now) != sbx.clock_shown
                 and now - sbx.last_clock_sent >= CLOCK_SYNC_EVERY)
    # Traffic counters are not API objects (changes_since cannot see them): compare.
    traffic = vm.traffic_fingerprint(cluster)
    traffic_due = traffic != sbx.traffic_sent
    if not (changed or clock_due or traffic_due or extra):
        return False
    sbx.traffic_sent = traffic
    changes = None
    since_seq = sbx.seq_sent
    if changed and not full and sbx.version_sent is not None:
        changes = cluster.changes_since(sbx.version_sent)
    sbx.version_sent = cluster.version
    sbx.seq_sent = event_seq(cluster)
    sbx.last_published = now
    clock = clock or clock_due
    if clock:
        sbx.clock_shown = int(cluster.now)
        sbx.last_clock_sent = now
    if reached:
        mark(sbx)
        for ex_id in reached:
            if sbx.records_progress:
                try:
                    await _db_reached(sbx.session_key, sbx.context, ex_id)
                except Exception:
                    logger.exception("could not save exercise progress %s", ex_id)
    render = _render()
    layer = get_channel_layer()
    for lang in sbx.languages():
        if changed and (full or changes is None):
            html = render.full_board(cluster, lang, sandbox=sbx, to_group=True)
        elif changed:
            html = render.changed_fragments(cluster, changes, lang, sandbox=sbx,
                                            since_seq=since_seq, with_clock=clock)
        elif not extra:
            html = render.clock(cluster, lang, sandbox=sbx)
        else:
            html = ""
        if reached and not full and changes is not None:
            html += render.goals(cluster, lang, sandbox=sbx)
        if extra:
            html += extra.get(lang, "")
        if html:
            await deliver(sbx.id, lang, html, layer)
    return True


# The sockets of this process that show a sandbox living here: (sandbox id, lang) -> consumers.
# An update goes to each with one call: no channel-layer hop and no task woken per socket, which
# for a class of 500 followers was a large part of the fan-out. The channel group carries updates
# only to sockets in other processes (REDIS_URL; see owners.py), so nobody gets one twice.
LISTENERS: dict[tuple[str, str], set[Any]] = {}


def listen(sandbox_id: str, lang: str, consumer: Any) -> None:
    LISTENERS.setdefault((sandbox_id, lang), set()).add(consumer)


def unlisten(sandbox_id: str, lang: str, consumer: Any) -> None:
    listeners = LISTENERS.get((sandbox_id, lang))
    if listeners is not None:
        listeners.discard(consumer)
        if not listeners:
            del LISTENERS[(sandbox_id, lang)]


async def deliver(sandbox_id: str, lang: str, html: str, layer: Any = None) -> None:
    """Send an update to every socket showing ``sandbox_id`` in ``lang``, here and elsewhere."""
    for consumer in list(LISTENERS.get((sandbox_id, lang), ())):
        try:
            await consumer.deliver(html)
        except Exception:  # a socket closing right now: its disconnect will unlisten it
            logger.debug("could not deliver to a closing socket of %s", sandbox_id)
    if owners.shared():
        layer = layer or get_channel_layer()
        await layer.group_send(group_name(sandbox_id, lang), {"type": "board.update",
                                                              "html": html})


def event_seq(cluster: Cluster) -> int:
    """The seq of the newest event occurrence (0 when there is none)."""
    log = cluster.state.get("event_log") or ()
    return int(log[-1][0]) if log else 0


def observe_goals(sbx: LiveSandbox) -> list[str]:
    """Let every open goal look at the cluster; the ids that were reached just now."""
    reached = []
    for ex_id, tracker in sbx.trackers.items():
        if tracker.reached:
            continue
        try:
            if tracker.observe(sbx.cluster):
                reached.append(ex_id)
        except Exception:
            logger.exception("goal %s failed to observe", ex_id)
    return reached


# --------------------------------------------------------------------------- actions


def _capped(result: steps.StepResult, lang: str) -> steps.StepResult:
    note = "\n" + message("output-capped", lang, limit=MAX_OUTPUT // 1024) + "\n"
    output, error = result.output, result.error
    if len(output) > MAX_OUTPUT:
        output = output[:MAX_OUTPUT] + note
    if len(error) > MAX_OUTPUT:
        error = error[:MAX_OUTPUT] + note
    return steps.StepResult(result.ok, output, error)


def command_line(step: dict[str, Any]) -> str:
    """What the terminal shows as "typed" for a step."""
    kind, arg = next(iter(step.items()))
    if kind == "kubectl":
        line = str(arg).strip()
        return line if line.startswith("kubectl") else f"kubectl {line}"
    if kind == "apply":
        return "kubectl apply -f -"
    if isinstance(arg, dict):
        return " ".join([kind.replace("_", "-")] + [f"{k}={v}" for k, v in arg.items()])
    return f"{kind.replace('_', '-')} {arg}"


def _restart(sbx: LiveSandbox, scenario: str | None = None) -> None:
    if scenario is not None:
        sbx.scenario = scenario
        sbx.setup = _setup_for(sbx.context, scenario)
    sbx.cluster = _build(sbx.setup)
    sbx.generation += 1
    sbx.trackers = _trackers(sbx.setup, sbx.cluster, None)
    sbx.version_sent = None
    sbx.journal = []
    sbx.needs_snapshot = True
    sbx.paused = sbx.setup.paused or sbx.paused


async def apply(sbx: LiveSandbox, action: Step | Command, lang: str) -> str:
    """Run one action, push the change to every tab, save. Returns terminal HTML for the
    acting socket ("" when there is none)."""
    sbx.last_active = time.monotonic()
    terminal = ""
    full = False
    if isinstance(action, Command):
        if action.name == "pause":
            sbx.paused = True
        elif action.name == "play":
            sbx.paused = False
        elif action.name == "speed":
            sbx.speed = int(action.value)
            sbx.paused = False
        elif action.name == "reset":
            _restart(sbx)
            full = True
        elif action.name == "scenario":
            if sbx.is_lesson:
                raise ActionError(message("scenario-fixed", lang))
            if action.value not in scenarios.SCENARIOS:
                raise ActionError(message("unknown-scenario", lang, name=str(action.value)[:40]))
            _restart(sbx, action.value)
            full = True
        # Controls and clock show speed/paused: send them with whatever else changed.
        render = _render()
        extra = {lng: render.clock(sbx.cluster, lng, sandbox=sbx) for lng in sbx.languages()}
        await publish(sbx, full=full, extra=None if full else extra)
    else:
        cluster = sbx.cluster
        at_ms, version = cluster.clock.now_ms, cluster.version
        result = _capped(steps.run_step(cluster, action.step), lang)
        changed = not (_read_only(action.step) and cluster.version == version)
        if changed:  # a read leaves nothing to replay, and nothing to save
            sbx.journal.append([at_ms, action.step])
        terminal = _render().terminal_output(command_line(action.step), result, lang)
        await publish(sbx)
        if not changed:
            return terminal
    mark(sbx, snapshot=full)
    return terminal


READ_ONLY_VERBS = frozenset({"get", "describe", "logs", "explain", "api-resources",
                             "api-versions", "version", "cluster-info", "top", "help"})


def _read_only(step: dict[str, Any]) -> bool:
    """A kubectl line that only reads (nothing to replay after a restart)."""
    line = step.get("kubectl")
    if not isinstance(line, str):
        return False
    words = line.split()
    if words[:1] == ["kubectl"]:
        words = words[1:]
    return bool(words) and words[0] in READ_ONLY_VERBS


# --------------------------------------------------------------------------- ticker


async def tick(elapsed: float, now: float | None = None) -> None:
    """Advance every watched, unpaused sandbox by ``elapsed`` × speed; push changes; save
    ticking sandboxes every ``SAVE_EVERY`` s; evict sandboxes idle for ``IDLE_SECONDS``."""
    now = time.monotonic() if now is None else now
    started = slice_start = time.perf_counter()
    for sbx in list(REGISTRY.values()):
        # A pass over 1,000 sandboxes takes a while: let waiting actions in every few ms, so
        # a learner's click is not queued behind everybody's clock.
        if time.perf_counter() - slice_start > YIELD_AFTER:
            await asyncio.sleep(0)
            slice_start = time.perf_counter()
        if sbx.id not in REGISTRY:  # evicted while we yielded
            continue
        try:
            if sbx.socket_count == 0:
                if now - sbx.last_active >= IDLE_SECONDS:
                    await evict(sbx)
                continue
            if not sbx.paused and elapsed > 0:
                sbx.cluster.advance(elapsed * sbx.speed)
            # What time alone changed is sent at most every UPDATE_EVERY s (it accumulates).
            if now - sbx.last_published >= UPDATE_EVERY:
                await publish(sbx, now=now, clock=False)
            # The clock (and through it every timer) is saved every few seconds; a fresh
            # snapshot now and then keeps the replay after a restart short.
            if now - sbx.last_saved >= SAVE_EVERY and sbx.cluster.now != sbx.saved_now:
                snapshot = (now - sbx.last_snapshot >= SNAPSHOT_EVERY
                            and sbx.cluster.version != sbx.snapshot_version)
                mark(sbx, snapshot=snapshot)
        except Exception:
            logger.exception("tick failed for sandbox %s", sbx.id)
    await owners.renew(list(REGISTRY), now)
    timing.debug("tick %d %.2f ms", len(REGISTRY), (time.perf_counter() - started) * 1000)


async def _run_ticker() -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(TICK_SECONDS)
        now = time.monotonic()
        await tick(now - last, now)
        last = now


def ensure_ticker() -> None:
    """Start the process's ticker on the running loop (first socket), unless switched off."""
    global _ticker
    if not getattr(settings, "PLAYGROUND_TICKER", True):
        return
    if _ticker is not None and not _ticker.done():
        return
    _ticker = owners.background(_run_ticker())


async def copy_cluster(source: LiveSandbox, target: LiveSandbox) -> None:
    """Give ``target`` a copy of ``source``'s cluster as it is now ("Try it myself"): same
    objects, same virtual time; the target's exercise goals start again from there."""
    await copy_cluster_from(Cluster.restore(source.cluster.snapshot()), target)


async def copy_cluster_from(cluster: Cluster, target: LiveSandbox) -> None:
    target.cluster = cluster
    target.generation += 1
    target.trackers = _trackers(target.setup, target.cluster, None)
    target.version_sent = None
    target.journal = []
    target.needs_snapshot = True
    target.last_active = time.monotonic()
    await publish(target, full=True)
    mark(target, snapshot=True)


async def find(sandbox_id: str) -> LiveSandbox | None:
    """The live sandbox ``sandbox_id`` (restored from the database if needed), or None.
    Raises ``owners.Elsewhere`` when another process owns it."""
    return REGISTRY.get(sandbox_id) or await _load(sandbox_id)


async def snapshot_of(sandbox_id: str) -> dict[str, Any] | None:
    """The cluster of ``sandbox_id`` as a snapshot: live here, or as last saved (another
    process owns it; it saves every few seconds)."""
    try:
        sbx = await find(sandbox_id)
    except owners.Elsewhere:
        row = await _db_read(pk=sandbox_id)
        return replay(row["snapshot"], row["journal"], row["now_ms"]).snapshot() if row else None
    return sbx.cluster.snapshot() if sbx is not None else None


async def replace_cluster(session_key: str, context: str, snapshot: dict[str, Any]) -> None:
    """The session's sandbox for ``context`` gets a copy of ``snapshot`` (wherever it lives)."""
    try:
        target = await open_sandbox(session_key, context)
    except owners.Elsewhere as where:
        await owners.replace(where.remote.owner, where.remote.id, snapshot)
        return
    await copy_cluster_from(Cluster.restore(snapshot), target)


async def control(sandbox_id: str, name: str) -> bool:
    """Pause, play or reset a sandbox that some learner owns (a class's instructor does it for
    everyone), wherever it lives. False when there is no such sandbox."""
    try:
        sbx = await find(sandbox_id)
    except owners.Elsewhere as where:
        await owners.control(where.remote.owner, sandbox_id, name)
        return True
    if sbx is None:
        return False
    await apply(sbx, Command(name), "ko")
    return True


async def forget(session_key: str, keep: str = PLAY) -> None:
    """Drop the session's live sandboxes except ``keep`` without saving (progress reset)."""
    for sbx in list(REGISTRY.values()):
        if sbx.session_key == session_key and sbx.context != keep:
            _unregister(sbx)


async def flush() -> None:
    """Write every pending change now and wait for it (shutdown, tests)."""
    rows = [_row(sbx, False) for sbx in _PENDING.values()]
    _PENDING.clear()
    if rows:
        await _db_write_many(rows)
    if _writer is not None and not _writer.done():
        await _writer
