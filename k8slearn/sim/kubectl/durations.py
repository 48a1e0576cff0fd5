"""apimachinery's duration formatting (the AGE column and describe's Age)."""

from __future__ import annotations

from k8slearn.sim.objects import parse_rfc3339


# -- durations -----------------------------------------------------------------------------
def human_duration(seconds: float) -> str:
    """apimachinery ``duration.HumanDuration`` (the AGE column)."""
    secs = int(seconds) if seconds >= 0 else -int(-seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        s = secs % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(seconds: float) -> str:
    """apimachinery ``duration.ShortHumanDuration``."""
    secs = int(seconds) if seconds >= 0 else -int(-seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h"
    if secs < 86400 * 365:
        return f"{secs // 86400}d"
    return f"{secs // (86400 * 365)}y"


def age(stamp: str | None, now: float) -> str:
    """translateTimestampSince: ``<unknown>`` for a missing timestamp."""
    if not stamp:
        return "<unknown>"
    return human_duration(now - parse_rfc3339(stamp))


