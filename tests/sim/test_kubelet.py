"""The kubelet: start-up, images, status, restarts, termination, config, volumes, logs, usage."""

from __future__ import annotations

import copy

import pytest
from pod_helpers import condition, create_pod, cstatus, messages, pod, pod_manifest, state_of

from k8slearn.sim import ApiError, Cluster, SimError, apiserver
from k8slearn.sim.kubelet import container_logs, read_file, usage, write_file
from k8slearn.sim.podstatus import new_container_record, transition


def test_pod_goes_container_creating_then_running_with_events(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(1)
    assert state_of(cluster, "web-x") == ("waiting", "ContainerCreating")
    assert pod(cluster, "web-x")["status"]["phase"] == "Pending"
    cluster.advance(2)
    p = pod(cluster, "web-x")
    assert p["status"]["phase"] == "Running"
    assert state_of(cluster, "web-x") == ("running", None)
    assert cstatus(cluster, "web-x")["ready"] is True
    assert p["status"]["podIP"].startswith("10.244.")
    assert p["status"]["hostIP"].startswith("192.168.49.")
    assert [e["reason"] for e in cluster.events if e["name"] == "web-x"] == [
        "Scheduled", "Pulling", "Pulled", "Created", "Started"]
    assert messages(cluster, "web-x", "Pulled") == [
        'Successfully pulled image "nginx:1.25" in 2.1s (2.1s including waiting). '
        "Image size: 70000000 bytes."]
    assert messages(cluster, "web-x", "Created") == ["Created container: app"]
    assert messages(cluster, "web-x", "Started") == ["Started container app"]
    types = [c["type"] for c in p["status"]["conditions"]]
    assert types == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                     "PodScheduled"]
    assert condition(cluster, "web-x", "Ready")["status"] == "True"


def test_second_pull_on_a_node_finds_the_image_present(cluster: Cluster) -> None:
    create_pod(cluster, "a", nodeName="node-1")
    cluster.advance(5)
    create_pod(cluster, "b", nodeName="node-1")
    cluster.advance(0)
    assert messages(cluster, "b", "Pulled") == [
        'Container image "nginx:1.25" already present on machine']
    assert state_of(cluster, "b") == ("running", None)


