"""Reference codes: seven characters read over the phone or handwritten, the last one a check."""

from __future__ import annotations

import secrets
from typing import Optional

# No 0/O, 1/I/L, U/V: nothing that sounds or looks alike when read aloud or handwritten.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ2345679"
CODE_LENGTH = 6  # plus one check character


def _check_char(body: str) -> str:
    total = sum((i + 1) * CODE_ALPHABET.index(c) for i, c in enumerate(body))
    return CODE_ALPHABET[total % len(CODE_ALPHABET)]


def new_reference() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = body + _check_char(body)
    return f"{code[:3]}-{code[3:]}"


def normalise_reference(text: str) -> Optional[str]:
    """Canonical form of a code typed or dictated ("k7m 4xpq", "K7M4XPQ"), or None if invalid."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(raw) != CODE_LENGTH + 1 or any(c not in CODE_ALPHABET for c in raw):
        return None
    if _check_char(raw[:-1]) != raw[-1]:
        return None
    return f"{raw[:3]}-{raw[3:]}"
