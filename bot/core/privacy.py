"""Remove secrets and sensitive identifiers from what people type, before anything is stored or forwarded.

The brief forbids keeping passwords, access codes, the social security number (NIR), IBANs and card
numbers; phone numbers and e-mail addresses typed in a message are not kept either (a person's contact
for the follow-up is the channel's own address, sealed: bot/handoff/followup.py). People mistype, so numbers
are masked by their shape, never by their check digits: any run of 12 digits or more (a NIR with or
without its key, a card number, an IBAN without its letters), anything shaped like an IBAN, a French
or international phone number. Postcodes, dates, amounts, allocataire numbers and the emergency
numbers stay readable. Passwords and codes are found after a cue ("mot de passe", "mdp", "code
secret", "code :", "PIN", "OTP"...): only the value is replaced, the cue stays so the sentence still
reads ("mon mdp c'est [MOT_DE_PASSE]").

Every regex here is linear: no nested quantifiers over overlapping classes, bounded look-arounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from bot.core.text import strip_accents

PASSWORD = "mot_de_passe"
CODE = "code"
NIR = "nir"
IBAN = "iban"
CARD = "carte_bancaire"
NUMBER = "numero"
PHONE = "telephone"
EMAIL = "email"

KINDS: tuple[str, ...] = (PASSWORD, CODE, NIR, IBAN, CARD, NUMBER, PHONE, EMAIL)
# What the person is warned about: a contact detail is masked without a word.
SECRET_KINDS: frozenset[str] = frozenset((PASSWORD, CODE, NIR, IBAN, CARD, NUMBER))

TOKENS: dict[str, str] = {
    PASSWORD: "[MOT_DE_PASSE]",
    CODE: "[CODE]",
    NIR: "[NIR]",
    IBAN: "[IBAN]",
    CARD: "[CARTE]",
    NUMBER: "[NUMERO]",
    PHONE: "[TELEPHONE]",
    EMAIL: "[EMAIL]",
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

_SEP = " .\\-\u00a0\u202f_"
# Country code + 2 check digits, then up to 34 alphanumerics with up to 3 separators in between.
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[" + _SEP + r"]{0,3}[A-Za-z0-9]){8,32}")
# Digits (and the Corsican "2A"/"2B" département of a NIR) with up to 3 separator chars between them
# ("3000 - 6000").
# A letter typed between two digits ("13A001", "21 A0": a Corsican département mistyped) stays in the run.
_CORSICA = r"2[" + _SEP + r"]{0,3}[ABab](?![A-Za-z])"
_DIGIT = (r"(?:" + _CORSICA + r"|[0-9](?:[" + _SEP + r"]{0,3}[A-Za-z](?=[" + _SEP + r"]{0,3}[0-9]))?)")
_DIGIT_RUN = re.compile(_DIGIT + r"(?:[" + _SEP + r"]{0,3}" + _DIGIT + r")*")
_GROUP = re.compile(r"[^" + _SEP + r"]+")
# A run this long is an identifier (NIR, card, IBAN digits, tax or bank number), never a postcode,
# a date or an amount: it is masked whatever its check digits say.
LONG_DIGITS = 12
# A postcode or a house number typed against a phone number keeps its own meaning.
_KEPT_BESIDE_A_PHONE = 5
_DECIMAL = re.compile(r"0[.,][0-9]+")
_NIR_FIRST_DIGITS = frozenset("123478")  # 1/2 = born in France, 3/4 provisional, 7/8 foreigners (NIA)
_CARD_FIRST_DIGITS = frozenset("23456")  # issuer ranges of payment cards


def _is_alnum_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isalnum()


def _iban_shaped(compact: str) -> bool:
    rest = compact[4:]
    return (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit()
            and sum(ch.isdigit() for ch in rest) >= 10)


def _find_ibans(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for match in _IBAN_CANDIDATE.finditer(text):
        start = match.start()
        raw = match.group()
        # The candidate may swallow the following words ("... 189 merci"): an IBAN ends with a digit,
        # so try the longest prefix ending with one that does not cut a word in two.
        ends = [i + 1 for i, ch in enumerate(raw) if ch.isdigit()]
        for end in reversed(ends):
            if _is_alnum_at(text, start + end):
                continue
            compact = re.sub(r"[^A-Za-z0-9]", "", raw[:end]).upper()
            if len(compact) < 15:
                break
            if _iban_shaped(compact):
                spans.append(_Span(start, start + end, IBAN))
                break
    return spans


def _nir_shaped(compact: str) -> bool:
    compact = compact.upper()
    if len(compact) not in (13, 15) or compact[0] not in _NIR_FIRST_DIGITS:
        return False
    head, dept, tail = compact[:5], compact[5:7], compact[7:]
    return head.isdigit() and tail.isdigit() and (dept.isdigit() or dept in ("2A", "2B"))


def _card_grouped(lengths: list[int]) -> bool:
    return (len(lengths) > 1 and all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4) \
        or lengths in ([4, 6, 5], [4, 6, 4])  # American Express / Diners


def _long_kind(compact: str, groups: list[tuple[int, int, str]]) -> str:
    """The name a long number is masked under (the masking itself does not depend on it)."""
    card = 13 <= len(compact) <= 19 and compact.isdigit() and compact[0] in _CARD_FIRST_DIGITS
    if card and _card_grouped([len(g[2]) for g in groups]):
        return CARD
    if _nir_shaped(compact):
        return NIR
    return CARD if card else NUMBER


def _phone_shaped(compact: str, plus_before: bool) -> bool:
    """A French number (0X, 33X, 0033X, with a digit missing or one too many) or an international one."""
    if not compact.isdigit():
        return False
    if plus_before:
        return 8 <= len(compact) <= 15
    if compact.startswith("00"):
        return 11 <= len(compact) <= 15
    if compact.startswith("33") and compact[2:3] != "0":
        return len(compact) == 11
    return compact[0] == "0" and compact[1:2] not in ("", "0") and 9 <= len(compact) <= 11


def _find_numbers(text: str) -> list[_Span]:
    spans: list[_Span] = []
    for run in _DIGIT_RUN.finditer(text):
        # Glued to letters too ("tel0612345678", "NIR184..."): a typo must not keep a number in clear.
        start, end = run.span()
        if _DECIMAL.fullmatch(run.group()):
            continue  # "0.1995562": a coordinate or an amount, not a phone number
        groups = [(m.start() + start, m.end() + start, m.group()) for m in _GROUP.finditer(run.group())]
        compact = "".join(g[2] for g in groups)
        plus = text[max(0, start - 2):start].rstrip().endswith("+")
        if _phone_shaped(compact, plus):
            spans.append(_Span(start - (1 if plus and text[start - 1] == "+" else 0), end, PHONE))
            continue
        phone = _phone_beside_a_short_number(groups)
        if phone is not None:
            spans.append(phone)
        elif len(compact) >= LONG_DIGITS:
            phones = _phones_inside(groups)
            if all(any(p.start <= g[0] and g[1] <= p.end for p in phones) for g in groups):
                spans.extend(phones)  # several phone numbers one after the other
            else:
                spans.append(_Span(start, end, _long_kind(compact, groups)))
        else:
            spans.extend(_phones_inside(groups))
    return spans


def _phone_beside_a_short_number(groups: list[tuple[int, int, str]]) -> _Span | None:
    """"35000 06 12 34 56 78": the phone is masked, the postcode before (or after) it kept."""
    if len(groups) < 2:
        return None
    first, last = groups[0][2], groups[-1][2]
    if 2 <= len(first) <= _KEPT_BESIDE_A_PHONE and _french_phone("".join(g[2] for g in groups[1:])):
        return _Span(groups[1][0], groups[-1][1], PHONE)
    if 2 <= len(last) <= _KEPT_BESIDE_A_PHONE and _french_phone("".join(g[2] for g in groups[:-1])):
        return _Span(groups[0][0], groups[-2][1], PHONE)
    return None


def _french_phone(compact: str) -> bool:
    return len(compact) == 10 and compact.isdigit() and compact[0] == "0" and compact[1] != "0"


def _phones_inside(groups: list[tuple[int, int, str]]) -> list[_Span]:
    """Phone numbers among shorter groups ("rdv 14 30 au 02 99 12 34 56")."""
    spans: list[_Span] = []
    i = 0
    while i < len(groups):
        found = None
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > 11:
                break
            if _french_phone(digits):
                found = _Span(groups[i][0], groups[j][1], PHONE)
        if found is not None:
            spans.append(found)
            while i < len(groups) and groups[i][0] < found.end:
                i += 1
        else:
            i += 1
    return spans


# --------------------------------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------------------------------

# "jean.dupont@gmail.com", "jean dupont @ gmail . com", "jean.dupont arobase gmail point com".
_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}\s?(?:@|\(at\)|\barobase\b)\s?[A-Za-z0-9\-]{1,63}"
    r"(?:\s?(?:\.|\bpoint\b)\s?[A-Za-z0-9\-]{1,63}){1,4}",
    re.IGNORECASE)


def _find_emails(text: str) -> list[_Span]:
    return [_Span(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]


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
# A redaction token is never a filler: a cue must not reach past a value masked already (idempotence).
_FILLERS = rf"(?:\s+(?!{_CONNECTOR_WORDS}|{_CLAUSE_WORDS}|\[)[^\s:=.,;!?]{{1,20}}){{0,4}}?"
_QUOTED = r'"[^"\n]{1,80}"|«[^»\n]{1,80}»|“[^”\n]{1,80}”'
# "a / mdp b": 2 values
_VALUE = rf"(?:{_QUOTED}|\S+)(?:\s*[/|]\s*(?!{_PASSWORD_CUE}|{_WEAK_CODE_CUE})(?:{_QUOTED}|\S+))?"

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


# A bare "code", "PIN" or "OTP" before a value of 3 to 10 digits ("code: 4589", "PIN 1234", "le code
# que j'ai reçu c'est 482913"); the codes that are not secrets are named after it ("code postal").
_NOT_A_SECRET_CODE = (r"\s*(?:postal|insee|commune|d[ée]partement|r[ée]gion|naf|ape|de\s+la\s+route|civil|"
                      r"p[ée]nal|du\s+travail|promo|barre|couleur|source|erreur|d[\s'’]*erreur|article)\b")
_CODE_CUE = rf"\b(?:code|pin|otp)\b(?!{_NOT_A_SECRET_CODE})"
_CODE_DIGITS = r"(?P<value>[A-Za-z]?\d(?:[ .\-]?[A-Za-z0-9]){2,9})(?![A-Za-z0-9])"
_CODE_VALUE = re.compile(rf"(?P<cue>{_CODE_CUE}(?:{_CONNECTOR}|\s*)){_CODE_DIGITS}", re.IGNORECASE)
_CODE_AFTER_WORDS = re.compile(rf"(?P<cue>{_CODE_CUE}{_FILLERS}(?:{_CONNECTOR}|\s+)){_CODE_DIGITS}", re.IGNORECASE)


def _find_codes(text: str) -> list[_Span]:
    spans = []
    for pattern in (_CODE_VALUE, _CODE_AFTER_WORDS):
        for match in pattern.finditer(text):
            value = match.group("value")
            if sum(ch.isdigit() for ch in value) >= 3:
                spans.append(_Span(match.start("value"), match.end("value"), CODE))
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


def _claim_codes(codes: Iterable[_Span], claimed: list[_Span]) -> None:
    """A code read as a password too ("code reçu: 482 913" gives the password "482"): the password's
    span grows to the whole code rather than leaving "913" in clear."""
    for code in codes:
        overlapping = [i for i, other in enumerate(claimed) if code.start < other.end and other.start < code.end]
        if not overlapping:
            claimed.append(code)
        elif len(overlapping) == 1 and claimed[overlapping[0]].kind == PASSWORD:
            other = claimed[overlapping[0]]
            claimed[overlapping[0]] = _Span(min(other.start, code.start), max(other.end, code.end), PASSWORD)


_BLANK = "\x00"


def _blanked(text: str, claimed: list[_Span]) -> str:
    """`text` with each claimed span replaced by as many characters that no finder reads."""
    if not claimed:
        return text
    chars = list(text)
    for span in claimed:
        chars[span.start:span.end] = _BLANK * (span.end - span.start)
    return "".join(chars)


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
        # Priority when spans overlap: IBAN (longest) > long numbers and phones > e-mail > password
        # value > code.
        # Each finder reads the text with what was already claimed blanked out, so that a number
        # typed right after an IBAN is not swallowed into it and then dropped.
        _claim(_find_ibans(text), claimed)
        _claim(_find_numbers(_blanked(text, claimed)), claimed)
        _claim(_find_emails(_blanked(text, claimed)), claimed)
        _claim(_merge(_find_passwords(text)), claimed, text)
        _claim_codes(_merge(_find_codes(text)), claimed)
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
                if isinstance(new_key, str) and new_key in out:  # two keys redacted alike: keep both values
                    new_key = next(f"{new_key} ({n})" for n in range(2, len(out) + 3) if f"{new_key} ({n})" not in out)
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
