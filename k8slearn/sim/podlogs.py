"""Container logs and resource usage, for ``kubectl logs`` and ``kubectl top``.

Logs are kept per container run in the kubelet's record: the image's start-up lines (nginx's
entrypoint chatter, redis's banner), lines the services code appends for traffic
(``append_log``), and the ``echo`` lines of the container's script (computed from its timeline
when read, so a ``while true; do echo hi; sleep 5; done`` loop costs nothing until someone looks).
The previous run's lines are kept for ``--previous``.

Usage is simulated, deterministic and changes every 15 s metrics window: a small idle
footprint per image, or what a ``stress`` program asks for (CPU capped at its limit, as CFS
throttling would).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import zlib
from typing import TYPE_CHECKING, Any

from k8slearn.sim import images, programs
from k8slearn.sim.errors import ApiError, not_found
from k8slearn.sim.objects import EPOCH, cpu_millis

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
LOG_LIMIT = 2_000  # lines kept per container run
METRICS_WINDOW_MS = 15_000
_MI = 2**20
# Idle footprint per image (cpu millicores, memory MiB).
IDLE = {"nginx": (1, 4), "httpd": (1, 8), "redis": (3, 4), "mysql": (8, 380), "postgres": (4, 30),
        "mongo": (10, 90), "echoserver": (1, 3), "hello-app": (1, 2), "busybox": (0, 1)}


# The last patch release of each nginx minor: "nginx:1.25" runs nginx/1.25.5.
NGINX_PATCH = {"1.14": "1.14.2", "1.16": "1.16.1", "1.17": "1.17.10", "1.18": "1.18.0",
               "1.19": "1.19.10", "1.20": "1.20.2", "1.21": "1.21.6", "1.22": "1.22.1",
               "1.23": "1.23.4", "1.24": "1.24.0", "1.25": "1.25.5", "1.26": "1.26.3",
               "1.27": "1.27.3"}


def _stamp(ms: int, fmt: str) -> str:
    return (EPOCH + _dt.timedelta(milliseconds=ms)).strftime(fmt)


def start_log_lines(ref: images.ImageRef | None, now_ms: int) -> list[str]:
    """What the image prints when it starts."""
    if ref is None:
        return []
    short = ref.repository.rsplit("/", 1)[-1]
    if short in ("nginx", "nginx-slim"):
        ts = _stamp(now_ms, "%Y/%m/%d %H:%M:%S")
        version = ref.tag.split("-")[0] if ref.tag[:1].isdigit() and short == "nginx" else (
            "1.27.3")
        version = NGINX_PATCH.get(version, version if version.count(".") == 2 else
                                  f"{version}.0")
        ep = "/docker-entrypoint.sh:"
        return [
            f"{ep} /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            f"{ep} Looking for shell scripts in /docker-entrypoint.d/",
            f"{ep} Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
            "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of "
            "/etc/nginx/conf.d/default.conf",
            "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in "
            "/etc/nginx/conf.d/default.conf",
            f"{ep} Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
            f"{ep} Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
            f"{ep} Configuration complete; ready for start up",
            f'{ts} [notice] 1#1: using the "epoll" event method',
            f"{ts} [notice] 1#1: nginx/{version}",
            f"{ts} [notice] 1#1: OS: Linux 6.1.0-25-amd64",
            f"{ts} [notice] 1#1: start worker processes",
            f"{ts} [notice] 1#1: start worker process 29",
        ]
    if short == "redis":
        ts = _stamp(now_ms, "%d %b %Y %H:%M:%S.000")
        return [f"1:C {ts} # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
                f"1:M {ts} * Server initialized",
                f"1:M {ts} * Ready to accept connections tcp"]
    if short == "httpd":
        ts = _stamp(now_ms, "%a %b %d %H:%M:%S.000000 %Y")
        return [f"[{ts}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) "
                "configured -- resuming normal operations"]
    return []


def _record(cluster: Cluster, uid: str) -> Obj | None:
    return cluster.state.get("kubelet", {}).get("pods", {}).get(uid)


def append_log(cluster: Cluster, pod_uid: str, container: str | None, line: str) -> None:
    """Append a line to a running container's log (e.g. an nginx access-log line)."""
    prec = _record(cluster, pod_uid)
    if prec is None:
        return
    name = container or next(iter(prec["containers"]), None)
    rec = prec["containers"].get(name or "")
    if rec is None or rec["state"] != "Running":
        return
    rec["log"].append(line)
    if len(rec["log"]) > LOG_LIMIT:
        del rec["log"][: len(rec["log"]) - LOG_LIMIT]


