"""Template helpers for the course pages."""

from __future__ import annotations

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