def test_latest_image_is_pulled_again_always(cluster: Cluster) -> None:
    create_pod(cluster, "a", "nginx", nodeName="node-1")
    cluster.advance(5)
    create_pod(cluster, "b", "nginx", nodeName="node-1")
    cluster.advance(5)
    assert pod(cluster, "b")["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    assert messages(cluster, "b", "Pulling") == ['Pulling image "nginx"']


def test_unknown_tag_gives_err_image_pull_then_backoff(cluster: Cluster) -> None:
    create_pod(cluster, "bad", "nginx:9.9")
    cluster.advance(1.5)
    assert state_of(cluster, "bad") == ("waiting", "ErrImagePull")
    err = ('rpc error: code = NotFound desc = failed to pull and unpack image '
           '"docker.io/library/nginx:9.9": failed to resolve reference '
           '"docker.io/library/nginx:9.9": docker.io/library/nginx:9.9: not found')
    assert messages(cluster, "bad", "Failed") == [
        f'Failed to pull image "nginx:9.9": {err}', "Error: ErrImagePull"]
    cluster.advance(1)
    assert state_of(cluster, "bad") == ("waiting", "ImagePullBackOff")
    assert messages(cluster, "bad", "BackOff") == ['Back-off pulling image "nginx:9.9"']
    cluster.advance(600)
    pulls = [e["time_ms"] / 1000 for e in cluster.events if e["name"] == "bad"
             and e["reason"] == "Pulling"]
    gaps = [round(b - a) for a, b in zip(pulls, pulls[1:])]
    assert gaps[:5] == [11, 21, 41, 81, 161]  # 1 s to fail + back-off 10, 20, 40, 80, 160 s


@pytest.mark.parametrize("image", [
    "nginx:1.14.2", "nginx:1.16.1", "nginx:1.25", "nginx:1.27.3", "nginx:latest", "nginx",
    "nginx:1.25-alpine", "busybox:1.28", "busybox", "registry.k8s.io/busybox",
    "redis", "redis:7.2-alpine", "httpd:2.4", "mysql:5.6", "postgres:16",
    "registry.k8s.io/echoserver:1.4", "k8s.gcr.io/echoserver:1.10",
    "gcr.io/google-samples/hello-app:1.0", "registry.k8s.io/nginx-slim:0.8", "polinux/stress",
    "registry.k8s.io/e2e-test-images/agnhost:2.39"])
def test_catalogue_accepts_images_from_the_docs(image: str) -> None:
    from k8slearn.sim import images

    assert images.lookup(images.parse(image))[0] is not None


@pytest.mark.parametrize(("image", "fragment"), [
    ("nginx:9.9", "docker.io/library/nginx:9.9: not found"),
    ("nginx:doesnotexist", "not found"),
    ("ngnix:1.25", "pull access denied"),
    ("registry.k8s.io/echoserver:9.9", "not found"),
])
def test_catalogue_rejects_images_that_do_not_exist(image: str, fragment: str) -> None:
    from k8slearn.sim import images

    size, err = images.lookup(images.parse(image))
    assert size is None and fragment in err


def test_killed_container_restarts_in_place_with_restart_count_1(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    cluster.kill_container("web-x")
    cs = cstatus(cluster, "web-x")
    assert cs["restartCount"] == 1
    assert "running" in cs["state"]
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert pod(cluster, "web-x")["metadata"]["name"] == "web-x"


def test_killing_a_waiting_container_is_an_illegal_transition(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(0.5)
    before = cstatus(cluster, "web-x")
    with pytest.raises(SimError):
        cluster.kill_container("web-x")
    assert cstatus(cluster, "web-x") == before


@pytest.mark.parametrize(("state", "event"), [("Waiting", "exit"), ("Running", "start"),
                                              ("Running", "wait"), ("Terminated", "exit")])
def test_illegal_container_transitions_raise_and_change_nothing(state: str, event: str) -> None:
    rec = new_container_record()
    rec["state"] = state
    with pytest.raises(SimError):
        transition(rec, event, "app")
    assert rec["state"] == state


def test_restart_policy_never_gives_succeeded_or_failed(cluster: Cluster) -> None:
    create_pod(cluster, "ok", "busybox:1.36", command=["sh", "-c", "sleep 2; exit 0"],
               restartPolicy="Never")
    create_pod(cluster, "bad", "busybox:1.36", command=["sh", "-c", "exit 3"],
               restartPolicy="Never")
    cluster.advance(10)
    assert pod(cluster, "ok")["status"]["phase"] == "Succeeded"
    assert state_of(cluster, "ok") == ("terminated", "Completed")
    assert pod(cluster, "bad")["status"]["phase"] == "Failed"
    assert cstatus(cluster, "bad")["state"]["terminated"]["exitCode"] == 3
    assert condition(cluster, "ok", "Ready")["reason"] == "PodCompleted"


def test_restart_policy_on_failure_restarts_only_failures(cluster: Cluster) -> None:
    create_pod(cluster, "ok", "busybox:1.36", command=["sh", "-c", "exit 0"],
               restartPolicy="OnFailure")
    create_pod(cluster, "bad", "busybox:1.36", command=["sh", "-c", "exit 1"],
               restartPolicy="OnFailure")
    cluster.advance(5)
    assert pod(cluster, "ok")["status"]["phase"] == "Succeeded"
    assert pod(cluster, "bad")["status"]["phase"] == "Running"
    assert cstatus(cluster, "bad")["restartCount"] >= 1


def test_busybox_without_command_completes_and_crashloops(cluster: Cluster) -> None:
    create_pod(cluster, "bb", "busybox")
    cluster.advance(30)
    cs = cstatus(cluster, "bb")
    assert cs["lastState"]["terminated"]["reason"] == "Completed"
    assert cs["restartCount"] >= 2


def test_crash_fault_makes_app_exit_about_a_second_after_start(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    cluster.set_fault("web-x", "crash")
    cluster.advance(1)
    cs = cstatus(cluster, "web-x")
    assert cs["restartCount"] == 1 and cs["lastState"]["terminated"]["exitCode"] == 1
    cluster.advance(1)
    assert state_of(cluster, "web-x") == ("waiting", "CrashLoopBackOff")
    cluster.set_fault("app=web-x", "crash", on=False)
    cluster.advance(60)
    assert state_of(cluster, "web-x") == ("running", None)


def test_deleted_pod_terminates_and_is_removed(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    apiserver.delete(cluster, "Pod", "default", "web-x")
    cluster.advance(0)
    assert pod(cluster, "web-x")["metadata"]["deletionTimestamp"]
    assert messages(cluster, "web-x", "Killing") == ["Stopping container app"]
    cluster.advance(1)
    assert cluster.store.get("Pod", "default", "web-x") is None


def test_shell_pod_ignores_sigterm_and_waits_out_the_grace_period(cluster: Cluster) -> None:
    create_pod(cluster, "sleeper", "busybox:1.36", command=["sh", "-c", "sleep 3600"])
    cluster.advance(5)
    apiserver.delete(cluster, "Pod", "default", "sleeper")
    cluster.advance(29)
    assert cluster.store.get("Pod", "default", "sleeper") is not None
    cluster.advance(1)
    assert cluster.store.get("Pod", "default", "sleeper") is None


def test_pod_ip_is_released_and_reused_after_wrap() -> None:
    c = Cluster.create(seed=1, nodes=1)
    create_pod(c, "a")
    c.advance(5)
    ip = pod(c, "a")["status"]["podIP"]
    assert ip == "10.244.1.2"
    apiserver.delete(c, "Pod", "default", "a", grace_period=0)
    create_pod(c, "b")
    c.advance(5)
    assert pod(c, "b")["status"]["podIP"] == "10.244.1.3"  # host-local moves on


def test_oom_killed_when_memory_use_exceeds_limit(cluster: Cluster) -> None:
    # kubernetes.io "Assign Memory Resources": 250M in a 100Mi container.
    create_pod(cluster, "memory-demo-2", "polinux/stress", command=["stress"],
               args=["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"],
               requests={"memory": "50Mi"}, limits={"memory": "100Mi"})
    cluster.advance(8)
    cs = cstatus(cluster, "memory-demo-2")
    assert cs["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert cs["lastState"]["terminated"]["exitCode"] == 137


def test_stress_within_limit_keeps_running_and_reports_usage(cluster: Cluster) -> None:
    create_pod(cluster, "memory-demo", "polinux/stress", command=["stress"],
               args=["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"],
               limits={"memory": "200Mi"})
    cluster.advance(8)
    assert state_of(cluster, "memory-demo") == ("running", None)
    cpu, mem = usage(cluster, pod(cluster, "memory-demo"))["app"]
    assert 150 * 2**20 <= mem < 200 * 2**20


def test_usage_is_deterministic(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    a = usage(cluster, pod(cluster, "web-x"))
    assert a == usage(cluster, pod(cluster, "web-x"))
    assert 0 <= a["app"][0] < 10 and a["app"][1] > 2**20


def test_missing_configmap_gives_create_container_config_error(cluster: Cluster) -> None:
    create_pod(cluster, "cfg", envFrom=[{"configMapRef": {"name": "app-config"}}])
    cluster.advance(5)
    assert state_of(cluster, "cfg") == ("waiting", "CreateContainerConfigError")
    assert cstatus(cluster, "cfg")["state"]["waiting"]["message"] == (
        'configmap "app-config" not found')
    apiserver.create(cluster, {"kind": "ConfigMap", "metadata": {"name": "app-config"},
                               "data": {"COLOR": "blue"}})
    cluster.advance(10)
    assert state_of(cluster, "cfg") == ("running", None)
    prec = cluster.state["kubelet"]["pods"][pod(cluster, "cfg")["metadata"]["uid"]]
    assert prec["containers"]["app"]["env"]["COLOR"] == "blue"


def test_configmap_volume_refreshes_about_a_minute_after_change(cluster: Cluster) -> None:
    cm = apiserver.create(cluster, {"kind": "ConfigMap", "metadata": {"name": "site"},
                                    "data": {"index.html": "v1"}})
    create_pod(cluster, "web", volumes=[{"name": "html", "configMap": {"name": "site"}}],
               volumeMounts=[{"name": "html", "mountPath": "/usr/share/nginx/html"}])
    cluster.advance(5)
    p = pod(cluster, "web")
    assert read_file(cluster, p, "/usr/share/nginx/html/index.html") == "v1"
    cm = copy.deepcopy(cm)
    cm["data"]["index.html"] = "v2"
    apiserver.update(cluster, cm)
    cluster.advance(30)
    assert read_file(cluster, p, "/usr/share/nginx/html/index.html") == "v1"
    cluster.advance(31)
    assert read_file(cluster, p, "/usr/share/nginx/html/index.html") == "v2"


def test_missing_configmap_volume_is_a_failed_mount(cluster: Cluster) -> None:
    create_pod(cluster, "web", volumes=[{"name": "html", "configMap": {"name": "nope"}}])
    cluster.advance(5)
    assert state_of(cluster, "web") == ("waiting", "ContainerCreating")
    assert messages(cluster, "web", "FailedMount")[0] == (
        'MountVolume.SetUp failed for volume "html" : configmap "nope" not found')


def test_container_writable_layer_is_lost_on_restart(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    p = pod(cluster, "web-x")
    write_file(cluster, p, "/tmp/note", "hello")
    assert read_file(cluster, p, "/tmp/note") == "hello"
    cluster.kill_container("web-x")
    assert read_file(cluster, p, "/tmp/note") is None


def test_logs_show_nginx_start_lines_and_appended_lines(cluster: Cluster) -> None:
    from k8slearn.sim.kubelet import append_log

    create_pod(cluster, "web-x")
    cluster.advance(5)
    text = container_logs(cluster, "default", "web-x", None, False)
    assert "Configuration complete; ready for start up" in text
    append_log(cluster, pod(cluster, "web-x")["metadata"]["uid"], "app", '10.244.2.1 - "GET /"')
    assert container_logs(cluster, "default", "web-x", "app", False).endswith(
        '10.244.2.1 - "GET /"\n')


def test_logs_previous_needs_a_restart(cluster: Cluster) -> None:
    create_pod(cluster, "x", "busybox:1.36", command=["sh", "-c", "echo hello; sleep 5; exit 1"])
    cluster.advance(2)
    with pytest.raises(ApiError) as err:
        container_logs(cluster, "default", "x", None, True)
    assert err.value.message == 'previous terminated container "app" in pod "x" not found'
    cluster.advance(10)
    assert container_logs(cluster, "default", "x", None, True) == "hello\n"


def test_logs_of_a_container_still_creating(cluster: Cluster) -> None:
    create_pod(cluster, "x")
    cluster.advance(0.5)
    with pytest.raises(ApiError) as err:
        container_logs(cluster, "default", "x", None, False)
    assert err.value.message == 'container "x" in pod "x" is waiting to start: ContainerCreating'.replace(
        'container "x"', 'container "app"')


def test_pod_defaulting(cluster: Cluster) -> None:
    p = apiserver.create(cluster, pod_manifest("d", "nginx:1.25", limits={"cpu": "1",
                                                                         "memory": "1Gi"}))
    spec = p["spec"]
    c = spec["containers"][0]
    assert spec["schedulerName"] == "default-scheduler" and spec["securityContext"] == {}
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert p["status"]["qosClass"] == "Guaranteed"
    assert {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
            "effect": "NoExecute", "tolerationSeconds": 300} in spec["tolerations"]
    assert {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
            "effect": "NoExecute", "tolerationSeconds": 300} in spec["tolerations"]


@pytest.mark.parametrize(("resources", "qos"), [
    ({}, "BestEffort"), ({"requests": {"cpu": "100m"}}, "Burstable"),
    ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
    ({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
     "Burstable")])
def test_qos_class(cluster: Cluster, resources: dict, qos: str) -> None:
    m = pod_manifest("q")
    m["spec"]["containers"][0]["resources"] = resources
    assert apiserver.create(cluster, m)["status"]["qosClass"] == qos


@pytest.mark.parametrize(("spec", "cause"), [
    ({"containers": []}, "spec.containers: Required value"),
    ({"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]},
     'spec.containers[1].name: Duplicate value: "a"'),
    ({"containers": [{"name": "App", "image": "x"}]},
     'spec.containers[0].name: Invalid value: "App": a lowercase RFC 1123 label'),
    ({"containers": [{"name": "a"}]}, "spec.containers[0].image: Required value"),
    ({"containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "abc"}}}]},
     'spec.containers[0].resources.requests[cpu]: Invalid value: "abc"'),
    ({"containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "2"},
                                                                "limits": {"cpu": "1"}}}]},
     'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal '
     "to cpu limit of 1"),
    ({"containers": [{"name": "a", "image": "x"}], "restartPolicy": "Sometimes"},
     'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
     '"OnFailure", "Never"'),
])
def test_pod_validation_in_api_wording(cluster: Cluster, spec: dict, cause: str) -> None:
    with pytest.raises(ApiError) as err:
        apiserver.create(cluster, {"kind": "Pod", "metadata": {"name": "v"}, "spec": spec})
    assert err.value.message.startswith('Pod "v" is invalid: ')
    assert cause in err.value.message


def test_snapshot_round_trips_a_running_crashloop(cluster: Cluster) -> None:
    create_pod(cluster, "crash", "busybox:1.36", command=["sh", "-c", "sleep 2; exit 1"])
    create_pod(cluster, "web-x", readinessProbe={"httpGet": {"path": "/", "port": 80}})
    cluster.advance(17)
    other = Cluster.restore(cluster.snapshot())
    cluster.advance(400)
    other.advance(400)
    assert cluster.snapshot() == other.snapshot()


def test_fixing_a_bad_image_on_a_bare_pod_pulls_the_new_one(cluster: Cluster) -> None:
    create_pod(cluster, "web-x", "nginx:9.9")
    cluster.advance(5)
    assert state_of(cluster, "web-x")[1] in ("ErrImagePull", "ImagePullBackOff")
    p = copy.deepcopy(pod(cluster, "web-x"))
    p["spec"]["containers"][0]["image"] = "nginx:1.25"
    apiserver.update(cluster, p)
    cluster.advance(3)
    assert state_of(cluster, "web-x") == ("running", None)


def test_changing_the_image_of_a_running_pod_restarts_the_container(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    cluster.advance(5)
    p = copy.deepcopy(pod(cluster, "web-x"))
    p["spec"]["containers"][0]["image"] = "nginx:1.27"
    apiserver.update(cluster, p)
    cluster.advance(5)
    cs = cstatus(cluster, "web-x")
    assert cs["restartCount"] == 1 and cs["image"] == "nginx:1.27" and "running" in cs["state"]
    assert messages(cluster, "web-x", "Killing") == [
        "Container app definition changed, will be restarted"]


def test_pod_spec_other_fields_are_immutable(cluster: Cluster) -> None:
    create_pod(cluster, "web-x")
    p = copy.deepcopy(pod(cluster, "web-x"))
    p["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    with pytest.raises(ApiError) as err:
        apiserver.update(cluster, p)
    assert "spec: Forbidden: pod updates may not change fields other than" in err.value.message


def test_claim_data_survives_the_pod_being_replaced(cluster: Cluster) -> None:
    apiserver.create(cluster, {"kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                               "spec": {"accessModes": ["ReadWriteOnce"],
                                        "resources": {"requests": {"storage": "1Gi"}}}})
    vol = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    create_pod(cluster, "db", volumes=vol, volumeMounts=[{"name": "d", "mountPath": "/data"}])
    cluster.advance(10)
    write_file(cluster, pod(cluster, "db"), "/data/hello.txt", "hi")
    uid = cluster.store.get("PersistentVolumeClaim", "default", "data")["metadata"]["uid"]
    assert cluster.state["volumes"][uid] == {"hello.txt": "hi"}
    apiserver.delete(cluster, "Pod", "default", "db")
    cluster.advance(5)
    create_pod(cluster, "db2", volumes=vol, volumeMounts=[{"name": "d", "mountPath": "/var/lib"}])
    cluster.advance(10)
    assert read_file(cluster, pod(cluster, "db2"), "/var/lib/hello.txt") == "hi"


def test_secret_env_is_decoded_and_fixed_at_start(cluster: Cluster) -> None:
    secret = apiserver.create(cluster, {"kind": "Secret", "metadata": {"name": "db"},
                                        "data": {"password": "czNjcjN0"}})
    create_pod(cluster, "app", env=[{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "db", "key": "password"}}}, {"name": "MISSING", "valueFrom": {
            "secretKeyRef": {"name": "db", "key": "nope", "optional": True}}}])
    cluster.advance(5)
    prec = cluster.state["kubelet"]["pods"][pod(cluster, "app")["metadata"]["uid"]]
    assert prec["containers"]["app"]["env"] == {"PASSWORD": "s3cr3t"}
    secret = copy.deepcopy(secret)
    secret["data"]["password"] = "bmV3"
    apiserver.update(cluster, secret)
    cluster.advance(120)
    assert prec["containers"]["app"]["env"] == {"PASSWORD": "s3cr3t"}


def test_missing_secret_key_message(cluster: Cluster) -> None:
    apiserver.create(cluster, {"kind": "Secret", "metadata": {"name": "db"}, "data": {}})
    create_pod(cluster, "app", env=[{"name": "P", "valueFrom": {"secretKeyRef": {
        "name": "db", "key": "password"}}}])
    cluster.advance(5)
    assert cstatus(cluster, "app")["state"]["waiting"]["message"] == (
        "couldn't find key password in Secret default/db")


def test_node_images_lists_pulled_images(cluster: Cluster) -> None:
    from k8slearn.sim.kubelet import node_images

    create_pod(cluster, "a", nodeName="node-1")
    cluster.advance(1)
    assert node_images(cluster, "node-1") == []
    cluster.advance(2)
    assert node_images(cluster, "node-1") == [("docker.io/library/nginx:1.25", 70_000_000)]


def test_script_output_uses_the_container_environment(cluster: Cluster) -> None:
    create_pod(cluster, "hello", "busybox:1.36",
               command=["sh", "-c", "echo $(GREETING) ${NAME}; while true; do echo tick; "
                        "sleep 10; done"],
               env=[{"name": "GREETING", "value": "hello"}, {"name": "NAME", "value": "k8s"}])
    cluster.advance(25)
    assert container_logs(cluster, "default", "hello", None, False) == (
        "hello k8s\ntick\ntick\ntick\n")


def test_init_containers_run_to_completion_before_the_app(cluster: Cluster) -> None:
    m = pod_manifest("web-x")
    m["spec"]["initContainers"] = [
        {"name": "fetch", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 5"]},
        {"name": "setup", "image": "busybox:1.36", "command": ["sh", "-c", "echo ok"]}]
    apiserver.create(cluster, m)
    cluster.advance(3)
    p = pod(cluster, "web-x")
    assert p["status"]["phase"] == "Pending"
    assert condition(cluster, "web-x", "Initialized")["message"] == (
        "containers with incomplete status: [fetch setup]")
    assert "running" in p["status"]["initContainerStatuses"][0]["state"]
    assert state_of(cluster, "web-x") == ("waiting", "PodInitializing")
    cluster.advance(10)
    p = pod(cluster, "web-x")
    assert [s["state"]["terminated"]["reason"] for s in p["status"]["initContainerStatuses"]] == [
        "Completed", "Completed"]
    assert condition(cluster, "web-x", "Initialized")["status"] == "True"
    assert p["status"]["phase"] == "Running" and state_of(cluster, "web-x") == ("running", None)


def test_failing_init_container_crashloops_and_blocks_the_app(cluster: Cluster) -> None:
    m = pod_manifest("web-x")
    m["spec"]["initContainers"] = [{"name": "wait", "image": "busybox:1.36",
                                    "command": ["sh", "-c", "exit 1"]}]
    apiserver.create(cluster, m)
    cluster.advance(30)
    p = pod(cluster, "web-x")
    init = p["status"]["initContainerStatuses"][0]
    assert init["restartCount"] >= 2 and p["status"]["phase"] == "Pending"
    assert state_of(cluster, "web-x") == ("waiting", "PodInitializing")


def test_failing_init_container_with_never_fails_the_pod(cluster: Cluster) -> None:
    m = pod_manifest("job", restartPolicy="Never")
    m["spec"]["initContainers"] = [{"name": "wait", "image": "busybox:1.36",
                                    "command": ["sh", "-c", "exit 1"]}]
    apiserver.create(cluster, m)
    cluster.advance(10)
    assert pod(cluster, "job")["status"]["phase"] == "Failed"
