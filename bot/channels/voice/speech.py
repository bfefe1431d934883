"""Numbers written for speech, in French: a text-to-speech voice reads "35000" as "trente-cinq mille",
which nobody can key in again; a postcode, a phone number or an hour is read the way people say them.

A small function rather than a dependency: the menu needs the numbers 0 to 999 999 and three shapes
(postcode, phone number in pairs, hour), all tested in tests/channels/test_voice_speech.py.
"""

from __future__ import annotations

import re
from datetime import datetime

UNITS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
         "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf")
TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
DIGIT_RUN = re.compile(r"\d+")
# Abbreviations of the directory's addresses, said in full ("bd" would be read as two letters).
STREET_WORDS = {"bd": "boulevard", "bld": "boulevard", "boul": "boulevard", "av": "avenue", "ave": "avenue",
                "pl": "place", "r": "rue", "all": "allée", "imp": "impasse", "ch": "chemin", "chem": "chemin",
                "rte": "route", "fg": "faubourg", "fbg": "faubourg", "sq": "square", "crs": "cours", "qu": "quai",
                "st": "saint", "ste": "sainte", "res": "résidence", "rés": "résidence", "bat": "bâtiment",
                "bât": "bâtiment", "esp": "esplanade", "prom": "promenade"}
UNAMBIGUOUS = ("bd", "av", "st")
ABBREVIATION = re.compile(r"\b([A-Za-zÀ-ÿ]+)\.?(?=\s|$|,)")


def _below_100(n: int) -> str:
    if n < 20:
        return UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in TENS:
        if unit == 0:
            return TENS[tens]
        return f"{TENS[tens]} et un" if unit == 1 else f"{TENS[tens]}-{UNITS[unit]}"
    if tens == 7:  # soixante-dix, soixante et onze, soixante-douze…
        return "soixante et onze" if unit == 1 else f"soixante-{UNITS[10 + unit]}"
    if n == 80:
        return "quatre-vingts"
    return f"quatre-vingt-{UNITS[n - 80]}"  # quatre-vingt-un … quatre-vingt-dix-neuf


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_100(rest)
    head = "cent" if hundreds == 1 else f"{UNITS[hundreds]} cent"
    if rest == 0:
        return head if hundreds == 1 else head + "s"
    return f"{head} {_below_100(rest)}"


def number(n: int) -> str:
    """0 to 999 999 in words: 21 "vingt et un", 80 "quatre-vingts", 112 "cent douze", 2000 "deux mille"."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is out of range")
    thousands, rest = divmod(n, 1000)
    if thousands == 0:
        return _below_1000(n)
    head = "mille" if thousands == 1 else f"{_below_1000(thousands).removesuffix('s')} mille"
    return head if rest == 0 else f"{head} {_below_1000(rest)}"


def digits(text: str) -> str:
    """Each digit on its own: "007" "zéro zéro sept"."""
    return " ".join(UNITS[int(d)] for d in text if d.isdigit())


def pair(two: str) -> str:
    """A pair of a phone number: "02" "zéro deux", "61" "soixante et un", "00" "zéro zéro"."""
    return digits(two) if two.startswith("0") else number(int(two))


def postcode(code: str) -> str:
    """"35000" "trente-cinq, zéro zéro zéro": the département as a number, then each digit."""
    code = "".join(d for d in code if d.isdigit())
    if len(code) != 5:
        return digits(code)
    return f"{pair(code[:2])}, {digits(code[2:])}"


def phone(number_text: str) -> str:
    """"02 61 91 00 01" "zéro deux, soixante et un, quatre-vingt-onze, zéro zéro, zéro un": by pairs, as
    French numbers are said; a short number (the 3919, the 112) as it is said on posters."""
    raw = "".join(d for d in number_text or "" if d.isdigit())
    if not raw:
        return ""
    if len(raw) <= 3:
        return number(int(raw))
    if len(raw) % 2:
        raw, last = raw[:-1], raw[-1]
    else:
        last = ""
    pairs = [pair(raw[i:i + 2]) for i in range(0, len(raw), 2)]
    return ", ".join(pairs + ([digits(last)] if last else []))


def code(reference: str) -> str:
    """A referral's reference, one sign at a time: "AB-12" "A, B, un, deux"."""
    return ", ".join(UNITS[int(c)] if c.isdigit() else c.upper() for c in reference if c.isalnum())


def hour(moment: datetime) -> str:
    """"neuf heures", "treize heures trente", "une heure", "midi"."""
    if moment.hour == 12 and moment.minute == 0:
        return "midi"
    hours = number(moment.hour)
    if hours.endswith("un"):  # une heure, vingt et une heures: "heure" is feminine
        hours += "e"
    words = f"{hours} heure{'s' if moment.hour > 1 else ''}"
    return words if moment.minute == 0 else f"{words} {number(moment.minute)}"


def in_words(text: str) -> str:
    """Every run of digits in a text as words ("12 rue de l'Alma" "douze rue de l'Alma"); a run too long
    for a number (a code) is read digit by digit."""
    def spell(match: re.Match) -> str:
        run = match.group(0)
        return number(int(run)) if len(run) <= 4 and not (len(run) > 1 and run.startswith("0")) else digits(run)

    return DIGIT_RUN.sub(spell, text or "")


def street(address: str) -> str:
    """An address as it is said: abbreviations in full, numbers in words ("12 bd de la Liberté"
    "douze boulevard de la Liberté", "3 bis av. J. Jaurès" keeps "bis" and the initial)."""
    def expand(match: re.Match) -> str:
        word = match.group(1)
        full = STREET_WORDS.get(word.lower())
        dotted = match.group(0).endswith(".")
        if full is None or (len(word) <= 2 and not dotted and word.lower() not in UNAMBIGUOUS):
            return match.group(0)  # "r", "ch", "pl" alone may be a letter (bâtiment R): only with their dot
        return full.capitalize() if word[0].isupper() and word.lower() in ("st", "ste") else full

    return in_words(ABBREVIATION.sub(expand, address or ""))
