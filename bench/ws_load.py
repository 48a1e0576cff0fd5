"""Websocket load on one Daphne process: learners with their own ticking sandboxes.

    .venv/bin/python bench/ws_load.py                 (levels 100, 300, 1000; ~30 s each)
    .venv/bin/python bench/ws_load.py --levels 100 --seconds 10

For each level a fresh Daphne process is started on a free loopback port (a temporary, migrated
SQLite database; DEBUG off; bench/ws_settings.py), then:

1. N learners each GET /ko/play/ (a session cookie and a sandbox, the board rendered on the
   server) and open a real websocket to their sandbox; every sandbox ticks at 1x.
2. Each learner sends one action every 5 s (start times spread over the first 5 s), alternating
   `kubectl get pods` (latency = until its terminal output arrives) and deleting a pod of
   app=web (latency = until the board fragment for that pod arrives).
3. Figures: action->update latency p50/p95/p99 (client side), server time from an action received
   to its fragments handed to the channel layer (the consumer's timing log), Daphne's CPU (share
   of one core) and RSS (/proc), bytes per update by kind.

Before the levels, one learner alone measures page-to-board: GET the page, open the socket,
receive the full board. Everything is bounded in time and stops by itself; the exit status is 1
when a figure misses its target. Other work on this 2-core machine shows in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from measure import (
    RESULTS,
    cpu_seconds,
    free_port,
    own_cpu,
    percentile,
    record,
    rss_mb,
    stop_process,
    wait_port,
)

ROOT = Path(__file__).resolve().parent.parent
PERIOD = 5.0  # seconds between one learner's actions
TARGETS = {
    "page_to_board_ms": 1000.0,
    "server_p95_ms": 20.0,
    "p95_ms_at_1000": 100.0,
    "rss_mb_at_1000": 1024.0,
}
PROFILE: list[str] = []  # --profile FILE: run Daphne under cProfile (stopped with SIGINT)


# --------------------------------------------------------------------------- the server


class Server:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.ws_settings",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "K8SLEARN_E2E_STATIC_ROOT": str(workdir / "static"),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log = workdir / "daphne.log"

    def prepare(self) -> None:
        for args in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
            subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                           check=True, timeout=300)

    def start(self) -> None:
        self.port = free_port()
        out = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, *PROFILE, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "k8slearn.asgi:application"],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            wait_port(self.port, self.process, "Daphne", self.log)
        except RuntimeError as err:
            raise SystemExit(str(err)) from err

    def stop(self) -> None:
        stop_process(self.process, signal.SIGINT if PROFILE else signal.SIGTERM)
        if self.log.exists():  # kept for a look after the run (the work folder goes)
            Path(tempfile.gettempdir(), "ws_load-daphne.log").write_bytes(self.log.read_bytes())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def rss_mb(self) -> tuple[float, float]:
        assert self.process is not None
        return rss_mb(self.process.pid)

    def timings(self, what: str = "action") -> list[float]:
        """Durations (ms) from the timing log: "action" (receive -> fragments sent) or
        "tick" (one pass of the ticker over every live sandbox)."""
        text = self.log.read_text(errors="replace")
        return [float(m) for m in re.findall(rf"^{what} \S+ ([\d.]+) ms$", text, re.MULTILINE)]


# --------------------------------------------------------------------------- learners


def open_page(base: str) -> tuple[str, str, float]:
    """GET /ko/play/: (session cookie, sandbox id, seconds)."""
    started = time.perf_counter()
    with urllib.request.urlopen(f"{base}/ko/play/", timeout=60) as response:
        html = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
    elapsed = time.perf_counter() - started
    session = next(c.split(";")[0] for c in cookies if c.startswith("sessionid="))
    match = re.search(r'ws-connect="(/ws/sandbox/[^"]+)"', html)
    if match is None:
        raise RuntimeError("the play page has no board socket (busy?)")
    return session, unescape(match.group(1)), elapsed


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"kubectl": [], "delete": []})
    bytes_by_kind: dict[str, list[int]] = field(default_factory=dict)
    errors: int = 0
    missed: int = 0
    measuring: bool = False

    def frame(self, kind: str, size: int) -> None:
        if self.measuring:
            self.bytes_by_kind.setdefault(kind, []).append(size)


def classify(text: str) -> str:
    if 'id="board"' in text:
        return "full board"
    if "terminal" in text and "hx-swap-oob" in text and 'id="pod-' not in text:
        return "terminal output"
    if 'id="pod-' in text or "pod-list" in text:
        return "board update (pods)"
    if 'id="clock"' in text and text.count("hx-swap-oob") <= 2:
        return "clock only"
    if "alert" in text:
        return "error"
    return "other update"


@dataclass
class Control:
    """Shared by the learners of one level: when to start and stop, how many are connected."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop_at: float = float("inf")
    connected: int = 0


