"""Parse what a browser socket sends into a step (``k8slearn.sim.steps``) or a shell command.

Pure: no I/O, no cluster. htmx's ws extension sends a form's fields as a JSON object plus a
``HEADERS`` key (ignored); every form carries ``action``::

    {"action": "kubectl", "line": "get pods"}          -> Step({"kubectl": "get pods"})
    {"action": "kill-container", "pod": "web-…"}        -> Step({"kill_container": {"pod": …}})
    {"action": "speed", "value": "5"}                   -> Command("speed", 5)
    {"action": "pause"} / "play" / "reset" / {"action": "scenario", "name": "probes"}

Problems raise ``ActionError`` with a message in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from k8slearn.sim import steps

SPEEDS = (1, 5, 20)
MAX_FIELD = 32 * 1024  # one text field; the whole message is capped at 64 KB by the consumer
COMMANDS = ("pause", "play", "speed", "reset", "scenario")

# Steps whose argument is one text: which form field carries it.
TEXT_FIELDS = {
    "kubectl": "line",
    "apply": "yaml",
    "fail_node": "node",
    "recover_node": "node",
    "cordon": "node",
    "uncordon": "node",
    "drain": "node",
}
INT_FIELDS = ("replicas", "requests", "to_revision", "rate")
BOOL_FIELDS = ("on",)

MESSAGES: dict[str, dict[str, str]] = {
    "not-object": {
        "ko": "알 수 없는 메시지다. 페이지를 새로 고쳐 보자.",
        "en": "Unknown message. Try reloading the page.",
    },
    "no-action": {
        "ko": "메시지에 action이 없다.",
        "en": "The message has no action.",
    },
    "unknown-action": {
        "ko": "알 수 없는 동작이다: {name}",
        "en": "Unknown action: {name}",
    },
    "bad-speed": {
        "ko": "속도는 1, 5, 20 중 하나여야 한다.",
        "en": "The speed must be 1, 5 or 20.",
    },
    "no-scenario": {
        "ko": "시나리오를 골라야 한다.",
        "en": "Choose a scenario.",
    },
    "unknown-scenario": {
        "ko": "그런 시나리오는 없다: {name}",
        "en": "There is no such scenario: {name}",
    },
    "too-long": {
        "ko": "입력이 너무 길다 (최대 {limit} KB).",
        "en": "The input is too long (at most {limit} KB).",
    },
    "bad-field": {
        "ko": "잘못된 입력이다: {detail}",
        "en": "Invalid input: {detail}",
    },
    "empty-line": {
        "ko": "kubectl 명령을 입력하자 (예: get pods).",
        "en": "Type a kubectl command (for example: get pods).",
    },
    "bad-json": {
        "ko": "메시지를 읽을 수 없다 (JSON이 아니다).",
        "en": "The message could not be read (not JSON).",
    },
    "too-big": {
        "ko": "메시지가 너무 크다 (최대 64 KB). 아무것도 바뀌지 않았다.",
        "en": "The message is too big (at most 64 KB). Nothing was changed.",
    },
    "rate": {
        "ko": "너무 빠르다: 1초에 동작은 20번까지다. 잠시 뒤에 다시 해 보자.",
        "en": "Too fast: at most 20 actions a second. Try again in a moment.",
    },
    "busy": {
        "ko": "지금은 서버가 너무 바쁘다: 실행 중인 샌드박스가 최대치에 이르렀다. "
        "잠시 뒤에 페이지를 새로 고쳐 보자.",
        "en": "The server is too busy right now: it runs as many sandboxes as it can. "
        "Reload the page in a little while.",
    },
    "internal": {
        "ko": "서버에서 문제가 생겼다. 클러스터는 그대로다. 다시 해 보자.",
        "en": "Something went wrong on the server. The cluster is unchanged; try again.",
    },
    "gone": {
        "ko": "이 샌드박스를 찾을 수 없다. 페이지를 새로 고쳐 보자.",
        "en": "This sandbox could not be found. Reload the page.",
    },
    "scenario-fixed": {
        "ko": "이 레슨의 시나리오는 바꿀 수 없다. 처음부터 하려면 초기화하자.",
        "en": "This lesson's scenario cannot be changed. Use reset to start again.",
    },
    "read-only": {
        "ko": "강사의 클러스터는 볼 수만 있다. 직접 해 보려면 \u201c내가 해 보기\u201d를 누르자.",
        "en": "You can only watch the instructor's cluster. Press \u201cTry it myself\u201d to "
              "get a copy of your own.",
    },
    "output-capped": {
        "ko": "… 출력이 너무 길어 {limit} KB에서 잘랐다.",
        "en": "… output cut at {limit} KB (too long).",
    },
}


def message(key: str, lang: str, **kw: Any) -> str:
    """A shell message in the page's language (``ko`` unless ``en``)."""
    texts = MESSAGES[key]
    text = texts["en"] if lang == "en" else texts["ko"]
    return text.format(**kw) if kw else text


