"""The board's HTML: what the page and the socket show, from a real toy cluster."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from k8slearn.playground import board as vm
from k8slearn.playground import render
from k8slearn.sim.cluster import Cluster


class Tops(HTMLParser):
    """Top-level elements of a socket message (what htmx's ws extension swaps), with attrs;
    and every element with a data-testid."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.tops: list[dict[str, str | None]] = []
        self.hooks: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.depth == 0:
            self.tops.append({"tag": tag, **a})
        if a.get("data-testid"):
            self.hooks.append(a)
        if tag not in ("input", "br", "meta", "link", "img"):
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1


def parse(html: str) -> Tops:
    p = Tops()
    p.feed(html)
    return p


def web_cluster(replicas: int = 3) -> Cluster:
    c = Cluster.create(seed=4)
    c.kubectl(f"create deployment web --image=nginx:1.25 --replicas={replicas}")
    c.kubectl("expose deployment web --port=80")
    c.advance(30)
    return c


BIG_POD = """apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers:
  - {name: app, image: "nginx:1.25", resources: {requests: {cpu: "9"}}}
"""


def add_big_pod(c: Cluster) -> None:
    """A pod no node can take: it stays Pending with the scheduler's reason."""
    assert c.kubectl("apply -f -", stdin=BIG_POD).ok
    c.advance(2)


def sandbox(**kw: object) -> SimpleNamespace:
    return SimpleNamespace(**{"id": "t", "speed": 1, "paused": False, "exercises": [],
                              "reached": {}, **kw})


def kubectl_pods(c: Cluster) -> dict[str, tuple[str, str]]:
    rows = c.kubectl("get pods").stdout.splitlines()[1:]
    return {r.split()[0]: (r.split()[1], r.split()[2]) for r in rows}


def test_full_board_shows_every_pod_with_kubectl_status_and_ready():
    c = web_cluster()
    add_big_pod(c)
    tops = parse(render.full_board(c, "en", sandbox=sandbox()))
    assert [t["id"] for t in tops.tops] == ["board"]
    assert tops.tops[0]["hx-swap-oob"] == "true"
    pods = {h["data-name"]: (h["data-ready"], h["data-status"]) for h in tops.hooks
            if h["data-testid"] == "pod"}
    assert pods == kubectl_pods(c)
    assert len(pods) == 4


def test_nodes_carry_kubectl_status_hooks():
    c = web_cluster()
    c.kubectl("cordon node-2")
    c.fail_node("node-3")
    c.advance(60)
    hooks = parse(render.full_board(c, "en")).hooks
    nodes = {h["data-name"]: h["data-status"] for h in hooks if h["data-testid"] == "node"}
    assert nodes == {"node-1": "Ready", "node-2": "Ready,SchedulingDisabled",
                     "node-3": "NotReady"}


def test_pending_pod_shows_the_schedulers_reason():
    c = web_cluster()
    add_big_pod(c)
    html = render.full_board(c, "en")
    pending = html.split('id="pods-pending"')[1].split("</ul>")[0]
    assert 'data-name="big"' in pending
    assert "Insufficient cpu" in pending


def test_board_words_follow_the_language():
    c = web_cluster()
    en = render.full_board(c, "en")
    ko = render.full_board(c, "ko")
    assert "Delete pod" in en and "파드 삭제" in ko and "Delete pod" not in ko
    assert "노드 장애" in ko and "Node failure" in en
    assert 'aria-label="파드 삭제: web-' in ko
    assert 'aria-label="Delete pod web-' in en
    assert "At most 4 pods at once; at least 3 always available" in en
    assert "최대 4개까지 파드를 만들고, 최소 3개는 항상 사용 가능하게 둔다" in ko
    assert "레플리카셋 컨트롤러: 의도한 파드 3개" in ko
    assert "ReplicaSet controller: want 3" in en


def test_every_action_form_carries_a_hidden_action():
    c = web_cluster()
    html = render.full_board(c, "en")
    forms = re.findall(r"<form ws-send[^>]*>(.*?)</form>", html, re.S)
    assert len(forms) > 10
    for form in forms:
        assert re.search(r'<input type="hidden" name="action" value="[a-z-]+">', form), form
    for action in ("kill-container", "delete-pod", "fail-node", "cordon", "drain", "scale",
                   "set-image", "undo", "traffic", "fault", "pause", "speed", "step"):
        assert f'name="action" value="{action}"' in html, action


def test_mid_rollout_shows_both_replicasets():
    c = web_cluster(replicas=8)
    c.kubectl("set image deployment/web nginx=nginx:1.26")
    for _ in range(4):
        c.step()
    d = vm.deployments(c)[0]
    assert d.rolling
    assert [(r.revision, r.tag) for r in d.replicasets] == [(1, "1.25"), (2, "1.26")]
    html = render.full_board(c, "en")
    assert "revision 1" in html and "revision 2" in html and "rollout in progress" in html


def test_a_deleted_pod_yields_a_delete_fragment():
    c = web_cluster()
    name = c.pods()[0]["metadata"]["name"]
    v = c.version
    c.kubectl(f"delete pod {name}")
    c.advance(40)
    out = render.changed_fragments(c, c.changes_since(v), "en", sandbox=sandbox())
    tops = parse(out).tops
    assert {"tag": "div", "id": f"pod-default-{name}", "hx-swap-oob": "delete"} in tops
    assert all(t.get("hx-swap-oob") for t in tops)


def test_a_changed_pod_yields_only_its_card_and_capacity():
    c = web_cluster()
    render.full_board(c, "en", sandbox=sandbox())  # what the browser has
    pod = c.pods()[0]
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    v = c.version
    c.kill_container(name)
    changes = c.changes_since(v)
    changes.pop("Event", None)  # (events have their own test)
    assert set(changes) == {"Pod"}
    ids = [t["id"] for t in parse(render.changed_fragments(
        c, changes, "en", sandbox=sandbox())).tops]
    assert ids == [f"pod-default-{name}", f"cap-{node}", "clock"]


def test_a_bound_pod_leaves_the_pending_column():
    c = web_cluster()
    render.full_board(c, "en", sandbox=sandbox())
    v = c.version
    c.kubectl("scale deployment web --replicas=4")
    c.advance(1)
    ids = [t.get("id") for t in parse(render.changed_fragments(
        c, c.changes_since(v), "en", sandbox=sandbox())).tops]
    assert "pods-pending" in ids
    assert any(i.startswith("pods-node-") for i in ids)


def test_new_events_are_prepended_and_announced():
    c = web_cluster()
    v = c.version
    c.kubectl("scale deployment web --replicas=5")
    c.advance(1)
    out = render.changed_fragments(c, c.changes_since(v), "en", sandbox=sandbox())
    tops = parse(out).tops
    assert {"tag": "div", "hx-swap-oob": "afterbegin:#events"} in tops
    assert "ReplicaSet controller: want 5, have 3" in out
    announce = out.split('id="announce"')[1]
    assert "Deployment controller: scaled" in announce
    exact = render.changed_fragments(c, c.changes_since(v), "en", sandbox=sandbox(),
                                     since_seq=len(c.events) - 1)
    assert exact.count('class="pg-ev ') == 1


def test_old_event_rows_are_deleted_past_the_limit():
    c = web_cluster()
    seq = c.events[-1]["seq"]
    v = c.version
    c.kubectl("scale deployment web --replicas=9")
    c.advance(5)
    out = render.changed_fragments(c, c.changes_since(v), "en", since_seq=seq)
    newest = c.events[-1]["seq"]
    assert f'id="event-{newest - render.EVENTS_KEPT}" hx-swap-oob="delete"' in out


def test_names_and_messages_are_escaped():
    c = web_cluster()
    c.kubectl("create configmap evil --from-literal=K=<script>alert(1)</script>")
    c.kubectl('label deployment web note=x')
    c.advance(1)
    html = render.full_board(c, "en")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    out = render.terminal_output('get pods "<b>"', SimpleNamespace(output="<i>x</i>", error=""),
                                 "en")
    assert "<i>" not in out and "&lt;i&gt;x&lt;/i&gt;" in out and "&lt;b&gt;" in out
    assert "<img" not in render.error("<img src=x onerror=alert(1)>", "en")


def test_terminal_output_is_capped_with_a_note():
    huge = SimpleNamespace(output="x" * (render.OUTPUT_CAP + 10), error="")
    out = render.terminal_output("get pods", huge, "ko")
    assert "x" * render.OUTPUT_CAP in out and "x" * (render.OUTPUT_CAP + 1) not in out
    assert "잘랐다" in out
    assert 'hx-swap-oob="beforeend:#terminal-output"' in out


def test_clock_sends_the_buttons_only_when_play_state_changes():
    c = web_cluster()
    sbx = sandbox(id="clock-test")
    render.full_board(c, "en", sandbox=sbx, to_group=True)
    assert "time-controls" not in render.clock(c, "en", sandbox=sbx)
    sbx.speed = 5
    out = render.clock(c, "en", sandbox=sbx)
    assert 'id="time-controls"' in out and "00:00:30" in out and "5×" in out


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_goals_fragment(lang):
    ex = {"id": "scale-up", "prompt": {"ko": "늘리기", "en": "Scale up"},
          "goal": {"pods": {"selector": "app=web", "count": 4}}}
    out = render.goals(None, lang, sandbox=sandbox(exercises=[ex], reached={"scale-up": True}))
    assert 'id="goals"' in out and 'data-reached="true"' in out
    assert ("늘리기" if lang == "ko" else "Scale up") in out
    assert "selector" not in out


def test_clock_text():
    assert vm.clock_text(330) == "00:05:30"
    assert vm.clock_text(3600 * 101 + 1) == "101:00:01"


def test_a_panel_whose_view_did_not_change_is_not_sent_again():
    c = web_cluster()
    sbx = sandbox(id="panel-test")
    touched = {"Deployment": {"default/web": c.store.get("Deployment", "default", "web")}}
    render.full_board(c, "en", sandbox=sbx, to_group=True)
    assert 'id="deployments"' not in render.changed_fragments(c, touched, "en", sandbox=sbx)
    c.kubectl("scale deployment web --replicas=4")
    c.advance(1)
    assert 'id="deployments"' in render.changed_fragments(c, touched, "en", sandbox=sbx)
    assert 'id="deployments"' not in render.changed_fragments(c, touched, "en", sandbox=sbx)


def test_a_board_for_one_page_does_not_count_as_sent_to_the_others():
    c = web_cluster()
    sbx = sandbox(id="page-test")
    touched = {"Deployment": {"default/web": c.store.get("Deployment", "default", "web")}}
    render.full_board(c, "en", sandbox=sbx)  # one page's board: the group has not seen it
    assert 'id="deployments"' in render.changed_fragments(c, touched, "en", sandbox=sbx)


def test_the_clock_and_ages_carry_virtual_times_for_the_browser_to_run_them():
    c = web_cluster()
    html = render.full_board(c, "en", sandbox=sandbox())
    assert f'data-now-ms="{c.clock.now_ms}"' in html and 'data-paused="false"' in html
    assert html.count("data-created-ms=") == len(c.pods(selector="app=web"))
