"""Helpers for Kubernetes-shaped objects: timestamps, quantities, labels, names.

Objects themselves are plain dicts in the real API's JSON shape (apiVersion, kind, metadata, spec,
status), so ``kubectl get -o json`` is just ``json.dumps``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import random
import re
from typing import Any

Obj = dict[str, Any]

# Virtual t=0 is this instant; timestamps in objects are RFC 3339 strings, as in the real API.
EPOCH = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)


def rfc3339(seconds: float) -> str:
    """Virtual seconds -> '2026-01-01T00:01:05Z' (the API's timestamps have 1 s resolution)."""
    return _rfc3339_whole(int(seconds // 1))


@functools.lru_cache(maxsize=1024)
def _rfc3339_whole(seconds: int) -> str:
    # Cached so that objects stamped in the same second share one string (memory per cluster).
    return (EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=4096)  # strptime is slow, and a cluster's timestamps repeat a lot
def parse_rfc3339(stamp: str) -> float:
    """'2026-01-01T00:01:05Z' -> virtual seconds (65.0)."""
    when = _dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    return (when - EPOCH).total_seconds()


# -- names ---------------------------------------------------------------------------------
# apimachinery util/rand: no vowels (no accidental words), no 0/1/3 (confusable with o/l/e).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def random_suffix(rng: random.Random, n: int = 5) -> str:
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(n))


def generate_name(rng: random.Random, base: str) -> str:
    """SimpleNameGenerator: base cut to 58 characters + 5 random characters (max 63)."""
    return base[:58] + random_suffix(rng)


def new_uid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# -- quantities ----------------------------------------------------------------------------
_SUFFIX = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": 10**-9, "u": 10**-6, "m": 10**-3, "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


def parse_quantity(q: Any) -> float:
    """'250m' -> 0.25, '128Mi' -> 134217728, 2 -> 2. Raises ValueError for nonsense."""
    if isinstance(q, bool):
        raise ValueError(f"quantities must match the regular expression: {q!r}")
    if isinstance(q, int | float):
        return float(q)
    m = _QUANTITY.match(str(q).strip())
    if not m:
        raise ValueError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    return float(m.group(1)) * _SUFFIX[m.group(2) or ""]


def cpu_millis(q: Any) -> int:
    """CPU quantity -> millicores, rounded up as the API does ('0.1' -> 100, '1' -> 1000)."""
    v = parse_quantity(q) * 1000
    return int(v) if v == int(v) else int(v) + 1


def memory_bytes(q: Any) -> int:
    v = parse_quantity(q)
    return int(v) if v == int(v) else int(v) + 1


def format_cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_memory(n: int) -> str:
    for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n % size == 0 and n >= size:
            return f"{n // size}{suffix}"
    return str(n)


# -- labels and selectors ------------------------------------------------------------------
def labels_of(obj: Obj) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def match_labels(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """Equality selector (Service.spec.selector, matchLabels): every pair must match.

    An empty selector matches nothing for Services (callers decide); here it matches everything.
    """
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def match_label_selector(selector: Obj | None, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector: matchLabels AND every matchExpressions requirement."""
    if not selector:
        return False
    if not match_labels(selector.get("matchLabels"), labels):
        return False
    for req in selector.get("matchExpressions") or ():
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        has = key in labels
        if op == "In" and not (has and labels[key] in values):
            return False
        if op == "NotIn" and has and labels[key] in values:
            return False
        if op == "Exists" and not has:
            return False
        if op == "DoesNotExist" and has:
            return False
    return True


_SEL_TERM = re.compile(
    r"^\s*(?P<key>[A-Za-z0-9._/-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[A-Za-z0-9._-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<vals>[^)]*)\))?\s*$"
)


def parse_selector(text: str) -> list[tuple[str, str, list[str]]]:
    """kubectl -l syntax: 'app=web,tier!=db,env in (a,b),!legacy,release' -> requirements.

    Raises ValueError with kubectl's wording for a malformed selector.
    """
    reqs: list[tuple[str, str, list[str]]] = []
    if not text.strip():
        return reqs
    # Split on commas that are not inside parentheses.
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for part in parts:
        p = part.strip()
        if p.startswith("!"):
            reqs.append((p[1:].strip(), "DoesNotExist", []))
            continue
        m = _SEL_TERM.match(p)
        if not p or not m:
            raise ValueError(f"unable to parse requirement: {part!r}")
        if m.group("op"):
            reqs.append((m.group("key"), "!=" if m.group("op") == "!=" else "=", [m.group("val")]))
        elif m.group("setop"):
            vals = [v.strip() for v in m.group("vals").split(",") if v.strip()]
            reqs.append((m.group("key"), m.group("setop"), vals))
        else:
            reqs.append((m.group("key"), "Exists", []))
    return reqs


def selector_matches(reqs: list[tuple[str, str, list[str]]], labels: dict[str, str]) -> bool:
    for key, op, vals in reqs:
        has = key in labels
        if op == "=" and labels.get(key) != vals[0]:
            return False
        if op == "!=" and has and labels[key] == vals[0]:
            return False
        if op == "in" and not (has and labels[key] in vals):
            return False
        if op == "notin" and has and labels[key] in vals:
            return False
        if op == "Exists" and not has:
            return False
        if op == "DoesNotExist" and has:
            return False
    return True


# -- conditions ----------------------------------------------------------------------------
def get_condition(obj: Obj, ctype: str) -> Obj | None:
    for cond in obj.get("status", {}).get("conditions") or ():
        if cond.get("type") == ctype:
            return cond
    return None


def set_condition(obj: Obj, cond: Obj, now: float) -> bool:
    """Set a status condition; lastTransitionTime changes only when status changes.

    Returns True if anything changed.
    """
    conds = obj.setdefault("status", {}).setdefault("conditions", [])
    for i, old in enumerate(conds):
        if old.get("type") == cond["type"]:
            new = {**old, **cond}
            if old.get("status") != cond.get("status"):
                new["lastTransitionTime"] = rfc3339(now)
            if new == old:
                return False
            conds[i] = new
            return True
    conds.append({"lastTransitionTime": rfc3339(now), **cond})
    return True


class ObjectView(dict):  # type: ignore[type-arg]
    """A stored object with a few read-only shortcuts, for tests and the UI."""

    @property
    def name(self) -> str:
        return str(self["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        return self["metadata"].get("namespace")

    @property
    def uid(self) -> str:
        return str(self["metadata"]["uid"])

    @property
    def labels(self) -> dict[str, str]:
        return labels_of(self)

    @property
    def phase(self) -> str | None:
        return self.get("status", {}).get("phase")
