"""Errors raised inside the core. None of them escapes ``Cluster.kubectl()``."""

from __future__ import annotations


class SimError(Exception):
    """A bug or an impossible request inside the simulator (e.g. an illegal state transition)."""


class ApiError(Exception):
    """What the API server answers with a non-2xx status, printed the way kubectl prints it.

    ``str(err)`` is kubectl's line, e.g.
    ``Error from server (NotFound): pods "web" not found``.
    """

    def __init__(self, reason: str, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.reason = reason  # NotFound, AlreadyExists, Invalid, BadRequest, Conflict, Forbidden
        self.message = message
        self.code = code
        self.details: dict[str, object] | None = None  # Invalid: {"kind", "name", "causes"}

    def __str__(self) -> str:
        return f"Error from server ({self.reason}): {self.message}"


def not_found(plural: str, name: str) -> ApiError:
    return ApiError("NotFound", f'{plural} "{name}" not found', 404)


def already_exists(plural: str, name: str) -> ApiError:
    return ApiError("AlreadyExists", f'{plural} "{name}" already exists', 409)


def invalid(kind: str, name: str, causes: list[str]) -> ApiError:
    # kubectl prints: The Deployment "web" is invalid: spec.replicas: Invalid value: -1: ...
    # (kubectl prints this one without the "Error from server" prefix).
    err = ApiError("Invalid", f'{kind} "{name}" is invalid: ' + ", ".join(causes), 422)
    err.details = {"kind": kind, "name": name, "causes": list(causes)}  # kubectl prints these
    return err
