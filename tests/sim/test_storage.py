"""PersistentVolumeClaims, PersistentVolumes and the default StorageClass."""

from __future__ import annotations

import copy

import pytest
from svc_helpers import isolated_cluster, make_pod
from workload_helpers import deployment_manifest

from k8slearn.sim import ApiError, Cluster, apiserver


@pytest.fixture
def c() -> Cluster:
    return isolated_cluster()


def _pvc(c: Cluster, name: str = "data", size: str = "1Gi", **spec: object) -> dict:
    body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
            **spec}
    return apiserver.create(c, {"kind": "PersistentVolumeClaim", "metadata": {"name": name},
                                "spec": body})


def _static_pv(c: Cluster, name: str, size: str, sc: str = "manual",
               modes: tuple[str, ...] = ("ReadWriteOnce",)) -> dict:
    return apiserver.create(c, {"kind": "PersistentVolume", "metadata": {"name": name},
                                "spec": {"capacity": {"storage": size},
                                         "accessModes": list(modes),
                                         "storageClassName": sc,
                                         "hostPath": {"path": f"/mnt/{name}"}}})


def _reasons(c: Cluster, name: str) -> list[str]:
    return [e["reason"] for e in c.events if e["name"] == name]


def _claim(c: Cluster, name: str = "data") -> dict:
    return c.store.get("PersistentVolumeClaim", "default", name)


def test_default_storage_class_is_standard(c):
    sc = c.store.get("StorageClass", None, "standard")
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc["provisioner"] == "k8s.io/minikube-hostpath"
    assert sc["reclaimPolicy"] == "Delete"
    assert sc["volumeBindingMode"] == "Immediate"


def test_claim_defaults_to_the_default_class_and_filesystem(c):
    pvc = _pvc(c)
    assert pvc["spec"]["storageClassName"] == "standard"
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert pvc["status"]["phase"] == "Pending"


def test_claim_is_provisioned_and_bound_after_a_couple_of_seconds(c):
    pvc = _pvc(c)
    c.advance(1)
    assert _claim(c)["status"]["phase"] == "Pending"
    c.advance(2)
    claim = _claim(c)
    pv_name = f"pvc-{pvc['metadata']['uid']}"
    assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                               "capacity": {"storage": "1Gi"}}
    assert claim["spec"]["volumeName"] == pv_name
    pv = c.store.get("PersistentVolume", None, pv_name)
    assert pv["status"]["phase"] == "Bound"
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["spec"]["storageClassName"] == "standard"
    assert pv["spec"]["capacity"] == {"storage": "1Gi"}
    assert _reasons(c, "data") == ["ExternalProvisioning", "Provisioning",
                                   "ProvisioningSucceeded"]
    messages = [e["message"] for e in c.events if e["name"] == "data"]
    assert messages[0] == ('waiting for a volume to be created, either by external provisioner '
                           '"k8s.io/minikube-hostpath" or manually created by system '
                           "administrator")
    assert messages[-1] == f"Successfully provisioned volume {pv_name}"


def test_claim_with_missing_class_stays_pending_with_a_warning(c):
    _pvc(c, storageClassName="fast")
    c.advance(10)
    assert _claim(c)["status"]["phase"] == "Pending"
    warning = [e for e in c.events if e["reason"] == "ProvisioningFailed"][0]
    assert warning["type"] == "Warning"
    assert warning["message"] == 'storageclass.storage.k8s.io "fast" not found'


def test_creating_the_missing_class_later_provisions_the_claim(c):
    _pvc(c, storageClassName="fast")
    c.advance(1)
    apiserver.create(c, {"kind": "StorageClass", "metadata": {"name": "fast"},
                         "provisioner": "k8s.io/minikube-hostpath"})
    c.advance(3)
    assert _claim(c)["status"]["phase"] == "Bound"