class ActionError(Exception):
    """An action that cannot be run; ``str(err)`` is shown to the learner."""


@dataclass(frozen=True)
class Step:
    """A step for ``k8slearn.sim.steps.run_step``."""

    step: dict[str, Any]

    @property
    def kind(self) -> str:
        return next(iter(self.step))


@dataclass(frozen=True)
class Command:
    """A shell command: pause, play, speed (value), reset, scenario (value = name)."""

    name: str
    value: Any = None


Action = Step | Command


def _text(value: Any, field: str, lang: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ActionError(message("bad-field", lang, detail=f"{field}"))
    if len(value) > MAX_FIELD:
        raise ActionError(message("too-long", lang, limit=MAX_FIELD // 1024))
    return value


def _int(value: Any, field: str, lang: str) -> int:
    if isinstance(value, bool):
        raise ActionError(message("bad-field", lang, detail=field))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ActionError(message("bad-field", lang, detail=field))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def parse(content: Any, lang: str = "ko", scenarios: Any = None) -> Action:
    """A browser message -> ``Step`` or ``Command``. Raises ``ActionError``."""
    if not isinstance(content, dict):
        raise ActionError(message("not-object", lang))
    raw = content.get("action")
    if not isinstance(raw, str) or not raw.strip():
        raise ActionError(message("no-action", lang))
    name = raw.strip().lower().replace("-", "_")
    shown = raw.strip()[:40]

    if name in COMMANDS:
        return _command(name, content, lang, scenarios)

    if name not in steps.SPECS:
        raise ActionError(message("unknown-action", lang, name=shown))
    shape, required, optional = steps.SPECS[name]
    if shape == "str":
        field = TEXT_FIELDS.get(name, "value")
        text = _text(content.get(field, ""), field, lang)
        if name == "kubectl" and not text.strip():
            raise ActionError(message("empty-line", lang))
        step: dict[str, Any] = {name: text}
    elif shape == "number":
        value = content.get("seconds", content.get("value"))
        try:
            seconds = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            seconds = None
        if seconds is None:
            raise ActionError(message("bad-field", lang, detail="seconds"))
        step = {name: int(seconds) if seconds.is_integer() else seconds}
    else:
        arg: dict[str, Any] = {}
        if name == "configmap" and "data" not in content and "key" in content:
            # The board's form sends one entry as key/value fields.
            key = _text(content.get("key", ""), "key", lang).strip()
            content = {**content, "data": {key: _text(content.get("value", ""), "value", lang)}}
        for key in required + optional:
            if key not in content or content[key] in ("", None):
                continue
            value = content[key]
            if key in INT_FIELDS:
                arg[key] = _int(value, key, lang)
            elif key in BOOL_FIELDS:
                arg[key] = _bool(value)
            elif key == "data" and isinstance(value, dict):
                arg[key] = value
            else:
                arg[key] = _text(value, key, lang)
        step = {name: arg}
    problems = steps.validate_step(step)
    if problems:
        raise ActionError(message("bad-field", lang, detail="; ".join(problems)))
    return Step(step)


def _command(name: str, content: dict[str, Any], lang: str, scenarios: Any) -> Command:
    if name == "speed":
        value = content.get("value", content.get("speed"))
        try:
            speed = int(str(value).strip())
        except (TypeError, ValueError):
            speed = 0
        if speed not in SPEEDS:
            raise ActionError(message("bad-speed", lang))
        return Command("speed", speed)
    if name == "scenario":
        value = content.get("name", content.get("value", content.get("scenario")))
        if not isinstance(value, str) or not value.strip():
            raise ActionError(message("no-scenario", lang))
        value = value.strip()
        if scenarios is not None and value not in scenarios:
            raise ActionError(message("unknown-scenario", lang, name=value[:40]))
        return Command("scenario", value)
    return Command(name)
