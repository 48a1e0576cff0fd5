"""Template helpers for the course pages."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language

register = template.Library()

NATIVE_NAMES = {"ko": "한국어", "en": "English"}


@register.simple_tag(takes_context=True)
def language_links(context: Any) -> list[dict[str, Any]]:
    """One link per language that keeps the learner on the same page."""
    request = context.get("request")
    path = request.get_full_path() if request is not None else "/"
    current = get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        url = translate_url(path, code)
        if url == path and code != current:
            url = f"/{code}/"
        links.append(
            {
                "code": code,
                "name": NATIVE_NAMES.get(code, code),
                "url": url,
                "current": code == current,
            }
        )
    return links


@register.filter
def in_lang(text: Any, lang: str) -> str:
    """A loader Text in a given language: {{ lesson.title|in_lang:"en" }}."""
    return text.get(lang) if hasattr(text, "get") else str(text)


@register.filter
def inline_md(text: Any) -> str:
    """A quiz text as inline Markdown: `code`, *em* and **strong** only (safe HTML)."""
    from django.utils.safestring import mark_safe

    from k8slearn.courses.markdown import render_inline

    return mark_safe(render_inline(str(text)))  # noqa: S308 - render_inline sanitises with nh3


# "Right." / "맞다." at the start of an explanation repeats the verdict shown above it.
VERDICT_PREFIX = re.compile(
    r"^\s*(?:right|correct|exactly|맞다|맞습니다|정답이다|정답입니다)\s*[.!]\s*",
    re.IGNORECASE,
)


def strip_verdict(text: str) -> str:
    """An explanation without a leading "Right." / "Correct." / "맞다." / "정답이다."."""
    stripped = VERDICT_PREFIX.sub("", text, count=1)
    return stripped or text


@register.filter(name="strip_verdict")
def strip_verdict_filter(text: Any) -> str:
    return strip_verdict(str(text))
