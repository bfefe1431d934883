"""GSM-7 / UCS-2 choice and segment counting for SMS.

GSM-7 lets 160 characters fit one SMS (153 per part when concatenated); a single character
outside it switches the whole message to UCS-2 (70 / 67). So we replace the few French
characters GSM-7 lacks by close ones, and fall back to UCS-2 only when that is not enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7 = "gsm7"
UCS2 = "ucs2"
MAX_SEGMENTS = 3

_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

# Characters GSM-7 lacks, replaced by the closest ones it has (é è ù ì ò à É Ç exist in GSM-7).
TRANSLITERATION = {
    "ê": "e", "ë": "e", "â": "a", "ä": "a", "î": "i", "ï": "i", "ô": "o", "û": "u", "ü": "u", "ç": "c",
    "œ": "oe", "Œ": "OE", "æ": "ae", "À": "A", "Â": "A", "Ê": "E", "È": "E", "Ë": "E", "Î": "I",
    "Ï": "I", "Ô": "O", "Û": "U", "Ù": "U", "ÿ": "y",
    "’": "'", "‘": "'", "‚": "'", "′": "'", "«": '"', "»": '"', "“": '"', "”": '"', "„": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ",
    "…": "...", "–": "-", "—": "-", "‑": "-", "−": "-", "•": "-", "\u200b": "",
}


@dataclass(frozen=True)
class Segments:
    encoding: str
    units: int      # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int      # number of SMS parts


def gsm7_encodable(text: str) -> bool:
    try:
        text.encode("gsm03.38")
    except (UnicodeEncodeError, ValueError):
        return False
    return True


def transliterate(text: str) -> str:
    """Replace only the characters GSM-7 lacks; keep every character it has."""
    return "".join(ch if gsm7_encodable(ch) else TRANSLITERATION.get(ch, ch) for ch in text)


def prepare(text: str) -> str:
    """Text as it will be sent: GSM-7 after transliteration if possible, else the original (UCS-2)."""
    candidate = transliterate(text)
    return candidate if gsm7_encodable(candidate) else text


def _weights(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        # Extension characters (€ [ ] { } ^ ~ | \) take an escape septet plus the character.
        return [len(ch.encode("gsm03.38")) for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # surrogate pairs


def count(text: str) -> Segments:
    """Segments needed to send `text` as is (call prepare() first to get what we really send)."""
    encoding = GSM7 if gsm7_encodable(text) else UCS2
    weights = _weights(text, encoding)
    single, multi = _LIMITS[encoding]
    units = sum(weights)
    if units <= single:
        return Segments(encoding, units, 1 if text else 0)
    # Concatenated parts never split an escape sequence or a surrogate pair.
    parts, used = 1, 0
    for weight in weights:
        if used + weight > multi:
            parts, used = parts + 1, 0
        used += weight
    return Segments(encoding, units, parts)


def segments_of(text: str) -> int:
    """Segments of a reply once prepared for sending."""
    return count(prepare(text)).count


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def fit(text: str, max_segments: int = MAX_SEGMENTS, ellipsis: str = "...") -> str:
    """Prepared text shortened (at a sentence, else a word boundary) to at most `max_segments` parts."""
    text = prepare(text)
    if count(text).count <= max_segments:
        return text
    sentences = _SENTENCE_END.split(text)
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if count(candidate).count > max_segments:
            break
        kept = candidate
    if kept:
        return kept
    words, kept = text.split(" "), ""
    for word in words:
        candidate = f"{kept} {word}".strip()
        if count(candidate + ellipsis).count > max_segments:
            break
        kept = candidate
    if kept:
        return kept + ellipsis
    # One enormous word: keep the longest prefix that fits.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[:middle] + ellipsis).count <= max_segments:
            low = middle
        else:
            high = middle - 1
    return text[:low] + ellipsis
