"""Keys that compare place names as people type them: words, articles, abbreviations, sound, typo budget."""

from __future__ import annotations

import re
import unicodedata

from bot.core.text import normalize

ARTICLES = ("le", "la", "les", "l")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def key_words(text: str) -> list[str]:
    """Normalised words; apostrophes split words ("l'isle" -> "l isle")."""
    words = normalize(text).replace("'", " ").split()
    return [_ABBREVIATIONS.get(w, w) for w in words]


def name_key(text: str) -> str:
    return " ".join(key_words(text))


_HAS_ABBREVIATION = re.compile(r"\b(?:st|ste|sts|stes)\b")
_SEPARATOR = " zq9qz "  # survives normalize() and is no word of any name


_COMBINING = re.compile("[\u0300-\u036f]")
_NOT_KEY_CHAR = re.compile(r"[^a-z0-9 ]+")


def name_keys(names: list[str]) -> list[str]:
    """Same as ``[name_key(n) for n in names]`` in one pass (load time matters).

    Mirrors bot.core.text.normalize with C-level regexes; a test checks both agree on every name.
    """
    bulk = unicodedata.normalize("NFKD", _SEPARATOR.join(names))
    bulk = _COMBINING.sub("", bulk).lower().replace("œ", "oe").replace("æ", "ae")
    bulk = _NOT_KEY_CHAR.sub(" ", bulk)
    parts = bulk.split(_SEPARATOR.strip())
    if len(parts) != len(names):  # cannot happen with real names; stay correct anyway
        return [name_key(n) for n in names]
    if not _HAS_ABBREVIATION.search(bulk):
        return [" ".join(part.split()) for part in parts]
    return [" ".join(_ABBREVIATIONS.get(w, w) for w in part.split()) for part in parts]


def strip_article(key: str) -> str:
    head, _, rest = key.partition(" ")
    return rest if head in ARTICLES and rest else key


def compact(key: str) -> str:
    return key.replace(" ", "")


_PHONETIC_RULES = [
    (re.compile(r"eaux?|aux?"), "o"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"qu|ck|c(?=[aou])|k"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"(?<=[aeiou])s(?=[aeiou])"), "z"),
    (re.compile(r"y"), "i"),
    (re.compile(r"[ae]i|ei"), "e"),
    (re.compile(r"(?<![cs])h"), ""),
    (re.compile(r"ill?e?"), "il"),
    (re.compile(r"([a-z])\1+"), lambda m: m.group(1)),  # a callable is faster than a template
    # Silent endings, keeping at least one letter of the word.
    (re.compile(r"(?<=[a-z])(?:[sxtdz]|e[sz]?)(?![a-z])"), ""),
    (re.compile(r" "), ""),
]


def phonetic_keys(keys: list[str]) -> list[str]:
    """Rough French sound keys, so "bordo" meets "bordeaux" and "marseil" meets "marseille"."""
    bulk = "\n".join(keys)
    for pattern, repl in _PHONETIC_RULES:
        bulk = pattern.sub(repl, bulk)
    return bulk.split("\n")


def phonetic_key(key: str) -> str:
    return phonetic_keys([key])[0]


def typo_budget(key: str) -> int:
    """Typos tolerated in a name of this length."""
    n = len(compact(key))
    if n < 4:
        return 0
    if n < 6:
        return 1
    if n < 10:
        return 2
    return 3