async def learner(ws_base: str, cookie: str, path: str, stats: Stats,
                  control: Control) -> None:
    from websockets.asyncio.client import connect

    url = f"{ws_base}{path}"  # as the page says: its board need not be sent again
    headers = {"Cookie": cookie, "Origin": ws_base.replace("ws://", "http://")}
    async with connect(url, additional_headers=headers, max_size=None, compression=None,
                       open_timeout=60, ping_interval=None) as ws:
        await ws.recv()  # the first message: clock and goals (or the board, if it changed)
        control.connected += 1
        await control.ready.wait()
        stop_at = control.stop_at
        pending: tuple[str, float] | None = None
        n = random.randrange(2)
        next_send = time.monotonic() + random.uniform(0, PERIOD)
        while time.monotonic() < stop_at:
            timeout = max(0.0, min(next_send, stop_at) - time.monotonic())
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=timeout)
            except TimeoutError:
                text = None
            now = time.monotonic()
            if text is not None:
                kind = classify(str(text))
                stats.frame(kind, len(str(text).encode()))
                if kind == "error":
                    stats.errors += 1
                if pending is not None:
                    want, sent = pending
                    if (want == "kubectl" and kind == "terminal output") or (
                            want == "delete" and kind == "board update (pods)"):
                        if stats.measuring:
                            stats.latencies[want].append((now - sent) * 1000)
                        pending = None
            if now >= next_send and now < stop_at:
                if pending is not None and stats.measuring:
                    stats.missed += 1
                if n % 2 == 0:
                    message = {"action": "kubectl", "line": "get pods", "HEADERS": {}}
                    pending = ("kubectl", time.monotonic())
                else:
                    message = {"action": "delete-pod", "selector": "app=web", "HEADERS": {}}
                    pending = ("delete", time.monotonic())
                n += 1
                await ws.send(json.dumps(message))
                next_send += PERIOD


def sessions(base: str, n: int, workers: int = 8) -> list[tuple[str, str, float]]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: open_page(base), range(n)))


async def page_to_board(server: Server) -> float:
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    cookie, path, _ = await asyncio.to_thread(open_page, server.url)
    ws_base = server.url.replace("http://", "ws://")
    async with connect(f"{ws_base}{path}",
                       additional_headers={"Cookie": cookie, "Origin": server.url}) as ws:
        await ws.recv()
    return (time.perf_counter() - started) * 1000


