"""Compile locale/*/LC_MESSAGES/*.po to .mo with polib (pure Python, no GNU msgfmt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def compile_catalogues(locale_dirs: list[Path] | None = None) -> list[Path]:
    """Write a .mo next to every .po that is newer than its .mo; return the files written."""
    written: list[Path] = []
    for locale_dir in locale_dirs or [Path(p) for p in settings.LOCALE_PATHS]:
        for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            written.append(mo_path)
    return written


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # must work while lessons are being edited
    help = "Compile the translation catalogues (locale/*/LC_MESSAGES/*.po) to .mo files."

    def handle(self, *args: Any, **options: Any) -> None:
        written = compile_catalogues()
        for path in written:
            self.stdout.write(f"compiled {path}")
        if not written:
            self.stdout.write("catalogues are up to date")
