"""Steps: one small vocabulary for the playground's buttons, lesson solutions and tests.

A step is a one-key dict (YAML-friendly)::

    {"kubectl": "scale deployment web --replicas=5"}   # a kubectl line ("kubectl " optional)
    {"apply": "apiVersion: v1\\nkind: ConfigMap …"}      # a YAML manifest (multi-document)
    {"advance": 30}                                     # virtual seconds, 0 < s <= 3600
    {"step": {}}                                        # one reconcile round or the next timer
    {"kill_container": {"pod": "web-…"}}                # or {"selector": "app=web"}; "container"
    {"kill_container": {"container": "web"}}            # the first Running pod with container web
    {"delete_pod": {"selector": "app=web"}}             # or {"pod": …}
    {"fail_node": "node-2"} / {"recover_node": "node-2"}
    {"add_node": {}}                                    # optional name / cpu / memory
    {"cordon": "node-1"} / {"uncordon": "node-1"} / {"drain": "node-1"}
    {"scale": {"deployment": "web", "replicas": 5}}
    {"set_image": {"deployment": "web", "image": "nginx:1.26"}}   # optional container
    {"undo": {"deployment": "web"}}                     # optional to_revision
    {"restart": {"deployment": "web"}}
    {"traffic": {"service": "web", "requests": 30}}
    {"stream": {"service": "web", "rate": 5}}          # 5 requests a second until rate 0
    {"fault": {"target": "app=web", "fault": "readiness", "on": True}}   # every matching pod;
    {"fault": {"selector": "app=web", "fault": "crash"}}      # or one pod: "pod" / "selector"
    {"configmap": {"name": "web-config", "data": {"GREETING": "hi"}}}   # create or replace data
    {"exec": {"selector": "app=web", "command": "cat /data/note"}}     # or "pod"; "container"

``run_step(cluster, step)`` never raises for bad input: problems come back as
``StepResult(ok=False, error=…)`` with a message a learner can read. Steps that map onto a kubectl
command run through ``cluster.kubectl`` so their output is kubectl's own text. Like kubectl on a
real cluster, those return as soon as the API server has stored the change: the controllers act
when the clock moves (``advance``/``step``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from k8slearn.sim.errors import ApiError, SimError

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

MAX_ADVANCE = 3600
MAX_REQUESTS = 1000
FAULTS = ("liveness", "readiness", "crash")


@dataclass(frozen=True)
class StepResult:
    """What one step did: ``output`` (kubectl-style text) on success, ``error`` otherwise."""

    ok: bool
    output: str = ""
    error: str = ""


class StepError(Exception):
    """A step that cannot run; the message is shown to the learner."""


# --------------------------------------------------------------------------- argument shapes
# Each step kind: (argument shape, required keys, optional keys). Shapes: "str" (a text),
# "number", "map" (a mapping with the listed keys), "node" (a node name as text).
_Spec = tuple[str, tuple[str, ...], tuple[str, ...]]
SPECS: dict[str, _Spec] = {
    "kubectl": ("str", (), ()),
    "apply": ("str", (), ()),
    "advance": ("number", (), ()),
    "step": ("map", (), ()),
    "kill_container": ("map", (), ("pod", "selector", "container")),
    "delete_pod": ("map", (), ("pod", "selector")),
    "fail_node": ("str", (), ()),
    "recover_node": ("str", (), ()),
    "add_node": ("map", (), ("name", "cpu", "memory")),
    "cordon": ("str", (), ()),
    "uncordon": ("str", (), ()),
    "drain": ("str", (), ()),
    "scale": ("map", ("deployment", "replicas"), ()),
    "set_image": ("map", ("deployment", "image"), ("container",)),
    "undo": ("map", ("deployment",), ("to_revision",)),
    "restart": ("map", ("deployment",), ()),
    "traffic": ("map", ("service",), ("requests",)),
    "stream": ("map", ("service", "rate"), ()),
    "fault": ("map", ("fault",), ("target", "pod", "selector", "on")),
    "configmap": ("map", ("name", "data"), ()),
    "exec": ("map", ("command",), ("pod", "selector", "container")),
}
STEP_KINDS = tuple(SPECS)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def validate_step(step: Any) -> list[str]:
    """Problems with ``step`` (empty when it is well formed). Never raises."""
    if not isinstance(step, dict) or len(step) != 1:
        return ["a step must be a mapping with exactly one key, like {advance: 10} "
                f"(known steps: {', '.join(STEP_KINDS)})"]
    kind, arg = next(iter(step.items()))
    if kind not in SPECS:
        return [f'unknown step "{kind}" (known steps: {", ".join(STEP_KINDS)})']
    shape, required, optional = SPECS[kind]
    if shape == "str":
        return [] if _nonempty_str(arg) else [f"{kind}: must be a non-empty text"]
    if shape == "number":
        if not _is_number(arg) or not 0 < arg <= MAX_ADVANCE:
            return [f"{kind}: must be a number of seconds, more than 0 and at most {MAX_ADVANCE}"]
        return []
    if arg is None:
        arg = {}
    if not isinstance(arg, dict):
        return [f"{kind}: must be a mapping"]
    errors: list[str] = []
    allowed = required + optional
    for key in arg:
        if key not in allowed:
            errors.append(f"{kind}: unknown key '{key}'"
                          + (f" (allowed: {', '.join(allowed)})" if allowed else ""))
    for key in required:
        if key not in arg:
            errors.append(f"{kind}: '{key}' is missing")
    errors.extend(_check_values(kind, arg))
    return errors


def _check_values(kind: str, arg: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    for key in ("pod", "selector", "container", "deployment", "image", "service", "target",
                "name", "cpu", "memory"):
        if key in arg and not _nonempty_str(arg[key]):
            errors.append(f"{kind}: '{key}' must be a non-empty text")
    container_only = kind == "kill_container" and set(arg) == {"container"}
    if (kind in ("kill_container", "delete_pod", "exec") and ("pod" in arg) == ("selector" in arg)
            and not container_only):
        errors.append(f"{kind}: give either 'pod' or 'selector'"
                      + (" (or only 'container')" if kind == "kill_container" else ""))
    if kind == "scale" and "replicas" in arg and (
            not isinstance(arg["replicas"], int) or isinstance(arg["replicas"], bool)
            or arg["replicas"] < 0):
        errors.append("scale: 'replicas' must be a whole number, 0 or more")
    if kind == "undo" and "to_revision" in arg and (
            not isinstance(arg["to_revision"], int) or isinstance(arg["to_revision"], bool)
            or arg["to_revision"] < 0):
        errors.append("undo: 'to_revision' must be a whole number")
    if kind == "traffic" and "requests" in arg and (
            not isinstance(arg["requests"], int) or isinstance(arg["requests"], bool)
            or not 0 < arg["requests"] <= MAX_REQUESTS):
        errors.append(f"traffic: 'requests' must be a whole number from 1 to {MAX_REQUESTS}")
    if kind == "stream" and "rate" in arg and (
            not isinstance(arg["rate"], int) or isinstance(arg["rate"], bool)
            or not 0 <= arg["rate"] <= 100):
        errors.append("stream: 'rate' must be a whole number of requests per second, 0 to 100")
    if kind == "fault":
        if sum(k in arg for k in ("target", "pod", "selector")) != 1:
            errors.append("fault: give one of 'target' (every matching pod), 'pod' or "
                          "'selector' (its first Running pod)")
        if "fault" in arg and arg["fault"] not in FAULTS:
            errors.append(f"fault: 'fault' must be one of {', '.join(FAULTS)}")
        if "on" in arg and not isinstance(arg["on"], bool):
            errors.append("fault: 'on' must be true or false")
    if kind == "configmap" and "data" in arg and (
            not isinstance(arg["data"], dict)
            or not all(isinstance(k, str) and isinstance(v, str | int | float)
                       and not isinstance(v, bool) for k, v in arg["data"].items())):
        errors.append("configmap: 'data' must map names to texts")
    if kind == "exec" and "command" in arg:
        cmd = arg["command"]
        if not (_nonempty_str(cmd) or (isinstance(cmd, list) and cmd
                                       and all(isinstance(a, str) for a in cmd))):
            errors.append("exec: 'command' must be a text or a list of texts")
    return errors


# --------------------------------------------------------------------------- running


def run_step(cluster: Cluster, step: Any) -> StepResult:
    """Run one step against ``cluster``. Never raises: problems become ``ok=False``."""
    problems = validate_step(step)
    if problems:
        return StepResult(False, "", "; ".join(problems))
    kind, arg = next(iter(step.items()))
    try:
        return _RUNNERS[kind](cluster, arg if arg is not None else {})
    except StepError as err:
        return StepResult(False, "", str(err))
    except ApiError as err:
        from k8slearn.sim.kubectl.util import api_error_text

        return StepResult(False, "", api_error_text(err))
    except (SimError, ValueError, KeyError, TypeError) as err:
        return StepResult(False, "", str(err) or type(err).__name__)
    except Exception as err:  # noqa: BLE001 - the promise is that nothing escapes
        return StepResult(False, "", f"internal error in the simulator: {type(err).__name__}")


def _kubectl(cluster: Cluster, line: str, stdin: str | None = None) -> StepResult:
    result = cluster.kubectl(line, stdin)
    return StepResult(result.ok, result.stdout, result.stderr)


def _quote(value: str) -> str:
    return shlex.quote(str(value))


def running_pod(cluster: Cluster, selector: str) -> str:
    """The name of the first (by name) Running, not terminating pod matching ``selector``."""
    try:
        pods = cluster.pods(selector, phase="Running")
    except ValueError as err:
        raise StepError(f"invalid selector {selector!r}: {err}") from err
    names = sorted(p["metadata"]["name"] for p in pods)
    if not names:
        raise StepError(f"no Running pod matches {selector}")
    return names[0]


def _pod_arg(cluster: Cluster, arg: dict[str, Any]) -> str:
    if "pod" in arg:
        return str(arg["pod"])
    return running_pod(cluster, str(arg["selector"]))


def _run_kubectl(cluster: Cluster, line: str) -> StepResult:
    line = line.strip()
    if line == "kubectl" or line.startswith("kubectl "):
        line = line[len("kubectl"):].strip()
    return _kubectl(cluster, line)


def _run_apply(cluster: Cluster, text: str) -> StepResult:
    return _kubectl(cluster, "apply -f -", text)


def _run_advance(cluster: Cluster, seconds: float) -> StepResult:
    cluster.advance(seconds)
    return StepResult(True, f"advanced {seconds:g}s (now t={cluster.now:g}s)\n", "")


def _run_step(cluster: Cluster, _arg: dict[str, Any]) -> StepResult:
    ran = cluster.step()
    if not ran:
        return StepResult(True, "nothing to do: the cluster is quiet\n", "")
    return StepResult(True, "".join(f"{line}\n" for line in ran), "")


def pod_with_container(cluster: Cluster, container: str) -> str:
    """The first (by name) Running, not terminating pod that has a container ``container``."""
    names = sorted(p["metadata"]["name"] for p in cluster.pods(phase="Running")
                   if any(c.get("name") == container for c in p["spec"].get("containers", ())))
    if not names:
        raise StepError(f"no Running pod has a container named {container}")
    return names[0]


def _run_kill(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    # {container: web} alone: the first Running pod with that container ("kill-container: web").
    pod = (pod_with_container(cluster, str(arg["container"])) if set(arg) == {"container"}
           else _pod_arg(cluster, arg))
    cluster.kill_container(pod, arg.get("container"))
    return StepResult(True, f"killed the main process of pod/{pod} (exit code 137)\n", "")


def _run_delete_pod(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    return _kubectl(cluster, f"delete pod {_quote(_pod_arg(cluster, arg))}")


def _node_exists(cluster: Cluster, name: str) -> None:
    if cluster.store.get("Node", None, name) is None:
        raise StepError(f'nodes "{name}" not found')


def _run_fail_node(cluster: Cluster, name: str) -> StepResult:
    _node_exists(cluster, name)
    cluster.fail_node(name)
    return StepResult(True, f"node/{name} stopped heart-beating (power cut)\n", "")


def _run_recover_node(cluster: Cluster, name: str) -> StepResult:
    _node_exists(cluster, name)
    cluster.recover_node(name)
    return StepResult(True, f"node/{name} is back\n", "")


def _run_add_node(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    name = arg.get("name")
    if name is not None and cluster.store.get("Node", None, name) is not None:
        raise StepError(f'nodes "{name}" already exists')
    nodes = cluster.store.list("Node")
    # A new node looks like its siblings unless told otherwise.
    cap = (nodes[0].get("status") or {}).get("capacity", {}) if nodes else {}
    cpu = str(arg.get("cpu") or cap.get("cpu") or "2")
    memory = str(arg.get("memory") or cap.get("memory") or "4Gi")
    added = cluster.add_node(name, cpu=cpu, memory=memory)
    return StepResult(True, f"node/{added} joined (cpu {cpu}, memory {memory})\n", "")


def _run_cordon(cluster: Cluster, name: str) -> StepResult:
    return _kubectl(cluster, f"cordon {_quote(name)}")


def _run_uncordon(cluster: Cluster, name: str) -> StepResult:
    return _kubectl(cluster, f"uncordon {_quote(name)}")


def _run_drain(cluster: Cluster, name: str) -> StepResult:
    return _kubectl(cluster, f"drain {_quote(name)} --ignore-daemonsets --delete-emptydir-data")


def _run_scale(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    return _kubectl(cluster, f"scale deployment/{_quote(arg['deployment'])} "
                             f"--replicas={int(arg['replicas'])}")


def _run_set_image(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    name = str(arg["deployment"])
    container = arg.get("container")
    if container is None:
        deploy = cluster.store.get("Deployment", "default", name)
        if deploy is None:
            raise StepError(f'deployments.apps "{name}" not found')
        containers = deploy["spec"]["template"]["spec"].get("containers") or []
        if not containers:
            raise StepError(f"deployment {name} has no containers")
        container = containers[0]["name"]
    pair = f"{container}={arg['image']}"
    return _kubectl(cluster, f"set image deployment/{_quote(name)} {_quote(pair)}")


def _run_undo(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    line = f"rollout undo deployment/{_quote(arg['deployment'])}"
    if "to_revision" in arg:
        line += f" --to-revision={int(arg['to_revision'])}"
    return _kubectl(cluster, line)


def _run_restart(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    return _kubectl(cluster, f"rollout restart deployment/{_quote(arg['deployment'])}")


def _run_traffic(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    service = str(arg["service"])
    requests = int(arg.get("requests", 10))
    served = cluster.send_traffic(service, requests)
    counts: dict[str, int] = {}
    failed = 0
    for pod in served:
        if pod is None:
            failed += 1
        else:
            counts[pod] = counts.get(pod, 0) + 1
    lines = [f"{requests} requests to service/{service}:"]
    lines += [f"  {pod}: {n}" for pod, n in sorted(counts.items())]
    if failed:
        lines.append(f"  no ready endpoint (connection refused): {failed}")
    return StepResult(True, "\n".join(lines) + "\n", "")


def _run_stream(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    service, rate = str(arg["service"]), int(arg["rate"])
    cluster.stream_traffic(service, rate)
    if rate == 0:
        return StepResult(True, f"stopped the traffic to service/{service}\n", "")
    return StepResult(True, f"sending {rate} requests a second to service/{service}\n", "")


def _run_fault(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    on = bool(arg.get("on", True))
    fault = str(arg["fault"])
    target = str(arg["target"]) if "target" in arg else _pod_arg(cluster, arg)
    cluster.set_fault(target, fault, on)
    state = "on" if on else "off"
    return StepResult(True, f"fault {fault} {state} for {target}\n", "")


def _run_configmap(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    # Keys given replace their values; other keys stay (like `kubectl patch`), so a form that
    # changes one key does not wipe the rest.
    existing = cluster.store.get("ConfigMap", "default", str(arg["name"]))
    data = dict((existing or {}).get("data") or {})
    data.update({str(k): str(v) for k, v in arg["data"].items()})
    manifest = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": str(arg["name"])}, "data": data}
    return _kubectl(cluster, "apply -f -", yaml.safe_dump(manifest, sort_keys=False))


def _run_exec(cluster: Cluster, arg: dict[str, Any]) -> StepResult:
    from k8slearn.sim import podexec

    pod = _pod_arg(cluster, arg)
    cmd = arg["command"]
    try:
        argv = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
    except ValueError as err:
        raise StepError(f"exec: cannot split the command: {err}") from err
    code, output = podexec.exec_command(cluster, "default", pod, arg.get("container"), argv)
    if code != 0:
        return StepResult(False, output, f"command terminated with exit code {code}\n")
    return StepResult(True, output, "")


_RUNNERS: dict[str, Callable[[Cluster, Any], StepResult]] = {
    "kubectl": _run_kubectl,
    "apply": _run_apply,
    "advance": _run_advance,
    "step": _run_step,
    "kill_container": _run_kill,
    "delete_pod": _run_delete_pod,
    "fail_node": _run_fail_node,
    "recover_node": _run_recover_node,
    "add_node": _run_add_node,
    "cordon": _run_cordon,
    "uncordon": _run_uncordon,
    "drain": _run_drain,
    "scale": _run_scale,
    "set_image": _run_set_image,
    "undo": _run_undo,
    "restart": _run_restart,
    "traffic": _run_traffic,
    "stream": _run_stream,
    "fault": _run_fault,
    "configmap": _run_configmap,
    "exec": _run_exec,
}