def final_lines(rec: Obj, now_ms: int | None = None) -> list[str]:
    """All lines of the container's current run (up to ``now_ms``) or of its ended run."""
    lines: list[str] = []
    prog = rec.get("prog")
    start = rec.get("started_ms")
    if start is not None and rec.get("image"):
        # Derived, not stored: 5,000 nginx pods would otherwise keep 65,000 identical lines
        # in every snapshot.
        with contextlib.suppress(images.InvalidImageName):
            lines.extend(start_log_lines(images.parse(rec["image"]), start))
    if prog and start is not None:
        if rec["state"] == "Running":
            end = now_ms if now_ms is not None else start
        else:
            end = int(round(rec["exit"][3] * 1000)) if rec.get("exit") else start
        lines.extend(programs.lines_until(prog, max(0, end - start)))
    lines.extend(rec.get("log") or [])
    return lines[-LOG_LIMIT:]


def container_logs(cluster: Cluster, namespace: str, pod_name: str, container: str | None,
                   previous: bool = False) -> str:
    """``kubectl logs POD [-c C] [--previous]``: the log text, or ApiError in kubectl's words."""
    pod = cluster.store.get("Pod", namespace, pod_name)
    if pod is None:
        raise not_found("pods", pod_name)
    names = [c.get("name") for c in pod["spec"].get("containers") or ()]
    name = container or (names[0] if names else "")
    names += [c.get("name") for c in pod["spec"].get("initContainers") or ()]
    if name not in names:
        raise ApiError("BadRequest", f"container {name} is not valid for pod {pod_name}", 400)
    prec = _record(cluster, pod["metadata"]["uid"])
    rec = prec["containers"].get(name) if prec else None
    if previous:
        if rec is None or rec.get("prev_log") is None:
            raise ApiError("BadRequest", f'previous terminated container "{name}" in pod '
                           f'"{pod_name}" not found', 400)
        return _text(rec["prev_log"])
    if rec is None or (rec["state"] == "Waiting" and not rec.get("ever_ran")):
        reason = (rec or {}).get("reason") or "ContainerCreating"
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            reason = "trying and failing to pull image"
        raise ApiError("BadRequest", f'container "{name}" in pod "{pod_name}" is waiting to '
                       f"start: {reason}", 400)
    if rec["state"] == "Waiting":  # CrashLoopBackOff: the last run's output
        return _text(rec.get("prev_log") or [])
    return _text(final_lines(rec, cluster.clock.now_ms))


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def usage(cluster: Cluster, pod: Obj) -> dict[str, tuple[int, int]]:
    """{container: (cpu millicores, memory bytes)} for the running containers of ``pod``."""
    prec = _record(cluster, pod["metadata"]["uid"])
    if prec is None:
        return {}
    window = cluster.clock.now_ms // METRICS_WINDOW_MS
    out: dict[str, tuple[int, int]] = {}
    for c in pod["spec"].get("containers") or ():
        rec = prec["containers"].get(c.get("name"))
        if rec is None or rec["state"] != "Running":
            continue
        try:
            short = images.parse(c.get("image", "")).repository.rsplit("/", 1)[-1]
        except images.InvalidImageName:
            short = ""
        cpu, mem_mi = IDLE.get(short, (1, 5))
        jitter = zlib.crc32(f"{prec['uid']}/{c['name']}/{window}".encode()) % 100
        mem = mem_mi * _MI + jitter * 40 * 1024
        cpu = cpu + (jitter % 3 if cpu else 0)
        prog = rec.get("prog") or {}
        if prog.get("memory"):
            mem = int(prog["memory"]) + 2 * _MI
        if prog.get("cpu"):
            cpu = int(prog["cpu"])
        limit = ((c.get("resources") or {}).get("limits") or {}).get("cpu")
        if limit is not None:
            with contextlib.suppress(ValueError):
                cpu = min(cpu, cpu_millis(limit))
        out[c["name"]] = (cpu, mem)
    return out
