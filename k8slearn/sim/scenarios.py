"""Named starting points for the playground and the lessons' exercises.

``build("web", seed=0)`` returns a fresh :class:`Cluster` in a settled state (every pod Running and
ready). The first build of a (name, seed) pair creates the cluster, applies the scenario's
manifests with ``kubectl apply`` and advances the clock until it settles; the result is kept as a
snapshot in this module, so later builds are a ``Cluster.restore`` (a few milliseconds).

Lessons may also start from their own ``manifests:`` (see ``build_from_manifests``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from k8slearn.sim.cluster import Cluster
from k8slearn.sim.errors import SimError

# How long a scenario may take to settle (virtual seconds) and the slice advanced between checks.
SETTLE_LIMIT = 600
SETTLE_SLICE = 5


@dataclass(frozen=True)
class Scenario:
    """A starting cluster: ``nodes`` workers of ``node_cpu``/``node_memory`` plus ``manifests``."""

    name: str
    title: dict[str, str]  # {"ko": …, "en": …}
    summary: dict[str, str]
    manifests: str = ""
    nodes: int = 3
    node_cpu: str = "2"
    node_memory: str = "4Gi"
    settings: dict[str, Any] = field(default_factory=dict)


def _web(replicas: int, *, extra_spec: str = "", container_extra: str = "",
         cpu: str = "100m", service: bool = True) -> str:
    """The course's standard app: Deployment ``web`` (nginx:1.25, app=web) and Service ``web``."""
    text = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
{extra_spec}  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
        resources:
          requests:
            cpu: {cpu}
            memory: 64Mi
{container_extra}"""
    if service:
        text += """\
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
"""
    return text


_READINESS = """\
        readinessProbe:
          httpGet:
            path: /
            port: 80
          periodSeconds: 5
"""

_LIVENESS = """\
        livenessProbe:
          httpGet:
            path: /
            port: 80
          periodSeconds: 5
          failureThreshold: 3
"""

# The rollout scenario spells out the defaults (25 % of 4 replicas: surge rounds up to 1,
# unavailable rounds down to 1), so "never more than 5 pods, never fewer than 3 available" is
# what a learner can read off the Deployment and check on the board.
_ROLLOUT_STRATEGY = """\
  minReadySeconds: 0
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 25%
"""

_STORAGE = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes:
  - ReadWriteOnce
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: notes
  labels:
    app: notes
spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app: notes
  template:
    metadata:
      labels:
        app: notes
    spec:
      containers:
      - name: notes
        image: nginx:1.25
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
        volumeMounts:
        - name: data
          mountPath: /data
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: data
"""

_CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: hello
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
type: Opaque
stringData:
  PASSWORD: s3cr3t
---
""" + _web(2, container_extra="""\
        env:
        - name: GREETING
          valueFrom:
            configMapKeyRef:
              name: web-config
              key: GREETING
        - name: PASSWORD
          valueFrom:
            secretKeyRef:
              name: web-secret
              key: PASSWORD
        volumeMounts:
        - name: config
          mountPath: /etc/config
      volumes:
      - name: config
        configMap:
          name: web-config
