"""Runnable blocks in lesson Markdown: ```kubectl gets a Run button, ```cluster becomes buttons
whose messages the playground's socket accepts, and the links and images authors write."""

from __future__ import annotations

import html
import json
import re

import pytest

from k8slearn.courses.blocks import ACTIONS, kubectl_commands, parse_cluster_block
from k8slearn.courses.markdown import render_lesson
from k8slearn.playground import actions


def buttons(page_html: str, attribute: str) -> list:
    return [json.loads(html.unescape(v)) for v in re.findall(rf'{attribute}="([^"]*)"', page_html)]


def test_a_kubectl_block_gets_a_hidden_run_button_with_its_commands():
    page = render_lesson("```kubectl\n$ kubectl get pods\nNAME   READY\n"
                         "kubectl scale deployment web \\\n  --replicas=5\n$ curl web\n```\n", "en")
    assert buttons(page.html, "data-run-kubectl") == [
        ["kubectl get pods", "kubectl scale deployment web --replicas=5"]]
    assert re.search(r'<button [^>]*class="run-btn"[^>]*hidden[^>]*>▶ Run</button>', page.html)
    assert "실행" in render_lesson("```kubectl\nkubectl get pods\n```\n", "ko").html


def test_a_kubectl_block_with_output_only_has_no_button():
    assert "run-btn" not in render_lesson("```kubectl\nNAME   READY\n```\n", "en").html


def test_kubectl_commands_skips_other_commands_with_their_line():
    assert kubectl_commands("$ curl web\nkubectl get pods\n") == (["kubectl get pods"],
                                                                 [(0, "curl web")])


def test_a_cluster_block_becomes_buttons_in_the_pages_language():
    source = "```cluster\nkill-container: web\nfail-node: node-2\nclock: step\n```\n"
    en = render_lesson(source, "en").html
    assert buttons(en, "data-run-action") == [
        {"action": "kill-container", "container": "web"},
        {"action": "fail-node", "node": "node-2"},
        {"action": "step"}]
    assert re.findall(r'data-testid="run-action"[^>]*>([^<]*)<', en) == [
        "Kill container: web", "Fail node: node-2", "Step"]
    ko = render_lesson(source, "ko").html
    assert re.findall(r'data-testid="run-action"[^>]*>([^<]*)<', ko) == [
        "컨테이너 종료: web", "노드 장애: node-2", "한 단계 진행"]
    assert '<div class="run-block" data-testid="run-block"' in en and "hidden" in en


def test_a_list_block_takes_labels_selectors_and_seconds():
    found, problems = parse_cluster_block(
        "- delete-pod: app=web\n  label: {ko: 하나 지우기, en: Delete one}\n- clock: 30\n"
        "- scale: {deployment: web, replicas: 5}\n")
    assert problems == []
    assert [a.message for a in found] == [
        {"action": "delete-pod", "selector": "app=web"},
        {"action": "advance", "seconds": 30},
        {"action": "scale", "deployment": "web", "replicas": 5}]
    assert [a.label["en"] for a in found] == ["Delete one", "Advance 30 s", "Scale web to 5"]


@pytest.mark.parametrize("body, message", [
    ("explode: 1\n", "unknown action 'explode'"),
    ("clock: later\n", "clock must be step, pause, play or a number of seconds"),
    ("scale: web\n", "'scale' needs a mapping of its fields"),
    ("scale: {deployment: web}\n", "'replicas' is missing"),
    ("traffic: {service: web, requests: 5000}\n", "'requests' must be a whole number"),
    ("- fail-node: node-1\n  label: {ko: 장애}\n", "label must have both 'ko' and 'en'"),
    ("[unclosed\n", "invalid YAML"),
    ("", "cluster block is empty"),
    ("just text\n", "must be a mapping"),
])
def test_a_bad_cluster_block_says_what_is_wrong(body, message):
    found, problems = parse_cluster_block(body)
    assert found == [] and message in problems[0].message, problems


def test_a_bad_cluster_block_shows_as_yaml_not_as_buttons():
    page = render_lesson("```cluster\nexplode: 1\n```\n", "en").html
    assert "run-btn" not in page and 'data-lang="yaml"' in page


@pytest.mark.parametrize("name", sorted(set(ACTIONS) - {"clock"}))
def test_every_action_with_its_simplest_value_is_a_message_the_socket_accepts(name):
    simplest = {
        "kill-container": "web", "delete-pod": "app=web", "fail-node": "node-1",
        "recover-node": "node-1", "cordon": "node-1", "uncordon": "node-1", "drain": "node-1",
        "add-node": {}, "scale": {"deployment": "web", "replicas": 2},
        "set-image": {"deployment": "web", "image": "nginx:1.26"}, "undo": "web",
        "restart": "web", "traffic": "web", "stream": {"service": "web", "rate": 5},
        "fault": {"target": "app=web", "fault": "readiness"}, "kubectl": "get pods",
        "apply": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        "exec": {"selector": "app=web", "command": "printenv"},
    }[name]
    found, problems = parse_cluster_block(json.dumps({name: simplest}))
    assert problems == []
    # What the button sends, through JSON and back, is what the socket parses.
    sent = json.loads(found[0].message_json())
    assert isinstance(actions.parse({k: str(v) for k, v in sent.items()}, "en"),
                      actions.Step | actions.Command)
    assert found[0].label["ko"] and found[0].label["en"]


def test_lesson_and_glossary_links_and_images_resolve_in_the_pages_language():
    page = render_lesson("[a](lesson:self-healing#x) [b](glossary:pod) ![c](img/d.png) "
                         "![e](https://example.com/e.png)", "en", (), "demo").html
    assert 'href="/en/lessons/self-healing/#x"' in page
    assert 'href="/en/glossary/#term-pod"' in page
    assert 'src="/lessons/demo/files/img/d.png"' in page
    assert 'src="https://example.com/e.png"' in page


def test_html_comments_are_notes_for_authors_and_never_show():
    page = render_lesson("one\n<!-- a note\nover lines -->\ntwo\n", "en").html
    assert "note" not in page and "one" in page and "two" in page


def test_html_comments_inside_fenced_code_are_code():
    page = render_lesson("```yaml\n<!-- kept -->\n```\nafter <!-- gone -->\n", "en").html
    assert "kept" in page and "gone" not in page


def test_labels_say_what_the_button_does():
    found, _ = parse_cluster_block("- kubectl: kubectl get pods\n"
                                   "- fault: {target: app=web, fault: readiness, on: false}\n"
                                   "- clock: 0.5\n")
    assert [a.label["en"] for a in found] == ["kubectl get pods", "Clear the fault: readiness",
                                              "Advance 0.5 s"]
