"""Remove secrets and sensitive identifiers from what people type, before anything is stored or forwarded.

The brief forbids keeping passwords, access codes, the social security number (NIR), IBANs and card
numbers. Structured numbers are validated with python-stdnum (check digits), so phone numbers,
postcodes, dates, amounts and allocataire numbers stay readable. Passwords are found after a cue
("mot de passe", "mdp", "code secret", "mon code est"...): only the value is replaced, the cue stays so
the sentence still reads ("mon mdp c'est [MOT_DE_PASSE]").

Every regex here is linear: no nested quantifiers over overlapping classes, bounded look-arounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.fr import nir as _nir

from bot.text import strip_accents

PASSWORD = "mot_de_passe"
NIR = "nir"
IBAN = "iban"
CARD = "carte_bancaire"

KINDS: tuple[str, ...] = (PASSWORD, NIR, IBAN, CARD)

TOKENS: dict[str, str] = {
    PASSWORD: "[MOT_DE_PASSE]",
    NIR: "[NIR]",
    IBAN: "[IBAN]",
    CARD: "[CARTE]",
}


@dataclass(frozen=True)
class Redaction:
    text: str
    kinds: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.kinds)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


# --------------------------------------------------------------------------------------------------
# Structured numbers (IBAN, NIR, card)
# --------------------------------------------------------------------------------------------------

_SEP = " .\\-\u00a0\u202f"
# Country code + 2 check digits, then up to 34 alphanumerics with single separators in between.
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[" + _SEP + r"]?[A-Za-z0-9]){8,32}")
# Digits (and the Corsican "2A"/"2B" département of a NIR) with up to 2 separator chars between them.
_DIGIT_RUN = re.compile(r"(?:2[ABab]|[0-9])(?:[" + _SEP + r"]{0,2}(?:2[ABab]|[0-9]))*")
_GROUP = re.compile(r"[^" + _SEP + r"]+")
# A cue that the number nearby is a social security number, so a key-less (13 digits) NIR counts too.
_NIR_CUE = re.compile(
    r"s[ée]cu|s[ée]curit[ée]\s+sociale|\bnir\b|vitale|insee|\bss\b|\bnss\b|immatriculation",
    re.IGNORECASE,
)
_NIR_FIRST_DIGITS = frozenset("123478")  # 1/2 = born in France, 3/4 provisional, 7/8 foreigners (NIA)


def _is_alnum_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isalnum()


def _find_ibans(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for match in _IBAN_CANDIDATE.finditer(text):
        start = match.start()
        raw = match.group()
        # The candidate may swallow the following words ("... 189 merci"): try the longest valid prefix.
        ends = [i + 1 for i, ch in enumerate(raw) if ch.isalnum()]
        for end in reversed(ends):
            if _is_alnum_at(text, start + end):
                continue  # would cut a word in two
            compact = re.sub(r"[^A-Za-z0-9]", "", raw[:end]).upper()
            if len(compact) < 15:
                break
            if _iban.is_valid(compact):
                spans.append(_Span(start, start + end, IBAN))
                break
    return spans


def _nir_structure_ok(compact: str) -> bool:
    if len(compact) not in (13, 15) or compact[0] not in _NIR_FIRST_DIGITS:
        return False
    head, dept, tail = compact[:5], compact[5:7], compact[7:]
    if not (head.isdigit() and tail.isdigit() and (dept.isdigit() or dept in ("2A", "2B"))):
        return False
    month = int(compact[3:5])
    return 1 <= month <= 12 or 20 <= month <= 42 or month >= 50


def _is_nir(compact: str, cue_nearby: bool) -> bool:
    compact = compact.upper()
    if not _nir_structure_ok(compact):
        return False
    # Same check as stdnum's validate(), minus its per-call cleaning (structure already checked above).
    if len(compact) == 15 and _nir.calc_check_digits(compact) == compact[13:]:
        return True
    # With an explicit cue ("mon numéro de sécu"), accept a NIR typed without its key or with a typo in it.
    return cue_nearby


def _card_grouping_ok(groups: list[str]) -> bool:
    lengths = [len(g) for g in groups]
    if len(lengths) == 1:
        return True
    if all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4:
        return True
    return lengths in ([4, 6, 5], [4, 6, 4])  # American Express / Diners


def _is_card(compact: str, groups: list[str]) -> bool:
    return (
        13 <= len(compact) <= 19
        and compact.isdigit()
        and compact[0] in "23456"  # issuer ranges of payment cards; fiscal and bank references start elsewhere
        and _card_grouping_ok(groups)
        and _luhn.is_valid(compact)
    )


def _find_numbers(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for run in _DIGIT_RUN.finditer(text):
        # Letters cannot occur inside a run, so the cue is looked for once, just before it.
        cue = bool(_NIR_CUE.search(text[max(0, run.start() - 60) : run.start()]))
        groups = [(m.start() + run.start(), m.end() + run.start(), m.group()) for m in _GROUP.finditer(run.group())]
        i = 0
        while i < len(groups):
            best: _Span | None = None
            compact = ""
            for j in range(i, len(groups)):
                compact += groups[j][2]
                if len(compact) > 19:
                    break
                size = len(compact)
                if size < 13:
                    continue
                start, end = groups[i][0], groups[j][1]
                if _is_alnum_at(text, start - 1) or _is_alnum_at(text, end):
                    continue  # part of a longer word or reference ("REF4111...")
                if size in (13, 15) and _nir_structure_ok(compact.upper()):
                    if _is_nir(compact, cue):
                        best = _Span(start, end, NIR)
                        continue
                if compact[0] in "23456" and _is_card(compact, [g[2] for g in groups[i : j + 1]]):
                    best = _Span(start, end, CARD)
            if best is not None:
                spans.append(best)
                while i < len(groups) and groups[i][0] < best.end:
                    i += 1
            else:
                i += 1
    return spans


# --------------------------------------------------------------------------------------------------
# Passwords and access codes
# --------------------------------------------------------------------------------------------------

_E = "[eéèêë]"
_APO = "['’`´]"
# Strong cues: whatever comes after a connector is a secret.
_PASSWORD_CUE = (
    r"(?:"
    rf"\bmots?[\s\-_]*(?:de|d{_APO}?|2|deux)[\s\-_]*pass?{_E}?s?\b"  # mot de passe, mot 2 pass, motdepasse
    rf"|\bmo\s+de\s+pass{_E}?\b"
    r"|\bm\.?d\.?ps?\b\.?"  # mdp, m.d.p
    r"|\bpass[\s\-]?words?\b|\bpasswd\b|\bpwd\b"
    rf"|\bcode\s+(?:d{_APO}?\s*acc{_E}s|secret|confidentiel|pin|perso(?:nnel)?|cb|"
    rf"(?:de\s+(?:la\s+|ma\s+)?)?carte(?:\s+bleue|\s+bancaire)?|de\s+connexion|de\s+s{_E}curit{_E}|"
    rf"provisoire|temporaire|de\s+v{_E}rification|de\s+validation|de\s+confirmation|d{_APO}?\s*activation|"
    rf"sms|re[çc]u(?:\s+par\s+sms)?|(?:de\s+(?:la\s+|l{_APO}\s*)?)?(?:caf|ameli|cpam|imp[oô]ts?|ants|msa|banque|"
    rf"france\s*connect|france\s*travail|p[oô]le\s*emploi|messagerie|mail|t{_E}l{_E}phone|portable|"
    rf"iphone|t{_E}l))\b"
    r")"
)
# Weak cue: a bare "mon code" needs a connector and a value with a digit ("code postal" never matches).
_WEAK_CODE_CUE = r"\b(?:mon|ma|mes|le|son|ton|votre|notre|leur|ce)\s+code\b"
_CONNECTOR = (
    r"(?:\s*(?:=>|->|[:=])\s*"
    rf"|\s+(?:c{_APO}\s*|c\s+|ce\s+)?(?:est|{_E}tait|sera)\b\s*(?:[:=]\s*)?"
    r"|\s+(?:cest|c|is|vaut)\b\s*(?:[:=]\s*)?)"
)
_CONNECTOR_WORDS = rf"(?:c{_APO}\s*est|c\s+est|cest|est|c|{_E}tait|sera|is|vaut)\b"
# Up to 4 short words between cue and connector: "mot de passe de mon compte caf c'est ...".
_CLAUSE_WORDS = r"(?:et|mais|car|donc|alors|puis|parce|pcq|psk|sinon|or)\b"
_FILLERS = rf"(?:\s+(?!{_CONNECTOR_WORDS}|{_CLAUSE_WORDS})[^\s:=.,;!?]{{1,20}}){{0,4}}?"
_QUOTED = r'"[^"\n]{1,80}"|«[^»\n]{1,80}»|“[^”\n]{1,80}”'
_VALUE = rf"(?:{_QUOTED}|\S+)(?:\s*[/|]\s*(?!{_PASSWORD_CUE}|{_WEAK_CODE_CUE})(?:{_QUOTED}|\S+))?"  # "a / mdp b": 2 values

_PASSWORD_WITH_CONNECTOR = re.compile(
    rf"(?P<cue>{_PASSWORD_CUE}{_FILLERS}{_CONNECTOR})(?P<value>{_VALUE})", re.IGNORECASE
)
_WEAK_WITH_CONNECTOR = re.compile(rf"(?P<cue>{_WEAK_CODE_CUE}{_CONNECTOR})(?P<value>{_VALUE})", re.IGNORECASE)
_PASSWORD_BARE = re.compile(rf"(?P<cue>{_PASSWORD_CUE}\s+)(?P<value>{_QUOTED}|\S+)", re.IGNORECASE)

# Words that follow "mon mot de passe est ..." without being the password.
_NOT_A_SECRET = frozenset(
    """
    pas plus oublie oubliee oublies perdu perdue bloque bloquee bloques faux fausse incorrect incorrecte
    invalide errone erronee mauvais mauvaise bon bonne correct correcte expire expiree perime perimee change
    changee modifie modifiee trop tres le la les l un une des du de d mon ma mes ton ta tes son sa ses notre
    votre leur que qu qui quoi quel quelle pareil pareille toujours jamais encore deja vide long longue court
    courte nul nulle refuse refusee rejete rejetee ok okay bien mal marche dans sur a au aux en et ou mais donc
    car ne n je j tu il elle on nous vous ils elles ce c cette ca cela comme avec pour par demande demandee
    requis requise obligatoire necessaire different differente inconnu inconnue introuvable impossible
    securise complique simple facile valide votre celui celle meme aussi sans non oui rien personne
    ici quoi comment pourquoi quand combien urgent urgente important importante grave nouveau nouvelle ancien
    ancienne bizarre galere normal possible difficile dur fini termine ecrit note envoye recu lequel laquelle
    quelque chiant penible relou complique parti partout enregistre memorise sauvegarde
    """.split()
)
_SECRET_SYMBOLS = re.compile(r"[0-9!@#$%^&*+=?_~§£€<>|\\/]")
_TRAILING = ".,;:)]}>»\"'"  # "!" and "?" are often part of a password: keep them inside the redaction


_TOKENS_RE = re.compile("|".join(re.escape(token) for token in TOKENS.values()))


def _plain(word: str) -> str:
    return strip_accents(word).lower().strip(_TRAILING + "(«“”")


def _value_span(match: re.Match[str]) -> tuple[int, int, str] | None:
    start, end = match.span("value")
    value = match.group("value")
    stripped = value.rstrip(_TRAILING) if not value.endswith(("\"", "»", "”")) else value
    if not any(ch.isalnum() for ch in stripped):
        return None
    return start, start + len(stripped), stripped


def _looks_secret(value: str) -> bool:
    """For a value written straight after the cue, without "est"/":" ("mdp Soleil2024")."""
    if value[:1] in "\"«“":
        return True
    if len(value) < 4 or _plain(value) in _NOT_A_SECRET:
        return False
    has_inner_upper = any(ch.isupper() for ch in value[1:]) and any(ch.islower() for ch in value)
    return bool(_SECRET_SYMBOLS.search(value)) or has_inner_upper


def _find_passwords(text: str) -> list[_Span]:
    spans: list[_Span] = []

    def add(pattern: re.Pattern[str], accept: Callable[[str], bool]) -> None:
        for match in pattern.finditer(text):
            found = _value_span(match)
            if found is None:
                continue
            start, end, value = found
            if not any(ch.isalnum() for ch in _TOKENS_RE.sub("", match.group("value"))):
                continue  # only redaction tokens ("[MOT_DE_PASSE] / [CARTE]"): already redacted
            if accept(value):
                spans.append(_Span(start, end, PASSWORD))

    first_word = lambda value: _plain(value.split()[0] if value.split() else value)  # noqa: E731
    add(_PASSWORD_WITH_CONNECTOR, lambda v: first_word(v) not in _NOT_A_SECRET)
    add(_WEAK_WITH_CONNECTOR, lambda v: first_word(v) not in _NOT_A_SECRET and any(ch.isdigit() for ch in v))
    add(_PASSWORD_BARE, _looks_secret)
    return spans


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def _claim(detected: Iterable[_Span], claimed: list[_Span], text: str = "") -> None:
    for span in detected:
        if all(span.end <= other.start or span.start >= other.end for other in claimed):
            claimed.append(span)
        elif span.kind == PASSWORD:
            # A password value running into a number already claimed ("mdp: Chat!9 / 1 84 12 ..."): keep the
            # parts the number does not cover, rather than dropping the whole password.
            _claim(_outside(span, claimed, text), claimed, text)


def _outside(span: _Span, claimed: list[_Span], text: str) -> list[_Span]:
    pieces = [(span.start, span.end)]
    for other in claimed:
        pieces = [piece for start, end in pieces
                  for piece in ((start, min(end, other.start)), (max(start, other.end), end)) if piece[0] < piece[1]]
    out = []
    for start, end in pieces:
        while start < end and not text[start].isalnum() and text[start] not in "!@#$%^&*+=?_~":
            start += 1
        while end > start and text[end - 1] in " \t/|":
            end -= 1
        if any(ch.isalnum() for ch in text[start:end]):
            out.append(_Span(start, end, span.kind))
    return out


def _merge(spans: Iterable[_Span]) -> list[_Span]:
    """One span per run of overlapping password values: "mdp Soleil=2024" is read both as "Soleil=2024"
    (bare value) and as "2024" (after "="); keeping only one of them would leave "Soleil" in clear."""
    merged: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = _Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return merged


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


_FALLBACK_NUMBERS = re.compile(r"[0-9][0-9" + _SEP + r"]{6,}[0-9]")
_FALLBACK_CUE = re.compile(_PASSWORD_CUE + r".*", re.IGNORECASE)


def _fallback(text: str) -> Redaction:
    """Used only if detection itself failed: mask too much rather than leak."""
    try:
        masked = _FALLBACK_NUMBERS.sub("[NUMERO]", text)
        masked = _FALLBACK_CUE.sub(TOKENS[PASSWORD], masked)
        return Redaction(masked, ())
    except Exception:  # pragma: no cover - last resort
        return Redaction("", ())


def redact(text: str) -> Redaction:
    """Replace passwords, NIR, IBAN and card numbers in ``text`` by neutral tokens. Never raises."""
    text = _as_text(text)
    if not text:
        return Redaction("", ())
    try:
        claimed: list[_Span] = []
        # Priority when spans overlap: IBAN (validated, longest) > NIR > card > password value.
        _claim(_find_ibans(text), claimed)
        _claim(_find_numbers(text), claimed)
        _claim(_merge(_find_passwords(text)), claimed, text)
        if not claimed:
            return Redaction(text, ())
        claimed.sort(key=lambda span: span.start)
        parts: list[str] = []
        kinds: list[str] = []
        cursor = 0
        for span in claimed:
            parts.append(text[cursor : span.start])
            parts.append(TOKENS[span.kind])
            cursor = span.end
            if span.kind not in kinds:
                kinds.append(span.kind)
        parts.append(text[cursor:])
        return Redaction("".join(parts), tuple(kinds))
    except Exception:
        return _fallback(text)


_PASSWORD_KEYS = re.compile(
    r"password|passwd|mot[\s_\-]*de[\s_\-]*passe|motdepasse|(?:^|[^a-z])(?:mdp|pwd|pin|pass|secret)(?:$|[^a-z])"
    r"|code[\s_\-]*(?:d[\s_\-']*acc[eè]s|secret|pin|confidentiel)",
    re.IGNORECASE,
)
_MAX_DEPTH = 50


def redact_mapping(obj: Any) -> tuple[Any, tuple[str, ...]]:
    """Redact every string inside nested dicts/lists/tuples; return ``(new_object, kinds)``.

    A value stored under a password-like key ("password", "mdp", "code_secret"...) is replaced whole.
    Numbers that are valid card numbers or NIR are replaced too. The input is never modified.
    """
    kinds: list[str] = []

    def note(found: Iterable[str]) -> None:
        for kind in found:
            if kind not in kinds:
                kinds.append(kind)

    def walk(value: Any, depth: int, seen: frozenset[int]) -> Any:
        if isinstance(value, str):
            result = redact(value)
            note(result.kinds)
            return result.text
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            result = redact(str(value))
            if result.found:
                note(result.kinds)
                return result.text
            return value
        if isinstance(value, (bytes, bytearray)):
            return walk(_as_text(value), depth, seen)
        if id(value) in seen or depth >= _MAX_DEPTH:
            return walk(_safe_repr(value), depth, seen) if depth >= _MAX_DEPTH else None
        if isinstance(value, dict):
            inner = seen | {id(value)}
            out: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = walk(key, depth + 1, inner) if isinstance(key, str) else key
                if isinstance(key, str) and _PASSWORD_KEYS.search(key) and item not in (None, ""):
                    note((PASSWORD,))
                    out[new_key] = TOKENS[PASSWORD]
                else:
                    out[new_key] = walk(item, depth + 1, inner)
            return out
        if isinstance(value, (list, tuple, set, frozenset)):
            inner = seen | {id(value)}
            items = [walk(item, depth + 1, inner) for item in value]
            if isinstance(value, list):
                return items
            if isinstance(value, tuple):
                return tuple(items)
            try:
                return type(value)(items)
            except TypeError:  # unhashable after redaction
                return items
        return value

    try:
        return walk(obj, 0, frozenset()), tuple(kinds)
    except Exception:
        return _fallback(_safe_repr(obj)).text, tuple(kinds)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return ""