""")


def _t(ko: str, en: str) -> dict[str, str]:
    return {"ko": ko, "en": en}


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(
        "empty",
        _t("빈 클러스터", "Empty cluster"),
        _t("노드 3개만 있고 워크로드는 없다.", "Three nodes and no workloads."),
    ),
    Scenario(
        "web",
        _t("웹 앱 3개", "Web app ×3"),
        _t("노드 3개에 디플로이먼트 web(nginx:1.25, 레플리카 3)과 서비스 web이 있다.",
           "Three nodes running Deployment web (nginx:1.25, 3 replicas) and Service web."),
        _web(3),
    ),
    Scenario(
        "rollout",
        _t("롤아웃", "Rollout"),
        _t("디플로이먼트 web(레플리카 4, 준비성 프로브, maxSurge 25%, maxUnavailable 25%): "
           "파드는 5개를 넘지 않고, 사용 가능한 파드는 3개 밑으로 내려가지 않는다.",
           "Deployment web (4 replicas, readiness probe, maxSurge 25%, maxUnavailable 25%): "
           "never more than 5 pods, never fewer than 3 available."),
        _web(4, extra_spec=_ROLLOUT_STRATEGY, container_extra=_READINESS),
    ),
    Scenario(
        "probes",
        _t("프로브", "Probes"),
        _t("활성 프로브와 준비성 프로브를 가진 디플로이먼트 web(레플리카 3)과 서비스 web.",
           "Deployment web (3 replicas) with liveness and readiness probes, and Service web."),
        _web(3, container_extra=_LIVENESS + _READINESS),
    ),
    Scenario(
        "bin-packing",
        _t("빈 패킹", "Bin packing"),
        _t("CPU 1개짜리 노드 3개. 파드마다 CPU 400m을 요청하는 web 5개가 돌고, "
           "남은 자리는 정확히 하나다.",
           "Three nodes with 1 CPU each. Five web pods request 400m CPU each; "
           "there is room for exactly one more."),
        _web(5, cpu="400m", service=False),
        node_cpu="1",
    ),
    Scenario(
        "storage",
        _t("스토리지", "Storage"),
        _t("퍼시스턴트볼륨클레임 data와 그것을 /data에 마운트한 디플로이먼트 notes.",
           "PersistentVolumeClaim data and Deployment notes mounting it at /data."),
        _STORAGE,
    ),
    Scenario(
        "config",
        _t("설정", "Configuration"),
        _t("컨피그맵 web-config(GREETING=hello)를 환경 변수와 볼륨으로 쓰고, 시크릿 "
           "web-secret을 환경 변수로 쓰는 디플로이먼트 web(레플리카 2).",
           "Deployment web (2 replicas) using ConfigMap web-config (GREETING=hello) as an "
           "environment variable and a volume, and Secret web-secret as an environment variable."),
        _CONFIG,
    ),
    Scenario(
        "desired-state",
        _t("의도한 상태", "Desired state"),
        _t("디플로이먼트 web(레플리카 3)과 서비스 web. 무엇을 부수든 같은 상태로 돌아온다.",
           "Deployment web (3 replicas) and Service web: break anything, it comes back."),
        _web(3),
    ),
)}

_snapshots: dict[tuple[str, int], dict[str, Any]] = {}
_manifest_snapshots: dict[tuple[str, int], dict[str, Any]] = {}
_MANIFEST_CACHE_SIZE = 32


def settled(cluster: Cluster) -> bool:
    """Every pod Running (not terminating) with all containers ready, no claim Pending, and every
    Deployment's rollout finished."""
    for pod in cluster.store.list("Pod", None):
        status = pod.get("status") or {}
        if pod["metadata"].get("deletionTimestamp") or status.get("phase") != "Running":
            return False
        if not all(cs.get("ready") for cs in status.get("containerStatuses") or ()):
            return False
    for pvc in cluster.store.list("PersistentVolumeClaim", None):
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return False
    for d in cluster.store.list("Deployment", None):
        want = d["spec"].get("replicas", 1)
        st = d.get("status") or {}
        if (st.get("updatedReplicas", 0), st.get("readyReplicas", 0),
                st.get("replicas", 0)) != (want, want, want):
            return False
    return True


def _settle(cluster: Cluster, until_settled: bool = True) -> None:
    waited = 0
    cluster.advance(0)
    while until_settled and not settled(cluster):
        if waited >= SETTLE_LIMIT:
            raise SimError(f"the scenario did not settle within {SETTLE_LIMIT} virtual seconds")
        cluster.advance(SETTLE_SLICE)
        waited += SETTLE_SLICE


def _create(scenario: Scenario, seed: int, manifests: str) -> Cluster:
    cluster = Cluster.create(seed=seed, nodes=scenario.nodes, node_cpu=scenario.node_cpu,
                             node_memory=scenario.node_memory)
    cluster.settings.update(scenario.settings)
    if manifests.strip():
        result = cluster.kubectl("apply -f -", manifests)
        if not result.ok:
            raise SimError(f"scenario {scenario.name!r}: kubectl apply failed: "
                           f"{result.stderr.strip()}")
    _settle(cluster)
    return cluster


def build(name: str, seed: int = 0) -> Cluster:
    """A fresh, settled cluster for the named scenario (``KeyError`` for an unknown name)."""
    scenario = SCENARIOS[name]
    key = (name, seed)
    snap = _snapshots.get(key)
    if snap is None:
        snap = _create(scenario, seed, scenario.manifests).snapshot()
        _snapshots[key] = snap
    return Cluster.restore(snap)


def build_from_manifests(manifests: str, seed: int = 0, *, nodes: int = 3,
                         node_cpu: str = "2", node_memory: str = "4Gi") -> Cluster:
    """A settled cluster of ``nodes`` nodes with a lesson's own ``manifests`` applied.

    Raises ``SimError`` when kubectl rejects the manifests or the cluster does not settle.
    """
    key = (f"{nodes}/{node_cpu}/{node_memory}\n{manifests}", seed)
    snap = _manifest_snapshots.get(key)
    if snap is None:
        scenario = Scenario("manifests", _t("", ""), _t("", ""), manifests, nodes, node_cpu,
                            node_memory)
        snap = _create(scenario, seed, manifests).snapshot()
        if len(_manifest_snapshots) >= _MANIFEST_CACHE_SIZE:
            _manifest_snapshots.pop(next(iter(_manifest_snapshots)))
        _manifest_snapshots[key] = snap
    return Cluster.restore(snap)


def clear_cache() -> None:
    """Forget every cached snapshot (tests)."""
    _snapshots.clear()
    _manifest_snapshots.clear()
