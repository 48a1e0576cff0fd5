"""Why-cards: one line per Event saying which control loop acted and why, in Korean and English.

The Event's own message says *what* happened ("Created pod: web-…"); the why-line adds the
loop's reasoning ("want 3, have 2"), which is what the course teaches. Numbers are read from the
cluster at render time where that is still true; otherwise the line stays generic. Every reason
the simulator records has its own line (tests/web/test_why_cards.py checks the list).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from k8slearn.sim.controllers import deployment_util as du

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Event = dict[str, Any]  # a row of Cluster.events
Line = tuple[str, str]  # (ko, en)

_LOOPS: dict[str, Line] = {
    "rs": ("레플리카셋 컨트롤러", "ReplicaSet controller"),
    "deploy": ("디플로이먼트 컨트롤러", "Deployment controller"),
    "sched": ("스케줄러", "Scheduler"),
    "kubelet": ("kubelet", "kubelet"),
    "node": ("노드 수명 주기 컨트롤러", "Node lifecycle controller"),
    "taint": ("테인트(taint) 축출 컨트롤러", "Taint eviction controller"),
    "pv": ("퍼시스턴트볼륨 컨트롤러", "PersistentVolume controller"),
    "prov": ("스토리지 프로비저너", "Storage provisioner"),
}


class Burst:
    """Which events came in the same instant for the same object, so that "want 3, have 2"
    can be worked out for each of three SuccessfulCreate rows (the loop created them in a row)."""

    def __init__(self, events: list[Event]) -> None:
        self.after: dict[int, int] = {}
        groups: dict[tuple[Any, ...], list[int]] = {}
        for e in events:
            key = (e["time_ms"], e["kind"], e["namespace"], e["name"], e["reason"])
            groups.setdefault(key, []).append(e["seq"])
        for seqs in groups.values():
            for i, seq in enumerate(sorted(seqs)):
                self.after[seq] = len(seqs) - i - 1  # same-burst rows after this one

    def later(self, e: Event) -> int:
        return self.after.get(e["seq"], 0)


def why(event: Event, cluster: Cluster | None = None, burst: Burst | None = None) -> Line:
    """(ko, en) why-line for one event."""
    fn = _REASONS.get(event["reason"])
    line = fn(event, cluster, burst or Burst([event])) if fn else None
    return line or _generic(event)


def why_text(event: Event, lang: str, cluster: Cluster | None = None,
             burst: Burst | None = None) -> str:
    ko, en = why(event, cluster, burst)
    return ko if lang.startswith("ko") else en


IMPORTANT = {"SuccessfulCreate", "ScalingReplicaSet", "FailedScheduling", "BackOff", "Unhealthy",
             "NodeNotReady", "NodeReady", "TaintManagerEviction", "ReplicaSetCreateError",
             "FailedCreate", "ClaimLost"}


def important(event: Event) -> bool:
    """Worth announcing in the ARIA live region: the text twin of every animation (a pod
    replaced, a container restarted, a node lost, an eviction, a rollout step, a Pending pod,
    a failing probe or image pull)."""
    reason, msg = event["reason"], event["message"]
    if reason == "NodeNotReady":
        return event["kind"] == "Node"  # the node line, not one per pod on it
    if reason == "Killing":
        return "will be restarted" in msg
    if reason == "Failed":
        return msg.startswith("Failed to pull")
    return reason in IMPORTANT


# -- helpers -------------------------------------------------------------------------------
def _loop(key: str, ko: str, en: str) -> Line:
    lk, le = _LOOPS[key]
    return f"{lk}: {ko}", f"{le}: {en}"


def _generic(e: Event) -> Line:
    return (f"{e['component']}: {e['kind']} {e['name']}에 {e['reason']} ({e['message']})",
            f"{e['component']}: {e['reason']} on {e['kind']} {e['name']} ({e['message']})")


def _after(msg: str, prefix: str) -> str:
    return msg.split(prefix, 1)[1].strip() if prefix in msg else ""


def _quoted(msg: str) -> str:
    m = re.search(r'"([^"]*)"', msg)
    return m.group(1) if m else ""


def _container(msg: str) -> str:
    m = re.search(r"[Cc]ontainer:? (\S+)", msg)
    return m.group(1) if m else ""


def _rs(cluster: Cluster | None, e: Event) -> dict[str, Any] | None:
    if cluster is None:
        return None
    return cluster.store.get("ReplicaSet", e["namespace"], e["name"])


# -- ReplicaSet and Deployment controllers -------------------------------------------------
def _created(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    pod = _after(e["message"], "Created pod:")
    rs = _rs(cluster, e)
    if rs is not None:
        want = du.replicas(rs)
        have = want - burst.later(e) - 1
        if have >= 0:
            return _loop("rs", f"의도한 파드 {want}개, 현재 {have}개 → {pod} 생성",
                         f"want {want}, have {have} → created {pod}")
    return _loop("rs", f"파드가 의도한 수보다 적다 → {pod} 생성",
                 f"fewer pods than wanted → created {pod}")


def _deleted(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    pod = _after(e["message"], "Deleted pod:")
    rs = _rs(cluster, e)
    if rs is not None:
        want = du.replicas(rs)
        have = want + burst.later(e) + 1
        return _loop("rs", f"의도한 파드 {want}개, 현재 {have}개 → {pod} 삭제",
                     f"want {want}, have {have} → deleted {pod}")
    return _loop("rs", f"파드가 의도한 수보다 많다 → {pod} 삭제",
                 f"more pods than wanted → deleted {pod}")


_SCALED = re.compile(r"Scaled (up|down) replica set (\S+) from (\d+) to (\d+)")


def _scaled(e: Event, cluster: Cluster | None, burst: Burst) -> Line | None:
    m = _SCALED.search(e["message"])
    if not m:
        return None
    verb, rs_name, a, b = m.groups()
    newest = _is_newest(cluster, e["namespace"], e["name"], rs_name)
    if verb == "up":
        ko_why, en_why = (("새 리비전으로 롤아웃 중", "rolling out the new revision") if newest
                          else ("의도한 레플리카 수에 맞춘다", "to match the desired replicas"))
        return _loop("deploy", f"{rs_name}: {a}개 → {b}개로 늘렸다 ({ko_why})",
                     f"scaled {rs_name} up from {a} to {b} ({en_why})")
    ko_why, en_why = (("이전 리비전을 줄인다", "retiring the old revision") if newest is False
                      else ("의도한 레플리카 수에 맞춘다", "to match the desired replicas"))
    return _loop("deploy", f"{rs_name}: {a}개 → {b}개로 줄였다 ({ko_why})",
                 f"scaled {rs_name} down from {a} to {b} ({en_why})")


def _is_newest(cluster: Cluster | None, ns: str, deploy: str, rs_name: str) -> bool | None:
    """True if rs_name is the Deployment's newest revision and an older one exists; False if
    it is an older one; None when unknown or there is only one."""
    if cluster is None:
        return None
    d = cluster.store.get("Deployment", ns, deploy)
    rs = cluster.store.get("ReplicaSet", ns, rs_name)
    if d is None or rs is None:
        return None
    current = du.revision_of(d)
    rev = du.revision_of(rs)
    if rev == current:
        return True if current > 1 else None
    return False


# -- scheduler, kubelet --------------------------------------------------------------------
def _scheduled(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    node = e["message"].rsplit(" to ", 1)[-1]
    return _loop("sched", f"{e['name']} → {node}에 배치했다 (자원이 맞고 점수가 가장 높은 노드)",
                 f"placed {e['name']} on {node} (it fits and scored best)")


def _failed_scheduling(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    return _loop("sched", f"{e['name']}에 맞는 노드가 없다 → Pending으로 남는다 ({e['message']})",
                 f"no node fits {e['name']} → it stays Pending ({e['message']})")


def _pulling(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    image = _quoted(e["message"])
    return _loop("kubelet", f"{e['name']}에 필요한 이미지 {image} 받는 중",
                 f"pulling image {image} for {e['name']}")


def _pulled(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    image = _quoted(e["message"])
    if "already present" in e["message"]:
        return _loop("kubelet", f"이미지 {image}: 이미 노드에 있다 → 바로 컨테이너를 만든다",
                     f"image {image} is already on the node → creating the container")
    return _loop("kubelet", f"이미지 {image} 받기 완료 → 컨테이너를 만든다",
                 f"pulled image {image} → creating the container")


def _failed(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    msg = e["message"]
    if msg.startswith("Failed to pull"):
        image = _quoted(msg)
        return _loop("kubelet", f"이미지 {image} 받기 실패 → 기다렸다가 다시 시도한다",
                     f"could not pull image {image} → will retry after a back-off")
    err = _after(msg, "Error:") or msg
    return _loop("kubelet", f"{e['name']}의 컨테이너를 시작할 수 없다 ({err})",
                 f"cannot start a container of {e['name']} ({err})")


def _inspect_failed(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    return _loop("kubelet", f"이미지 이름이 잘못됐다 → {e['name']} 시작 불가",
                 f"the image name is invalid → {e['name']} cannot start")


def _never_pull(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    return _loop("kubelet", "imagePullPolicy가 Never인데 노드에 이미지가 없다 → 시작할 수 없다",
                 "imagePullPolicy is Never and the image is not on the node → cannot start")


def _backoff(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    msg = e["message"]
    if "pulling image" in msg:
        image = _quoted(msg)
        return _loop("kubelet",
                     f"이미지 {image} 받기를 미룬다 (ImagePullBackOff, 기다리는 시간이 점점 길어진다)",
                     f"waiting before pulling {image} again (ImagePullBackOff; each wait is longer)")
    c = _container(msg) or "?"
    return _loop("kubelet",
                 f"{c} 컨테이너가 계속 종료된다 → 재시작 전에 점점 더 오래 기다린다 (CrashLoopBackOff)",
                 f"container {c} keeps exiting → waiting longer before each restart "
                 "(CrashLoopBackOff)")


def _created_container(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    c = _after(e["message"], "container:") or _container(e["message"])
    return _loop("kubelet", f"{e['name']}의 {c} 컨테이너를 만들었다",
                 f"created container {c} of {e['name']}")


def _started(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    c = _after(e["message"], "container")
    return _loop("kubelet", f"{e['name']}의 {c} 컨테이너를 시작했다",
                 f"started container {c} of {e['name']}")


def _killing(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    msg, c = e["message"], _container(e["message"])
    if "liveness probe" in msg or "startup probe" in msg:
        probe = "활성 프로브(liveness probe)" if "liveness" in msg else "스타트업 프로브(startup probe)"
        kind = "liveness" if "liveness" in msg else "startup"
        return _loop("kubelet", f"{probe}가 연속으로 실패했다 → {c} 컨테이너를 재시작한다",
                     f"the {kind} probe kept failing → restarting container {c}")
    if "definition changed" in msg:
        return _loop("kubelet", f"{c} 컨테이너 정의가 바뀌었다 → 재시작한다",
                     f"the definition of container {c} changed → restarting it")
    return _loop("kubelet", f"{e['name']} 삭제 중 → {c} 컨테이너를 멈춘다",
                 f"{e['name']} is being deleted → stopping container {c}")


def _unhealthy(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    msg = e["message"]
    if msg.startswith("Readiness"):
        return _loop("kubelet",
                     f"준비성 프로브(readiness probe) 실패 → {e['name']}: 서비스 엔드포인트에서 뺀다",
                     f"readiness probe failed → {e['name']} is taken out of the Service endpoints")
    if msg.startswith("Liveness"):
        return _loop("kubelet", "활성 프로브(liveness probe) 실패 → 계속 실패하면 컨테이너를 재시작한다",
                     "liveness probe failed → the container is restarted if it keeps failing")
    return _loop("kubelet", "스타트업 프로브(startup probe) 실패 → 계속 실패하면 컨테이너를 재시작한다",
                 "startup probe failed → the container is restarted if it keeps failing")


def _failed_mount(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    return _loop("kubelet", f"{e['name']}의 볼륨을 마운트할 수 없다 → 잠시 후 다시 시도한다",
                 f"cannot mount a volume of {e['name']} → retrying shortly")


# -- node lifecycle and eviction -----------------------------------------------------------
def _node_not_ready(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    if e["kind"] == "Node":
        return _loop("node", f"{e['name']}의 하트비트가 끊겼다 → NotReady",
                     f"{e['name']} stopped sending heartbeats → NotReady")
    return _loop("node", f"{e['name']}의 노드가 준비되지 않았다 → 파드를 Ready가 아니라고 표시한다",
                 f"the node of {e['name']} is not ready → pod marked not Ready "
                 "(it leaves the endpoints)")


def _node_ready(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    return _loop("node", f"{e['name']}에서 다시 하트비트가 온다 → Ready",
                 f"{e['name']} is sending heartbeats again → Ready")


def _eviction(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
    if e["message"].startswith("Cancelling"):
        return _loop("taint", f"노드가 돌아왔다 → {e['name']} 축출을 취소한다",
                     f"the node is back → cancelled the eviction of {e['name']}")
    return _loop("taint",
                 f"노드 테인트에 대한 {e['name']}의 톨러레이션 시간이 지났다 → 축출한다 "
                 "(레플리카셋이 새 파드를 만든다)",
                 f"{e['name']} outstayed its toleration of the node's taint → evicted "
                 "(its ReplicaSet makes a replacement)")


# -- storage -------------------------------------------------------------------------------
def _simple(loop: str, ko: str, en: str) -> Callable[[Event, Any, Burst], Line]:
    def line(e: Event, cluster: Cluster | None, burst: Burst) -> Line:
        return _loop(loop, ko.format(name=e["name"], msg=e["message"]),
                     en.format(name=e["name"], msg=e["message"]))
    return line


_REASONS: dict[str, Callable[[Event, Any, Burst], Line | None]] = {
    "SuccessfulCreate": _created,
    "SuccessfulDelete": _deleted,
    "FailedCreate": _simple("rs", "파드를 만들지 못했다 ({msg})", "could not create a pod ({msg})"),
    "FailedDelete": _simple("rs", "파드를 삭제하지 못했다 ({msg})", "could not delete a pod ({msg})"),
    "ScalingReplicaSet": _scaled,
    du.FAILED_RS_CREATE_REASON: _simple("deploy", "새 레플리카셋을 만들지 못했다 ({msg})",
                                        "could not create the new ReplicaSet ({msg})"),
    "Scheduled": _scheduled,
    "FailedScheduling": _failed_scheduling,
    "Pulling": _pulling,
    "Pulled": _pulled,
    "Failed": _failed,
    "InspectFailed": _inspect_failed,
    "ErrImageNeverPull": _never_pull,
    "BackOff": _backoff,
    "Created": _created_container,
    "Started": _started,
    "Killing": _killing,
    "Unhealthy": _unhealthy,
    "FailedMount": _failed_mount,
    "NodeNotReady": _node_not_ready,
    "NodeReady": _node_ready,
    "TaintManagerEviction": _eviction,
    "ClaimLost": _simple("pv", "{name}의 퍼시스턴트볼륨이 사라졌다 → 데이터를 잃었다",
                         "the PersistentVolume of {name} is gone → its data is lost"),
    "FailedBinding": _simple("pv", "{name}에 맞는 볼륨이 없고 스토리지클래스(StorageClass)도 지정되지 않았다",
                             "no volume matches {name} and it names no StorageClass"),
    "ProvisioningFailed": _simple("pv", "{name}의 볼륨을 만들 수 없다 ({msg})",
                                  "cannot provision a volume for {name} ({msg})"),
    "WaitForFirstConsumer": _simple("pv", "{name}: 사용할 파드가 생길 때까지 바인딩을 미룬다",
                                    "binding of {name} waits until a pod uses it"),
    "ExternalProvisioning": _simple("pv", "{name}의 볼륨을 프로비저너에게 맡긴다",
                                    "asked the provisioner for a volume for {name}"),
    "Provisioning": _simple("prov", "{name}의 볼륨을 만드는 중", "provisioning a volume for {name}"),
    "ProvisioningSucceeded": _simple("prov", "{name}의 볼륨을 만들었다 ({msg})",
                                     "provisioned a volume for {name} ({msg})"),
}
KNOWN_REASONS = tuple(_REASONS)