def test_static_volume_with_matching_class_is_bound_smallest_first(c):
    _static_pv(c, "big", "10Gi")
    _static_pv(c, "small", "2Gi")
    _static_pv(c, "too-small", "500Mi")
    _static_pv(c, "wrong-mode", "2Gi", modes=("ReadOnlyMany",))
    c.advance(0)
    assert c.store.get("PersistentVolume", None, "small")["status"]["phase"] == "Available"
    _pvc(c, size="1Gi", storageClassName="manual")
    c.advance(0)
    claim = _claim(c)
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == "small"
    assert claim["status"]["capacity"] == {"storage": "2Gi"}
    assert c.store.get("PersistentVolume", None, "small")["status"]["phase"] == "Bound"
    assert c.store.get("PersistentVolume", None, "big")["status"]["phase"] == "Available"


def test_claim_without_class_waits_for_a_static_volume(c):
    _pvc(c, storageClassName="")
    c.advance(5)
    assert _claim(c)["status"]["phase"] == "Pending"
    assert "FailedBinding" in _reasons(c, "data")
    _static_pv(c, "pv1", "5Gi", sc="")
    c.advance(0)
    assert _claim(c)["status"]["phase"] == "Bound"


def test_deleting_the_claim_deletes_its_dynamic_volume_and_data(c):
    pvc = _pvc(c)
    c.advance(3)
    uid = pvc["metadata"]["uid"]
    c.state.setdefault("volumes", {})[uid] = {"index.html": "hello"}
    apiserver.delete(c, "PersistentVolumeClaim", "default", "data")
    c.advance(0)
    assert _claim(c) is None
    assert c.store.get("PersistentVolume", None, f"pvc-{uid}") is None
    assert uid not in c.state["volumes"]


def test_deleting_a_claim_releases_a_retained_static_volume(c):
    _static_pv(c, "keep", "1Gi")
    _pvc(c, storageClassName="manual")
    c.advance(0)
    apiserver.delete(c, "PersistentVolumeClaim", "default", "data")
    c.advance(0)
    assert c.store.get("PersistentVolume", None, "keep")["status"]["phase"] == "Released"


