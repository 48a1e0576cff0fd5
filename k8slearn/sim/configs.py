"""ConfigMaps and Secrets: the API server's rules for them (no controller: the kubelet reads them).

Follows ``ValidateConfigMap`` / ``ValidateSecret`` and the Secret strategy: ``stringData`` is a
write-only convenience merged into ``data`` (base64) before validation and never stored;
``immutable: true`` freezes ``data``/``binaryData`` (and itself); the total size is capped at
1 MiB. Values that are not strings fail JSON decoding in the real API server, so they are a
BadRequest here too, not a validation cause.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

from k8slearn.sim import apiserver
from k8slearn.sim.errors import ApiError

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]

MAX_SIZE = 1024 * 1024  # corev1.MaxSecretSize, also used for ConfigMaps
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                  "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                  "is '[-._a-zA-Z0-9]+')")
IMMUTABLE_MSG = "Forbidden: field is immutable when `immutable` is set"
SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def config_key_errors(field: str, key: str) -> list[str]:
    """IsConfigMapKey, with the API's wording (field is e.g. 'data')."""
    path = f"{field}[{key}]"
    causes = []
    if len(key) > 253:
        causes.append(f'{path}: Invalid value: "{key}": must be no more than 253 characters')
    if not CONFIG_KEY.match(key):
        causes.append(f'{path}: Invalid value: "{key}": {CONFIG_KEY_MSG}')
    if key == ".":
        causes.append(f"{path}: Invalid value: \"{key}\": must not be '.'")
    elif key == "..":
        causes.append(f"{path}: Invalid value: \"{key}\": must not be '..'")
    elif key.startswith(".."):
        causes.append(f"{path}: Invalid value: \"{key}\": must not start with '..'")
    return causes


def _require_string_map(kind: str, obj: Obj, field: str) -> None:
    data = obj.get(field)
    if data is None:
        return
    if not isinstance(data, dict):
        raise _decode_error(kind, f"json: cannot unmarshal {_json_type(data)} into Go struct "
                            f"field {kind}.{field} of type map[string]string")
    for value in data.values():
        if not isinstance(value, str):
            raise _decode_error(kind, f"json: cannot unmarshal {_json_type(value)} into Go "
                                f"struct field {kind}.{field} of type string")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else "string"


def _decode_error(kind: str, detail: str) -> ApiError:
    return ApiError("BadRequest", f'{kind} in version "v1" cannot be handled as a {kind}: '
                    f"{detail}", 400)


def _immutable_causes(obj: Obj, old: Obj | None, fields: tuple[str, ...]) -> list[str]:
    if old is None or not old.get("immutable"):
        return []
    causes = [f"{f}: {IMMUTABLE_MSG}" for f in fields if (obj.get(f) or {}) != (old.get(f) or {})]
    if not obj.get("immutable"):
        causes.append(f"immutable: {IMMUTABLE_MSG}")
    return causes


# -- ConfigMap -----------------------------------------------------------------------------
@apiserver.defaulter("ConfigMap")
def default_configmap(cluster: Cluster, cm: Obj) -> None:
    _require_string_map("ConfigMap", cm, "data")
    _require_string_map("ConfigMap", cm, "binaryData")


@apiserver.validator("ConfigMap")
def validate_configmap(cluster: Cluster, cm: Obj, old: Obj | None) -> list[str]:
    causes: list[str] = []
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    for key in data:
        causes += config_key_errors("data", key)
    for key in binary:
        causes += config_key_errors("binaryData", key)
        if key in data:
            causes.append(f'data[{key}]: Invalid value: "{key}": duplicate of key present in '
                          "binaryData")
    size = sum(len(k) + len(v.encode()) for k, v in data.items()) + sum(
        len(k) + len(v) * 3 // 4 for k, v in binary.items())
    if size > MAX_SIZE:
        causes.append(f"data: Too long: must have at most {MAX_SIZE} bytes")
    causes += _immutable_causes(cm, old, ("data", "binaryData"))
    return causes


# -- Secret --------------------------------------------------------------------------------
@apiserver.defaulter("Secret")
def default_secret(cluster: Cluster, secret: Obj) -> None:
    secret.setdefault("type", "Opaque")
    _require_string_map("Secret", secret, "data")
    _require_string_map("Secret", secret, "stringData")
    for value in (secret.get("data") or {}).values():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _decode_error("Secret", f"illegal base64 data at input byte "
                                f"{_bad_base64_offset(value)}") from exc
    string_data = secret.pop("stringData", None)
    if string_data:
        # The strategy merges stringData over data (stringData wins) and drops it.
        data = secret.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(value.encode()).decode()


def _bad_base64_offset(value: str) -> int:
    for i, ch in enumerate(value):
        if not (ch.isalnum() or ch in "+/="):
            return i
    return len(value)


@apiserver.validator("Secret")
def validate_secret(cluster: Cluster, secret: Obj, old: Obj | None) -> list[str]:
    causes: list[str] = []
    data = secret.get("data") or {}
    for key in data:
        causes += config_key_errors("data", key)
    for key in SECRET_REQUIRED_KEYS.get(secret.get("type", ""), ()):
        if key not in data:
            causes.append(f"data[{key}]: Required value")
    size = sum(len(base64.b64decode(v)) for v in data.values())
    if size > MAX_SIZE:
        causes.append(f"data: Too long: must have at most {MAX_SIZE} bytes")
    if old is not None and old.get("type") != secret.get("type"):
        causes.append(f'type: Invalid value: "{secret.get("type")}": field is immutable')
    causes += _immutable_causes(secret, old, ("data",))
    return causes
