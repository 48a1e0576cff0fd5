"""The container runtime half of the kubelet (``kuberuntime_manager.go``): pulling images,
creating and starting containers, and deciding what happens when one exits.

Bringing a container up: image present (and policy allows) → Pulled "already present on
machine"; otherwise Pulling → Pulled "Successfully pulled image … in 2.1s" (or Failed +
ErrImagePull → ImagePullBackOff, retried with a 10 s → 300 s back-off) → env resolved
(CreateContainerConfigError if a ConfigMap/Secret is missing) → Created → Started, and the
program's exit (if any) is scheduled.

When it exits: restartPolicy Never/OnFailure may leave it terminated; otherwise the crash-loop
back-off of ``doBackOff`` decides between restarting now and waiting in CrashLoopBackOff.
Restarts happen in place: same pod, ``restartCount`` + 1, ``lastState.terminated`` filled in.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from k8slearn.sim import images, podfiles, probes, programs
from k8slearn.sim.errors import SimError
from k8slearn.sim.events import record_event
from k8slearn.sim.podlogs import final_lines
from k8slearn.sim.pods import format_pod
from k8slearn.sim.podstatus import RUNNING, TERMINATED, kstate, transition

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]
COMPONENT = "kubelet"
BACKOFF_INITIAL = 10  # kubelet backOffPeriod
BACKOFF_MAX = 300  # MaxContainerBackOff
CONFIG_RETRY = 10  # CreateContainerConfigError / FailedMount: retried on the next sync
PULL_FAIL_MS = 1000  # resolving a tag that does not exist takes about a second
REPULL_MS = 500  # "pulling" an image whose layers are all present


def _spec_container(pod: Obj, name: str) -> Obj:
    for c in (pod["spec"].get("initContainers") or []) + (pod["spec"].get("containers") or []):
        if c.get("name") == name:
            return dict(c)
    raise SimError(f"pod has no container {name!r}")


def _field_path(name: str) -> str:
    return f"spec.containers{{{name}}}"


def _event(cluster: Cluster, pod: Obj, prec: Obj, type_: str, reason: str, message: str,
           container: str | None = None) -> None:
    record_event(cluster, pod, type_, reason, message, COMPONENT,
                 field_path=_field_path(container) if container else None, host=prec["node"])


def _container_action(cluster: Cluster, prec: Obj, name: str, seconds: float, action: str,
                      arg: Any = None) -> None:
    rec = prec["containers"][name]
    rec["gen"] += 1
    due = cluster.clock.now_ms + int(round(seconds * 1000))
    rec["next"] = [due, action, arg]
    cluster.clock.call_at_ms(due, "kubelet.container", [prec["uid"], name, rec["gen"]])


def _wait(rec: Obj, name: str, reason: str, message: str | None = None) -> None:
    transition(rec, "wait", name)
    rec["reason"] = reason
    rec["message"] = message
    rec["ready"] = False


def start_container(cluster: Cluster, pod: Obj, prec: Obj, name: str,
                    restart: bool = False) -> None:
    """Pull the image (unless present), then create and start the container."""
    rec = prec["containers"][name]
    spec_c = _spec_container(pod, name)
    image = spec_c.get("image", "")
    rec["image"] = image
    try:
        ref = images.parse(image)
    except images.InvalidImageName as err:
        _event(cluster, pod, prec, "Warning", "InspectFailed",
               f'Failed to apply default image tag "{image}": {err}', name)
        _event(cluster, pod, prec, "Warning", "Failed", "Error: InvalidImageName", name)
        _wait(rec, name, "InvalidImageName", f'Failed to apply default image tag "{image}": {err}')
        return
    present = kstate(cluster)["images"].get(prec["node"], {}).get(ref.full)
    now = cluster.clock.now_ms
    policy = spec_c.get("imagePullPolicy", "IfNotPresent")
    if present is not None and present <= now and (policy != "Always" or restart):
        _event(cluster, pod, prec, "Normal", "Pulled",
               f'Container image "{image}" already present on machine', name)
        create_and_start(cluster, pod, prec, name)
        return
    if policy == "Never" and present is None:
        msg = f'Container image "{image}" is not present with pull policy of Never'
        _event(cluster, pod, prec, "Warning", "ErrImageNeverPull", msg, name)
        _wait(rec, name, "ErrImageNeverPull", msg)
        return
    _event(cluster, pod, prec, "Normal", "Pulling", f'Pulling image "{image}"', name)
    if rec["state"] == TERMINATED:
        _wait(rec, name, "ContainerCreating")
    size, error = images.lookup(ref)
    if size is None:
        _container_action(cluster, prec, name, PULL_FAIL_MS / 1000, "pull-failed", error)
        return
    node_images = kstate(cluster)["images"].setdefault(prec["node"], {})
    ready = node_images.get(ref.full)
    if ready is None:
        ready = now + images.pull_millis(size)
        node_images[ref.full] = ready
    elif ready <= now:
        # imagePullPolicy Always and the layers are already here: only the manifest is
        # fetched again, which takes about half a second.
        ready = now + REPULL_MS
    _container_action(cluster, prec, name, (ready - now) / 1000, "pulled", [now, size])


def _pulled(cluster: Cluster, pod: Obj, prec: Obj, name: str, arg: list[int]) -> None:
    began, size = arg
    took = images.go_duration(cluster.clock.now_ms - began)
    image = _spec_container(pod, name).get("image", "")
    _event(cluster, pod, prec, "Normal", "Pulled",
           f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
           f"Image size: {size} bytes.", name)
    prec["containers"][name]["pull_backoff"] = None
    create_and_start(cluster, pod, prec, name)


def _pull_failed(cluster: Cluster, pod: Obj, prec: Obj, name: str, error: str) -> None:
    rec = prec["containers"][name]
    image = _spec_container(pod, name).get("image", "")
    _event(cluster, pod, prec, "Warning", "Failed", f'Failed to pull image "{image}": {error}', name)
    _event(cluster, pod, prec, "Warning", "Failed", "Error: ErrImagePull", name)
    _wait(rec, name, "ErrImagePull", error)
    now = cluster.clock.now_ms
    rec["pull_backoff"] = next_backoff(rec["pull_backoff"], now)
    # The next sync (about a second later) finds the image in back-off: ImagePullBackOff.
    _container_action(cluster, prec, name, 1, "pull-backoff")


def _pull_backoff(cluster: Cluster, pod: Obj, prec: Obj, name: str) -> None:
    rec = prec["containers"][name]
    image = _spec_container(pod, name).get("image", "")
    msg = f'Back-off pulling image "{image}"'
    _event(cluster, pod, prec, "Normal", "BackOff", msg, name)
    _wait(rec, name, "ImagePullBackOff", msg)
    delay, last = rec["pull_backoff"]
    _container_action(cluster, prec, name, max(0, last + delay * 1000 - cluster.clock.now_ms)
                      / 1000, "pull-retry")


def next_backoff(entry: list[int] | None, event_ms: int) -> list[int]:
    """flowcontrol.Backoff.Next: start at 10 s, double up to 300 s; an entry not updated for
    more than 2 × 300 s has expired and starts again at 10 s. Returns [delay_s, last_ms]."""
    if entry is None or event_ms - entry[1] > 2 * BACKOFF_MAX * 1000:
        return [BACKOFF_INITIAL, event_ms]
    return [min(entry[0] * 2, BACKOFF_MAX), event_ms]


def in_backoff(entry: list[int] | None, event_ms: int, now_ms: int) -> bool:
    """flowcontrol.Backoff.IsInBackOffSince(eventTime=finishedAt)."""
    if entry is None or event_ms - entry[1] > 2 * BACKOFF_MAX * 1000:
        return False
    return now_ms - event_ms < entry[0] * 1000


def create_and_start(cluster: Cluster, pod: Obj, prec: Obj, name: str) -> None:
    rec = prec["containers"][name]
    spec_c = _spec_container(pod, name)
    env, error = podfiles.resolve_env(cluster, pod, spec_c)
    if error:
        _event(cluster, pod, prec, "Warning", "Failed", f"Error: {error}", name)
        _wait(rec, name, "CreateContainerConfigError", error)
        _container_action(cluster, prec, name, CONFIG_RETRY, "start")
        return
    transition(rec, "start", name)
    now = cluster.clock.now_ms
    uid = prec["uid"]
    seed = f"{uid}/{name}/{rec['restarts']}".encode()
    rec["cid"] = hashlib.sha256(seed).hexdigest()
    try:
        rec["image_id"] = images.image_id(images.parse(spec_c.get("image", "")))
    except images.InvalidImageName:
        rec["image_id"] = ""
    rec.update(reason=None, message=None, started_ms=now, env=env, ever_ran=True, fs={})
    crash = bool(kstate(cluster)["faults"].get(uid, {}).get("crash"))
    try:
        ref = images.parse(spec_c.get("image", ""))
    except images.InvalidImageName:
        ref = None
    prog = programs.plan(ref, spec_c, env, crash=crash)
    rec["prog"] = prog
    rec["log"] = []  # appended lines only: the image's start-up lines are derived when read
    _event(cluster, pod, prec, "Normal", "Created", f"Created container: {name}", name)
    _event(cluster, pod, prec, "Normal", "Started", f"Started container {name}", name)
    has_startup = bool(spec_c.get("startupProbe"))
    rec["started"] = not has_startup
    rec["ready"] = not has_startup and not spec_c.get("readinessProbe")
    if prog["exit_ms"] is not None:
        _container_action(cluster, prec, name, prog["exit_ms"] / 1000, "exit",
                          [prog["code"], prog["reason"]])
    else:
        rec["gen"] += 1
        rec["next"] = None
    probes.start_probes(cluster, pod, prec, name, spec_c)


# -- exits, restarts, back-off --------------------------------------------------------------
def container_exited(cluster: Cluster, pod: Obj, prec: Obj, name: str, code: int,
                     reason: str) -> None:
    """The main process ended: record it, then restart now, later (back-off), or never."""
    rec = prec["containers"][name]
    transition(rec, "exit", name)
    now = cluster.clock.now_ms
    rec["exit"] = [code, reason, rec["started_ms"] / 1000, now / 1000]
    rec["ready"] = False
    rec["gen"] += 1
    rec["next"] = None
    probes.stop_probes(rec)
    if prec["terminating"]:
        return
    policy = pod["spec"].get("restartPolicy", "Always")
    if name in prec.get("init", ()):
        # Init containers run to completion, one after the other; a failed one is retried
        # (with back-off) unless the pod's policy is Never, which fails the pod.
        if code == 0:
            rec["ready"] = True
            start_next(cluster, pod, prec)
            return
        policy = "OnFailure" if policy == "Always" else policy
    if policy == "Never" or (policy == "OnFailure" and code == 0):
        return
    _maybe_restart(cluster, pod, prec, name)


def start_next(cluster: Cluster, pod: Obj, prec: Obj) -> None:
    """Start the first init container that has not completed, or else every app container."""
    for name in prec.get("init", ()):
        rec = prec["containers"][name]
        if rec["state"] == TERMINATED and rec["exit"][0] == 0:
            continue
        if not rec["ever_ran"] and rec.get("next") is None:
            start_container(cluster, pod, prec, name)
        return
    for c in pod["spec"].get("containers") or ():
        rec = prec["containers"][c["name"]]
        if not rec["ever_ran"] and rec.get("next") is None:
            start_container(cluster, pod, prec, c["name"])


def _maybe_restart(cluster: Cluster, pod: Obj, prec: Obj, name: str) -> None:
    # doBackOff: 1st exit → no entry → restart now (entry 10 s); 2nd exit → wait 10 s; 3rd →
    # 20 s … Waits before restarts #1..#8: 0, 10, 20, 40, 80, 160, 300, 300 s.
    rec = prec["containers"][name]
    finished = int(round(rec["exit"][3] * 1000))
    now = cluster.clock.now_ms
    if in_backoff(rec["backoff"], finished, now):
        delay = rec["backoff"][0]
        fp = format_pod(pod)
        _event(cluster, pod, prec, "Warning", "BackOff",
               f"Back-off restarting failed container {name} in pod {fp}", name)
        rec["last"] = [*rec["exit"], rec["cid"]]
        rec["prev_log"] = final_lines(rec)
        rec["log"] = []
        rec["prog"] = None
        _wait(rec, name, "CrashLoopBackOff",
              f"back-off {images.go_duration(delay * 1000)} restarting failed container={name} "
              f"pod={fp}")
        _container_action(cluster, prec, name, (finished + delay * 1000 - now) / 1000,
                          "restart")
        return
    rec["backoff"] = next_backoff(rec["backoff"], finished)
    _restart(cluster, pod, prec, name)


def _restart(cluster: Cluster, pod: Obj, prec: Obj, name: str) -> None:
    rec = prec["containers"][name]
    rec["last"] = [*rec["exit"], rec["cid"]]
    rec["restarts"] += 1
    if rec["state"] == TERMINATED:  # (from CrashLoopBackOff the run was archived already)
        rec["prev_log"] = final_lines(rec)
        rec["log"] = []
    start_container(cluster, pod, prec, name, restart=True)


PULL_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")


def sync_spec_changes(cluster: Cluster, pod: Obj, prec: Obj) -> None:
    """A container's image was changed on the pod (``kubectl set image pod/x``, an edit): a
    running container is killed and restarted with the new image; one stuck on a bad image is
    retried at once with the new one."""
    for c in pod["spec"].get("containers") or ():
        rec = prec["containers"].get(c.get("name"))
        if rec is None or rec.get("image") in (None, c.get("image")):
            continue
        name = c["name"]
        if rec["state"] == RUNNING:
            _event(cluster, pod, prec, "Normal", "Killing",
                   f"Container {name} definition changed, will be restarted", name)
            container_exited(cluster, pod, prec, name, 137, "Error")
        elif rec["state"] != RUNNING and rec.get("reason") in PULL_ERRORS:
            rec["pull_backoff"] = None
            rec["gen"] += 1
            rec["next"] = None
            start_container(cluster, pod, prec, name, restart=rec["ever_ran"])
