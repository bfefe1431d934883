"""Text normalisation shared by every matcher (people write without accents, with typos)."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9' ]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower-case, accent-free, single-spaced text with straight apostrophes.

    Hyphens and punctuation become spaces so that "saint-brieuc" and "saint brieuc" compare equal.
    """
    text = strip_accents(text.translate(_APOSTROPHES)).lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def fix_typography(text: str) -> str:
    """Normalise curly apostrophes and odd spaces in data files, keeping accents."""
    text = text.translate(_APOSTROPHES).replace("\u00a0", " ").replace("\u202f", " ")
    return _SPACES.sub(" ", text).strip()
