"""Join codes a class can read off a projector and type without mistakes.

Six characters from 31 letters and digits: no 0/O, 1/I/L (they look alike), about 887 million
codes. Typing is forgiving: case, spaces and dashes do not matter.
"""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str:
    """What the student typed, as a code: 'abc-def ' -> 'ABCDEF'."""
    return "".join(ch for ch in str(text).upper() if ch not in " -\t\r\n")[:20]


def looks_valid(code: str) -> bool:
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def shown(code: str) -> str:
    """For the projector: 'ABCDEF' -> 'ABC DEF'."""
    return f"{code[:3]} {code[3:]}"
