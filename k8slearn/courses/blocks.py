"""Runnable blocks in lesson Markdown.

````markdown
```kubectl
kubectl get pods
```
````
gets a **Run** button that types each command line into the playground's terminal.

````markdown
```cluster
kill-container: web
fail-node: node-2
clock: step
```
````
becomes one button per action (a mapping's keys in order, or a list of one-key mappings, where
an item may also carry ``label: {ko: …, en: …}``). Each button sends the same message as the
playground's own controls (``k8slearn.playground.actions``), so every action is validated by
the same code the socket uses, and a lesson can do nothing a learner's button could not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from k8slearn.playground import actions

LANGS = ("ko", "en")


@dataclass(frozen=True)
class RunAction:
    """One button: the socket message it sends and its label in each language."""

    message: dict[str, Any]
    label: dict[str, str]

    def message_json(self) -> str:
        return json.dumps(self.message, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class BlockProblem:
    line: int  # counting from 0 within the block's body
    message: str


# name -> (ws action, how a plain text value is read, label ko, label en). Labels use the
# message's fields. A text value: "node" = the node's name; "container" = a container name;
# "pod" = a pod name, or a selector when it has "="; "deployment"/"service"/"line"/"yaml".
ACTIONS: dict[str, tuple[str, str | None, str, str]] = {
    "kill-container": ("kill-container", "container", "컨테이너 종료: {target}",
                       "Kill container: {target}"),
    "delete-pod": ("delete-pod", "pod", "파드 삭제: {target}", "Delete pod: {target}"),
    "fail-node": ("fail-node", "node", "노드 장애: {node}", "Fail node: {node}"),
    "recover-node": ("recover-node", "node", "노드 복구: {node}", "Recover node: {node}"),
    "cordon": ("cordon", "node", "코든: {node}", "Cordon {node}"),
    "uncordon": ("uncordon", "node", "언코든: {node}", "Uncordon {node}"),
    "drain": ("drain", "node", "드레인: {node}", "Drain {node}"),
    "add-node": ("add-node", None, "노드 추가", "Add a node"),
    "scale": ("scale", None, "{deployment} 레플리카 {replicas}개로 스케일",
              "Scale {deployment} to {replicas}"),
    "set-image": ("set-image", None, "이미지 변경: {image}", "Set image: {image}"),
    "undo": ("undo", "deployment", "롤백: {deployment}", "Roll back {deployment}"),
    "restart": ("restart", "deployment", "롤아웃 재시작: {deployment}", "Restart {deployment}"),
    "traffic": ("traffic", "service", "{service}에 요청 보내기", "Send requests to {service}"),
    "stream": ("stream", None, "{service}에 초당 {rate}개 요청", "Stream {rate}/s to {service}"),
    "fault": ("fault", None, "장애 주입: {fault}", "Inject a fault: {fault}"),
    "kubectl": ("kubectl", "line", "kubectl {line}", "kubectl {line}"),
    "apply": ("apply", "yaml", "매니페스트 적용", "Apply the manifest"),
    "exec": ("exec", None, "명령 실행: {command}", "Run: {command}"),
    "clock": ("clock", None, "", ""),
}
CLOCK_LABELS = {
    "step": ("한 단계 진행", "Step"),
    "pause": ("일시 정지", "Pause"),
    "play": ("재생", "Play"),
}


def parse_cluster_block(body: str) -> tuple[list[RunAction], list[BlockProblem]]:
    """The buttons of a ```cluster block, and its problems (line numbers within the body)."""
    try:
        node = yaml.compose(body, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return [], [BlockProblem(mark.line if mark else 0, f"cluster block: invalid YAML: "
                                 f"{getattr(err, 'problem', None) or err}")]
    if node is None:
        return [], [BlockProblem(0, "cluster block is empty; give an action like 'clock: step'")]
    items: list[tuple[yaml.Node, yaml.Node, yaml.Node | None]] = []  # key, value, label
    problems: list[BlockProblem] = []
    if isinstance(node, yaml.MappingNode):
        items = [(k, v, None) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        for entry in node.value:
            if not isinstance(entry, yaml.MappingNode):
                problems.append(BlockProblem(entry.start_mark.line,
                                             "each item must be a mapping like 'fail-node: node-2'"))
                continue
            label = next((v for k, v in entry.value if k.value == "label"), None)
            rest = [(k, v) for k, v in entry.value if k.value != "label"]
            if len(rest) != 1:
                problems.append(BlockProblem(entry.start_mark.line,
                                             "each item needs exactly one action (and an "
                                             "optional label)"))
                continue
            items.append((rest[0][0], rest[0][1], label))
    else:
        return [], [BlockProblem(node.start_mark.line, "cluster block must be a mapping like "
                                 "'fail-node: node-2' or a list of them")]
    result: list[RunAction] = []
    for key_node, value_node, label_node in items:
        line = key_node.start_mark.line
        try:
            result.append(_action(str(key_node.value), _plain(value_node),
                                  _plain(label_node) if label_node is not None else None))
        except ValueError as err:
            problems.append(BlockProblem(line, f"cluster block: {err}"))
    return result, problems


def _plain(node: yaml.Node) -> Any:
    from k8slearn.courses.playground_block import plain

    return plain(node)


def _action(name: str, value: Any, label: Any) -> RunAction:
    key = name.strip().lower().replace("_", "-")
    if key not in ACTIONS:
        raise ValueError(f"unknown action '{name}' (known: {', '.join(ACTIONS)})")
    action, text_field, label_ko, label_en = ACTIONS[key]
    if key == "clock":
        message, labels = _clock(value)
    else:
        message = {"action": action}
        if isinstance(value, dict):
            message.update(value)
        elif value is None or value == {}:
            pass
        elif text_field is not None and isinstance(value, str | int | float):
            text = str(value)
            if text_field == "pod" and "=" in text:
                message["selector"] = text
            else:
                message[text_field] = text
        else:
            raise ValueError(f"'{name}' needs a mapping of its fields")
        # The socket's own parser is the judge: the same message from a button must be valid.
        try:
            actions.parse(message, "en")
        except actions.ActionError as err:
            raise ValueError(f"'{name}': {err}") from err
        fields = {k: _short(v) for k, v in message.items()}
        fields["target"] = _short(message.get("pod") or message.get("selector")
                                  or message.get("container", ""))
        fields.setdefault("replicas", "")
        if key == "kubectl":  # "kubectl: kubectl get pods" is labelled once "kubectl get pods"
            fields["line"] = fields["line"].removeprefix("kubectl ").strip()
        if key == "fault" and str(message.get("on", True)).lower() in ("false", "0", "no", "off"):
            label_ko, label_en = "장애 해제: {fault}", "Clear the fault: {fault}"
        labels = (label_ko.format_map(_Default(fields)), label_en.format_map(_Default(fields)))
    if label is not None:
        if not (isinstance(label, dict) and set(label) == set(LANGS)
                and all(isinstance(label[lang], str) and label[lang].strip() for lang in LANGS)):
            raise ValueError("label must have both 'ko' and 'en' texts")
        labels = (label["ko"].strip(), label["en"].strip())
    return RunAction(message, {"ko": labels[0], "en": labels[1]})


def _clock(value: Any) -> tuple[dict[str, Any], tuple[str, str]]:
    if isinstance(value, str) and value.strip().lower() in CLOCK_LABELS:
        name = value.strip().lower()
        return {"action": name}, CLOCK_LABELS[name]
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 3600:
        seconds = int(value) if float(value).is_integer() else value
        return ({"action": "advance", "seconds": seconds},
                (f"{seconds}초 진행", f"Advance {seconds} s"))
    raise ValueError("clock must be step, pause, play or a number of seconds (more than 0, at "
                     "most 3600)")


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:39] + "…"


# --------------------------------------------------------------------------- kubectl blocks


def kubectl_commands(code: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The kubectl command lines of a ```kubectl session block (what Run types), and the other
    command lines it skips (``$ curl …``), each with its line number within the block.

    ``$ kubectl get pods`` and ``kubectl get pods`` are commands; a line ending in ``\\``
    continues on the next; every other line is output.
    """
    commands: list[str] = []
    skipped: list[tuple[int, str]] = []
    current: list[str] | None = None
    start = 0
    for number, raw in enumerate(code.splitlines()):
        line = raw.rstrip()
        if current is not None:
            current.append(line.rstrip("\\").strip())
            if not line.endswith("\\"):
                _finish(current, start, commands, skipped)
                current = None
            continue
        text = line[2:] if line.startswith("$ ") else line
        if not (line.startswith("$ ") or line.startswith("kubectl ")):
            continue
        current = [text.rstrip("\\").strip()]
        start = number
        if not line.endswith("\\"):
            _finish(current, start, commands, skipped)
            current = None
    if current is not None:
        _finish(current, start, commands, skipped)
    return commands, skipped


def _finish(parts: list[str], start: int, commands: list[str],
            skipped: list[tuple[int, str]]) -> None:
    command = " ".join(p for p in parts if p)
    if command == "kubectl" or command.startswith("kubectl "):
        commands.append(command)
    elif command:
        skipped.append((start, command))
