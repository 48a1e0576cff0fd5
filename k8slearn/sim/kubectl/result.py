"""What one kubectl command returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KubectlResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0