def test_claim_in_use_stays_terminating_until_the_pod_is_gone(c):
    _pvc(c)
    c.advance(3)
    make_pod(c, "db", volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    apiserver.delete(c, "PersistentVolumeClaim", "default", "data")
    c.advance(10)
    claim = _claim(c)
    assert claim["metadata"]["deletionTimestamp"]
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    c.store.remove("Pod", "default", "db")
    c.advance(0)
    assert _claim(c) is None
    assert c.store.count("PersistentVolume") == 0


def test_claim_validation_messages(c):
    with pytest.raises(ApiError) as err:
        apiserver.create(c, {"kind": "PersistentVolumeClaim", "metadata": {"name": "x"},
                             "spec": {}})
    assert err.value.message == (
        'PersistentVolumeClaim "x" is invalid: spec.accessModes: Required value: at least 1 '
        "access mode is required, spec.resources[storage]: Required value")


def test_claim_with_a_bad_quantity_is_a_bad_request(c):
    with pytest.raises(ApiError) as err:
        _pvc(c, size="lots")
    assert err.value.reason == "BadRequest"
    assert "quantities must match the regular expression" in err.value.message


def test_claim_spec_is_immutable_except_requests(c):
    _pvc(c)
    c.advance(3)
    body = copy.deepcopy(_claim(c))
    body["spec"]["accessModes"] = ["ReadWriteMany"]
    with pytest.raises(ApiError) as err:
        apiserver.update(c, body)
    assert "spec: Forbidden: spec is immutable after creation" in err.value.message


def test_claim_cannot_shrink(c):
    _pvc(c, size="2Gi")
    c.advance(3)
    body = copy.deepcopy(_claim(c))
    body["spec"]["resources"]["requests"]["storage"] = "1Gi"
    with pytest.raises(ApiError) as err:
        apiserver.update(c, body)
    assert "field can not be less than previous value" in err.value.message


def test_reapplying_the_original_claim_keeps_class_and_volume(c):
    _pvc(c)
    c.advance(3)
    volume = _claim(c)["spec"]["volumeName"]
    apiserver.update(c, {"kind": "PersistentVolumeClaim",
                         "metadata": {"name": "data", "namespace": "default"},
                         "spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "1Gi"}}}})
    claim = _claim(c)
    assert claim["spec"]["volumeName"] == volume
    assert claim["spec"]["storageClassName"] == "standard"
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


def test_volume_without_a_source_is_invalid(c):
    with pytest.raises(ApiError) as err:
        apiserver.create(c, {"kind": "PersistentVolume", "metadata": {"name": "pv"},
                             "spec": {"capacity": {"storage": "1Gi"},
                                      "accessModes": ["ReadWriteOnce"]}})
    assert "spec: Required value: must specify a volume type" in err.value.message


def test_provisioning_survives_a_snapshot(c):
    _pvc(c)
    c.advance(1)
    d = Cluster.restore(c.snapshot())
    d.advance(2)
    assert d.store.get("PersistentVolumeClaim", "default", "data")["status"]["phase"] == "Bound"


def test_wait_for_first_consumer_class_provisions_only_once_a_pod_uses_the_claim(c):
    apiserver.create(c, {"kind": "StorageClass", "metadata": {"name": "local"},
                         "provisioner": "k8s.io/minikube-hostpath",
                         "volumeBindingMode": "WaitForFirstConsumer"})
    _pvc(c, storageClassName="local")
    c.advance(10)
    assert _claim(c)["status"]["phase"] == "Pending"
    assert "WaitForFirstConsumer" in _reasons(c, "data")
    make_pod(c, "db", volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    c.advance(3)
    assert _claim(c)["status"]["phase"] == "Bound"


def test_deleting_a_bound_volume_waits_for_its_claim(c):
    _static_pv(c, "keep", "1Gi")
    _pvc(c, storageClassName="manual")
    c.advance(0)
    apiserver.delete(c, "PersistentVolume", None, "keep")
    c.advance(5)
    pv = c.store.get("PersistentVolume", None, "keep")
    assert pv["metadata"]["deletionTimestamp"]
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    apiserver.delete(c, "PersistentVolumeClaim", "default", "data")
    c.advance(0)
    assert c.store.get("PersistentVolume", None, "keep") is None


def test_bound_claim_whose_volume_vanished_is_lost(c):
    _pvc(c)
    c.advance(3)
    c.store.remove("PersistentVolume", None, _claim(c)["spec"]["volumeName"])
    c.advance(0)
    assert _claim(c)["status"]["phase"] == "Lost"
    assert "ClaimLost" in _reasons(c, "data")


def test_volume_pre_bound_to_a_claim_waits_for_it_and_binds_only_it(c):
    pv = _static_pv(c, "reserved", "5Gi")
    pv = copy.deepcopy(pv)
    pv["spec"]["claimRef"] = {"namespace": "default", "name": "mine"}
    apiserver.update(c, pv)
    c.advance(0)
    assert c.store.get("PersistentVolume", None, "reserved")["status"]["phase"] == "Available"
    _pvc(c, name="other", storageClassName="manual")
    c.advance(0)
    assert _claim(c, "other")["status"]["phase"] == "Pending"
    _pvc(c, name="mine", storageClassName="manual")
    c.advance(0)
    assert _claim(c, "mine")["spec"]["volumeName"] == "reserved"
    ref = c.store.get("PersistentVolume", None, "reserved")["spec"]["claimRef"]
    assert ref["uid"] == _claim(c, "mine")["metadata"]["uid"]


# -- end to end, through the whole cluster -------------------------------------------------
def _db(cluster: Cluster) -> None:
    manifest = deployment_manifest("db", "postgres:16", 1)
    spec = manifest["spec"]["template"]["spec"]
    spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/data"}]
    apiserver.create(cluster, manifest)


def test_e2e_pod_with_a_claim_runs_once_the_claim_is_bound(cluster):
    _pvc(cluster)
    _db(cluster)
    cluster.advance(30)
    assert _claim(cluster)["status"]["phase"] == "Bound"
    assert len(cluster.pods(selector="app=db", phase="Running")) == 1


def test_e2e_claim_in_use_is_deleted_only_after_its_deployment(cluster):
    _pvc(cluster)
    _db(cluster)
    cluster.advance(30)
    apiserver.delete(cluster, "PersistentVolumeClaim", "default", "data")
    cluster.advance(30)
    assert _claim(cluster)["metadata"]["deletionTimestamp"]
    apiserver.delete(cluster, "Deployment", "default", "db")
    cluster.advance(60)
    assert _claim(cluster) is None
    assert cluster.store.count("PersistentVolume") == 0
