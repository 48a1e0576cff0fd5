"""Liveness, readiness and startup probes (``pkg/kubelet/prober/worker.go doProbe``).

Each probe of a running container is a timer chain: the first attempt ``initialDelaySeconds``
after the container started, then one every ``periodSeconds``. Only pods that have probes have
timers, so pods without probes cost nothing while time passes.

- Results are counted: the probe's *state* flips only after ``failureThreshold`` consecutive
  failures or ``successThreshold`` consecutive successes. Readiness starts as Failure (not
  ready), liveness as Success. With defaults (period 10 s, failureThreshold 3) a liveness probe
  that starts failing kills the container 20–30 s later.
- A startup probe, until it succeeds, holds the other two back; if it fails ``failureThreshold``
  times the container is killed.
- Readiness failure: the container (and the pod's Ready condition) goes false; nothing restarts.
- Liveness failure: Killing "Container app failed liveness probe, will be restarted"; the
  container exits (137) and restarts per restartPolicy with the usual back-off.
- Every failed attempt is a Warning ``Unhealthy`` event ("Liveness probe failed: HTTP probe
  failed with statuscode: 500").

What a probe *sees*: faults set with ``Cluster.set_fault(target, "liveness"|"readiness")`` make
that probe fail; an ``exec`` probe ``cat FILE`` (or ``test -e``/``ls``) checks the files the
container's script created (``touch``/``rm``, see programs.py); an HTTP/TCP probe on a port the
image does not listen on gets "connection refused"; ``registry.k8s.io/liveness`` answers 500
after its first 10 s, as in the kubernetes.io liveness example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8slearn.sim import images, programs
from k8slearn.sim.podstatus import faults_of
from k8slearn.sim.timers import timer

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
KINDS = ("startupProbe", "livenessProbe", "readinessProbe")
LABEL = {"startupProbe": "Startup", "livenessProbe": "Liveness", "readinessProbe": "Readiness"}
# Ports the catalogue's images listen on (for "connection refused" on a wrong probe port).
IMAGE_PORTS = {"nginx": (80,), "httpd": (80,), "redis": (6379,), "mysql": (3306, 33060),
               "postgres": (5432,), "echoserver": (8080,), "hello-app": (8080,),
               "nginx-slim": (80,), "mongo": (27017,), "memcached": (11211,),
               "liveness": (8080,), "goproxy": (8080,), "gb-frontend": (80,)}


def _spec(pod: Obj, name: str) -> Obj:
    for c in pod["spec"].get("containers") or ():
        if c.get("name") == name:
            return c
    return {}


def start_probes(cluster: Cluster, pod: Obj, prec: Obj, name: str, spec_c: Obj) -> None:
    """Arm the probes of a container that has just started."""
    rec = prec["containers"][name]
    rec["probes"] = {}
    has_startup = "startupProbe" in spec_c
    for kind in KINDS:
        if kind not in spec_c:
            continue
        rec["probes"][kind] = {"gen": 0, "succ": 0, "fail": 0,
                               "ok": kind == "livenessProbe", "active": False}
        if kind == "startupProbe" or not has_startup:
            _arm(cluster, prec, name, kind, spec_c[kind].get("initialDelaySeconds", 0))


def _arm(cluster: Cluster, prec: Obj, name: str, kind: str, seconds: float) -> None:
    p = prec["containers"][name]["probes"][kind]
    p["gen"] += 1
    p["active"] = True
    cluster.clock.call_later(max(0.0, seconds), "kubelet.probe", [prec["uid"], name, kind, p["gen"]])


def stop_probes(rec: Obj) -> None:
    for p in rec.get("probes", {}).values():
        p["gen"] += 1
        p["active"] = False


def rearm(cluster: Cluster, prec: Obj, name: str) -> None:
    """Resume the active probes of a running container (after its node came back)."""
    for kind, p in prec["containers"][name].get("probes", {}).items():
        if p["active"]:
            _arm(cluster, prec, name, kind, 0)


def _port(spec_c: Obj, port: Any) -> int | None:
    if isinstance(port, int):
        return port
    for cp in spec_c.get("ports") or ():
        if cp.get("name") == port:
            return int(cp.get("containerPort", 0))
    return int(port) if str(port).isdigit() else None


def probe_result(cluster: Cluster, pod: Obj, prec: Obj, name: str, kind: str) -> tuple[bool, str]:
    """(success, failure message) of one probe attempt."""
    spec_c = _spec(pod, name)
    probe = spec_c.get(kind) or {}
    rec = prec["containers"][name]
    faults = faults_of(cluster, prec["uid"])
    elapsed = cluster.clock.now_ms - (rec["started_ms"] or 0)
    code = 503 if kind == "readinessProbe" else 500
    failing = (kind == "livenessProbe" and faults.get("liveness")) or (
        kind == "readinessProbe" and faults.get("readiness"))
    ip = prec.get("ip") or ""
    try:
        repo = images.parse(spec_c.get("image", "")).repository
    except images.InvalidImageName:
        repo = ""
    short = repo.rsplit("/", 1)[-1]
    if "exec" in probe:
        cmd = [str(x) for x in (probe["exec"] or {}).get("command") or []]
        if failing:
            return False, "command terminated with exit code 1"
        if len(cmd) >= 2 and cmd[0].rsplit("/", 1)[-1] in ("cat", "ls", "test", "stat"):
            path = cmd[-1]
            if not (programs.file_exists(rec.get("prog") or {"files": []}, path, elapsed)
                    or path in (rec.get("fs") or {})):
                return False, f"cat: can't open '{path}': No such file or directory"
        return True, ""
    handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
    if handler is not None and "grpc" not in probe:
        port = _port(spec_c, handler.get("port"))
        listens = IMAGE_PORTS.get(short)
        if port is not None and listens is not None and port not in listens:
            if "httpGet" in probe:
                url = f"http://{ip}:{port}{handler.get('path', '/')}"
                return False, (f'Get "{url}": dial tcp {ip}:{port}: connect: connection refused')
            return False, f"dial tcp {ip}:{port}: connect: connection refused"
        if short == "liveness" and "httpGet" in probe and elapsed > 10_000:
            failing = True
    if failing:
        if "tcpSocket" in probe:
            port = _port(spec_c, probe["tcpSocket"].get("port"))
            return False, f"dial tcp {ip}:{port}: connect: connection refused"
        return False, f"HTTP probe failed with statuscode: {code}"
    return True, ""


@timer("kubelet.probe")
def _on_probe(cluster: Cluster, uid: str, name: str, kind: str, gen: int) -> None:
    from k8slearn.sim import containers, kubelet, podstatus

    found = kubelet._live_pod(cluster, uid)
    if found is None:
        return
    pod, prec = found
    rec = prec["containers"].get(name)
    if rec is None or rec["state"] != "Running" or prec["terminating"]:
        return
    p = rec.get("probes", {}).get(kind)
    if p is None or p["gen"] != gen or not p["active"]:
        return
    spec = _spec(pod, name).get(kind) or {}
    ok, message = probe_result(cluster, pod, prec, name, kind)
    if ok:
        p["succ"] += 1
        p["fail"] = 0
    else:
        p["fail"] += 1
        p["succ"] = 0
        containers._event(cluster, pod, prec, "Warning", "Unhealthy",
                       f"{LABEL[kind]} probe failed: {message}", name)
    if ok and p["succ"] >= spec.get("successThreshold", 1):
        p["ok"] = True
    elif not ok and p["fail"] >= spec.get("failureThreshold", 3):
        p["ok"] = False
    if kind in ("livenessProbe", "startupProbe") and not p["ok"]:
        what = "liveness" if kind == "livenessProbe" else "startup"
        containers._event(cluster, pod, prec, "Normal", "Killing",
                       f"Container {name} failed {what} probe, will be restarted", name)
        containers.container_exited(cluster, pod, prec, name, 137, "Error")
        podstatus.render(cluster, pod, prec)
        return
    if kind == "startupProbe" and p["ok"]:
        # Started: hand over to liveness/readiness, each after its own initial delay.
        p["active"] = False
        rec["started"] = True
        spec_c = _spec(pod, name)
        for other in ("livenessProbe", "readinessProbe"):
            if other in rec["probes"]:
                delay = spec_c[other].get("initialDelaySeconds", 0) - elapsed_s(cluster, rec)
                _arm(cluster, prec, name, other, delay)
        rec["ready"] = "readinessProbe" not in rec["probes"]
        podstatus.render(cluster, pod, prec)
        return
    _arm(cluster, prec, name, kind, spec.get("periodSeconds", 10))
    if kind == "readinessProbe" and rec["ready"] != p["ok"]:
        rec["ready"] = p["ok"]
        podstatus.render(cluster, pod, prec)


def elapsed_s(cluster: Cluster, rec: Obj) -> float:
    return (cluster.clock.now_ms - (rec["started_ms"] or 0)) / 1000