async def run_level(server: Server, n: int, seconds: float) -> None:
    print(f"\n{n} learners: creating sessions …", flush=True)
    t0 = time.monotonic()
    made = await asyncio.to_thread(sessions, server.url, n)
    page_times = [p[2] * 1000 for p in made]
    print(f"  {n} pages in {time.monotonic() - t0:.1f} s; connecting …", flush=True)
    stats = Stats()
    control = Control()
    ws_base = server.url.replace("http://", "ws://")
    warmup = PERIOD  # one round of actions before measuring
    tasks = [asyncio.create_task(learner(ws_base, c, s, stats, control)) for c, s, _ in made]
    # Wait for every socket to receive its board (bounded), then start the clock.
    t0 = time.monotonic()
    while time.monotonic() < t0 + 120 and control.connected < n:
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.2)
    print(f"  {control.connected} sockets connected in {time.monotonic() - t0:.1f} s", flush=True)
    control.stop_at = time.monotonic() + warmup + seconds
    control.ready.set()
    await asyncio.sleep(warmup)
    stats.measuring = True
    cpu0, wall0 = server.cpu_seconds(), time.monotonic()
    own0 = own_cpu()
    timing_start = len(server.timings())
    tick_start = len(server.timings("tick"))
    await asyncio.sleep(seconds)
    cpu1, wall1 = server.cpu_seconds(), time.monotonic()
    own = (own_cpu() - own0) / (wall1 - wall0) * 100
    rss, hwm = server.rss_mb()
    stats.measuring = False
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    server_times = server.timings()[timing_start:]
    tick_times = server.timings("tick")[tick_start:]
    lat = stats.latencies["kubectl"] + stats.latencies["delete"]
    p95 = percentile(lat, 95)
    cpu = (cpu1 - cpu0) / (wall1 - wall0) * 100
    record(f"[{n}] page GET /ko/play/ p50 / p95", f"{percentile(page_times, 50):.0f} / "
           f"{percentile(page_times, 95):.0f} ms")
    record(f"[{n}] actions measured (missed, errors, failed sockets)",
           f"{len(lat)} ({stats.missed}, {stats.errors}, {len(failures)})")
    record(f"[{n}] action->update p50 / p95 / p99",
           f"{percentile(lat, 50):.1f} / {p95:.1f} / {percentile(lat, 99):.1f} ms",
           "p95 < 100 ms" if n >= 1000 else "", (p95 < TARGETS["p95_ms_at_1000"]) if n >= 1000
           else None)
    for kind in ("kubectl", "delete"):
        v = stats.latencies[kind]
        record(f"[{n}]   {kind} p50 / p95 / p99", f"{percentile(v, 50):.1f} / "
               f"{percentile(v, 95):.1f} / {percentile(v, 99):.1f} ms")
    sp95 = percentile(server_times, 95)
    record(f"[{n}] server action->sent p50 / p95 (n={len(server_times)})",
           f"{percentile(server_times, 50):.2f} / {sp95:.2f} ms", "p95 < 20 ms",
           sp95 < TARGETS["server_p95_ms"])
    record(f"[{n}] ticker pass over all sandboxes p50 / p95 / max",
           f"{percentile(tick_times, 50):.1f} / {percentile(tick_times, 95):.1f} / "
           f"{max(tick_times, default=float('nan')):.1f} ms")
    record(f"[{n}] Daphne CPU (one core = 100 %)", f"{cpu:.0f} %")
    record(f"[{n}] this load generator's CPU (same machine)", f"{own:.0f} %")
    record(f"[{n}] Daphne RSS now / peak", f"{rss:.0f} / {hwm:.0f} MB",
           "< 1024 MB" if n >= 1000 else "", (hwm < TARGETS["rss_mb_at_1000"]) if n >= 1000
           else None)
    for kind, sizes in sorted(stats.bytes_by_kind.items()):
        record(f"[{n}]   bytes per frame: {kind} (frames/s)",
               f"{statistics.mean(sizes):.0f} B ({len(sizes) / seconds:.0f}/s)")
    if failures:
        print(f"  first socket failure: {failures[0]!r}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="100,300,1000")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--profile", metavar="FILE", help="profile Daphne into FILE (pstats)")
    args = parser.parse_args()
    if args.profile:
        PROFILE[:] = ["-m", "cProfile", "-o", str(Path(args.profile).resolve())]
    levels = [int(x) for x in args.levels.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="k8slearn-wsload-") as tmp:
        server = Server(Path(tmp))
        server.prepare()
        print("Single learner", flush=True)
        server.start()
        try:
            times = [await page_to_board(server) for _ in range(10)]
            record("page to board (GET, socket, full board) p50 / max",
                   f"{percentile(times, 50):.0f} / {max(times):.0f} ms", "< 1000 ms",
                   max(times) < TARGETS["page_to_board_ms"])
        finally:
            server.stop()
        for n in levels:
            server.log.unlink(missing_ok=True)
            server.start()
            try:
                await asyncio.wait_for(run_level(server, n, args.seconds), args.seconds + 600)
            finally:
                server.stop()
    failed = [r for r in RESULTS if r[3] is False]
    print(f"\n{len(RESULTS)} figures, {len(failed)} missed their target")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
