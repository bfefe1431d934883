"""Hypothesis strategies shared by the property-based tests (tests/test_prop_*.py).

Hostile input as people, gateways and spreadsheets really send it: empty, very long, emoji, control
characters, right-to-left text, binary, SQL and HTML injection, mixed with plausible French SMS
fragments; and secrets that must never be stored in clear (NIR, IBAN, card numbers, passwords),
generated valid (check digits) so that the redaction has every reason to catch them.
Also the fresh, keyed database those tests run on.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

# Hypothesis keeps a cache of constants: outside the work tree (read when the first test runs).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "aiguillage-hypothesis"))

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.fr import nir as _nir

# --------------------------------------------------------------------------------------------------
# Settings: fast, no deadline (first calls load indexes), no example database left in the work tree.
# On CI the examples are derandomised so that a run is reproducible.
# --------------------------------------------------------------------------------------------------

settings.register_profile(
    "aiguillage",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)
settings.register_profile("aiguillage-ci", parent=settings.get_profile("aiguillage"), derandomize=True)
settings.load_profile("aiguillage-ci" if os.environ.get("CI") else "aiguillage")

# AIGUILLAGE_PROP_SCALE=20 makes every property test search 20 times longer (a deeper run, by hand).
_SCALE = max(1, int(os.environ.get("AIGUILLAGE_PROP_SCALE", "1") or 1))


def examples(count: int) -> int:
    return count * _SCALE

# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------

EMOJI = ["😀", "🙏", "👍🏽", "❤️", "👨‍👩‍👧‍👦", "🇫🇷", "🤷‍♀️", "📱", "💻", "🆘", "\U0001F9D1\u200D\U0001F4BB"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1b", "\x1b[31m", "\x7f",
           "\x85", "\u2028", "\u2029", "\u200b", "\u200d", "\ufeff", "\ufffd", "\ufffe"]
RTL = ["\u202e", "\u202b", "\u200f", "\u061c", "\u2067", "مرحبا، أحتاج مساعدة", "שלום, אני צריך עזרה",
       "\u202eedoc nom\u202c", "كلمة السر", "٠١٢٣٤٥٦٧٨٩", "۱۲۳"]
SQL_INJECTIONS = ["'; DROP TABLE referrals;--", "'; DROP TABLE places;--", "\" OR 1=1 --", "' OR '1'='1",
                  "1; DELETE FROM referrals", "Robert'); DROP TABLE referrals;--", "%' UNION SELECT * --",
                  "\\'; SELECT sqlite_version();--"]
HTML_INJECTIONS = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
                   "javascript:alert(1)", "<a href=\"javascript:alert(1)\">x</a>", "&lt;script&gt;", "&amp;",
                   "<!--", "]]>", "<iframe src=//evil.example>", "' onmouseover='alert(1)", "</textarea><b>x</b>",
                   "{{7*7}}", "${7*7}", "{nom}", "%s%s%n", "[MOT_DE_PASSE]", "[NIR]"]
FRENCH_SMS = ["bjr", "slt", "jdois faire ma declaration trimestrielle caf avant le 5", "jai pas dordi",
              "jsuis a rennes", "je suis à Rennes", "mon dossier ameli est bloqué", "jsp", "oui", "non",
              "je voudrais apprendre a faire des visios", "aidez moi svp !!", "c urgent", "pôle emploi m'a radié",
              "j'ai reçu un courrier des impôts", "mon tel marche plus", "35000", "Marseille", "Saint-Denis",
              "je sais pas lire", "mon fils fait tout d'habitude", "merci beaucoup", "/choix", "/position",
              "ok", "d'accord", "plus loin", "à distance", "ligne d'aide", "   ", "...", "?", "1", "2"]

_PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZéèàç0123456789!@#$%&*+=?_-."
_SEP_CHARS = " .\\-\u00a0\u202f"  # separators bot.core.privacy tolerates inside numbers


def compact(text: str) -> str:
    """Digits and letters only, upper case: how a secret is compared whatever its formatting."""
    return re.sub(r"[\W_]", "", text, flags=re.UNICODE).upper()


any_unicode = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
lone_surrogates = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4)

fragment = st.one_of(
    st.sampled_from(FRENCH_SMS),
    st.sampled_from(EMOJI),
    st.sampled_from(CONTROL),
    st.sampled_from(RTL),
    st.sampled_from(SQL_INJECTIONS),
    st.sampled_from(HTML_INJECTIONS),
    any_unicode,
)


@st.composite
def _long_text(draw, max_size: int = 10_000) -> str:
    """Up to 10,000 characters, built by repetition (drawing 10,000 characters one by one is slow)."""
    piece = draw(st.lists(fragment, min_size=1, max_size=4).map(" ".join))
    size = draw(st.integers(min_value=1_000, max_value=max_size))
    return ((piece or "a") * (size // max(1, len(piece)) + 1))[:size]


def hostile_text(max_size: int = 10_000, allow_long: bool = True) -> st.SearchStrategy[str]:
    """Text a person, a bot or an attacker could send. Never contains lone surrogates."""
    joiners = st.sampled_from([" ", "", "\n", " ; ", ", "])
    short = st.tuples(st.lists(fragment, max_size=6), joiners).map(lambda t: t[1].join(t[0])[:max_size])
    options = [st.just(""), short]
    if allow_long:
        options.append(_long_text(max_size))
    return st.one_of(*options)


def hostile_text_with_surrogates(max_size: int = 2_000) -> st.SearchStrategy[str]:
    """Python strings that cannot be encoded to UTF-8: only for APIs that take str and must not crash."""
    return st.tuples(hostile_text(max_size, allow_long=False), lone_surrogates,
                     hostile_text(max_size, allow_long=False)).map("".join)


def hostile_bytes(max_size: int = 4_000) -> st.SearchStrategy[bytes]:
    """Binary, invalid UTF-8 (lone continuation bytes, encoded surrogates), other encodings, nested JSON."""
    return st.one_of(
        st.binary(max_size=max_size),
        hostile_text(max_size, allow_long=False).map(lambda t: t.encode("utf-8")),
        hostile_text(max_size, allow_long=False).map(lambda t: t.encode("utf-16")),
        hostile_text(max_size, allow_long=False).map(lambda t: t.encode("cp1252", errors="replace")),
        st.sampled_from([b"\xed\xa0\x80", b"\x80\x81", b"\xff\xfe", b"\xc3", b"\x00" * 8, b"\xef\xbb\xbf"]),
        st.integers(min_value=1, max_value=20_000).map(lambda n: b"[" * n),  # deep nesting
        st.integers(min_value=1, max_value=5_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    )


# JSON values, including the odd ones a JSON parser accepts (huge integers, nested containers).
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 300, max_value=10 ** 400),
    st.floats(allow_nan=False, allow_infinity=False), hostile_text(200, allow_long=False),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(
        ["id", "from", "to", "text", "update_id", "message", "chat", "callback_query", "data", "location",
         "latitude", "longitude", "caller", "called_at", "call_id", "reason", "timestamp", "status"]),
        hostile_text(30, allow_long=False)), inner, max_size=5)), max_leaves=12)


def json_bytes(values: st.SearchStrategy = json_values) -> st.SearchStrategy[bytes]:
    return values.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8"))


# --------------------------------------------------------------------------------------------------
# Secrets (always valid: check digits computed)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    kind: str        # "nir", "iban", "carte", "mot_de_passe", "code", "telephone", "email"
    value: str       # as typed in the message
    sentence: str    # the value in a plausible French sentence

    @property
    def needle(self) -> str:
        """What must not be found (compacted) in stored or redacted text."""
        return self.value if self.kind == "mot_de_passe" else compact(self.value)

    def found_in(self, text: str) -> bool:
        """Whether `text` still shows this secret, whatever separators were left around its characters.
        A code or a phone number is short: it counts only as a whole number (not "000000" inside the
        place id "demo-000000001")."""
        if self.kind == "mot_de_passe":
            return self.value in text
        if self.kind in ("code", "telephone"):
            digits = re.sub(r"(?<=[0-9])[\W_]{1,3}(?=[0-9])", "", text)
            return re.search(rf"(?<![0-9]){re.escape(self.needle)}(?![0-9])", digits) is not None
        return self.needle in compact(text)


def _grouped(digits: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(digits[i:i + size])
        i += size
    if i < len(digits):
        out.append(digits[i:])
    return sep.join(p for p in out if p)


@st.composite
def nir_numbers(draw) -> str:
    """A valid French social security number (NIR) with its key, in one of the usual layouts."""
    sex = draw(st.sampled_from("12"))
    year = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    dept = draw(st.one_of(st.integers(1, 95).filter(lambda d: d != 20).map(lambda d: f"{d:02d}"),
                          st.sampled_from(["2A", "2B"])))
    commune = draw(st.integers(1, 990))
    order = draw(st.integers(1, 999))
    body = f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}"
    number = body + _nir.calc_check_digits(body)
    assert _nir.is_valid(number)
    layout = draw(st.sampled_from(["spaced", "compact", "dotted", "pairs"]))
    if layout == "spaced":
        return _grouped(number, [1, 2, 2, 2, 3, 3, 2], " ")
    if layout == "dotted":
        return _grouped(number, [1, 2, 2, 2, 3, 3, 2], ".")
    if layout == "pairs":
        return _grouped(number, [1, 2, 2, 2, 3, 3, 2], "-")
    return number


def _rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97):02d}"


@st.composite
def iban_numbers(draw) -> str:
    """A valid IBAN (French with its RIB key, or German), grouped by four, compact or lower case."""
    country = draw(st.sampled_from(["FR", "DE"]))
    digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
    if country == "FR":
        bank, branch = draw(st.text("0123456789", min_size=5, max_size=5)), draw(
            st.text("0123456789", min_size=5, max_size=5))
        account = draw(st.text("0123456789", min_size=11, max_size=11))
        bban = bank + branch + account + _rib_key(bank, branch, account)
    else:
        bban = "".join(draw(digits) for _ in range(18))
    number = country + _iban.calc_check_digits(country + "00" + bban) + bban
    assert _iban.is_valid(number), number
    layout = draw(st.sampled_from(["grouped", "compact", "lower", "dashed"]))
    if layout == "grouped":
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    if layout == "dashed":
        return "-".join(number[i:i + 4] for i in range(0, len(number), 4))
    if layout == "lower":
        return number.lower()
    return number


@st.composite
def card_numbers(draw) -> str:
    """A Luhn-valid payment card number (Visa, Mastercard, Amex) as printed on the card or compact."""
    brand = draw(st.sampled_from(["visa", "mastercard", "amex"]))
    if brand == "amex":
        prefix, size = draw(st.sampled_from(["34", "37"])), 15
    elif brand == "mastercard":
        prefix, size = str(draw(st.integers(51, 55))), 16
    else:
        prefix, size = "4", 16
    body = prefix + draw(st.text("0123456789", min_size=size - len(prefix) - 1, max_size=size - len(prefix) - 1))
    number = body + _luhn.calc_check_digit(body)
    assert _luhn.is_valid(number)
    layout = draw(st.sampled_from(["spaced", "compact", "dashed"]))
    sizes = [4, 6, 5] if brand == "amex" else [4, 4, 4, 4]
    if layout == "spaced":
        return _grouped(number, sizes, " ")
    if layout == "dashed":
        return _grouped(number, sizes, "-")
    return number


@st.composite
def passwords(draw) -> str:
    """A password as people choose them: starts with a letter or digit, has a digit and a letter."""
    head = draw(st.sampled_from("abcdefghkmnpqrstuvwxyzABCDEFGHKMNPRSTUVWXYZ0123456789"))
    tail = draw(st.text(alphabet=_PASSWORD_ALPHABET, min_size=5, max_size=20))
    letter = draw(st.sampled_from("abcdefghkmnpqrstuvwxyzABCDEFGH"))
    digit = draw(st.sampled_from("0123456789"))
    return head + tail + letter + digit


NIR_CUES = ["mon numéro de sécu est ", "numéro de sécurité sociale : ", "NIR ", "ma carte vitale ", "", "n° ss "]
IBAN_CUES = ["mon iban ", "IBAN : ", "voici mon RIB ", "", "le virement sur "]
CARD_CUES = ["ma carte bleue ", "carte n° ", "CB: ", "", "paiement refusé avec "]
PASSWORD_CUES = ["mot de passe : ", "mon mot de passe c'est ", "mdp: ", "mdp = ", "MDP ", "password: ",
                 "mon code d'accès est ", "code secret ", "mon mdp ameli est ", "Mot De Passe Caf => "]


# --------------------------------------------------------------------------------------------------
# Mistyped secrets and contact details (issue 12: masked by their shape, whatever their check digits)
# --------------------------------------------------------------------------------------------------

_NOISY_SEPARATORS = [" ", ".", "-", "  ", " - ", ". ", "\u00a0", "_"]


@st.composite
def mistyped(draw, numbers: st.SearchStrategy[str]) -> str:
    """A number as a person may type it: a digit changed, two swapped, its key left out, one digit too
    many, and the separators of their choice."""
    number = compact(draw(numbers))
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    typo = draw(st.sampled_from(["none", "changed", "swapped", "no_key", "extra"]))
    chars = list(number)
    if typo == "changed":
        i = draw(st.sampled_from(digits))
        chars[i] = str((int(chars[i]) + draw(st.integers(1, 9))) % 10)
    elif typo == "swapped":
        i = draw(st.integers(0, len(chars) - 2))
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif typo == "no_key":
        chars = chars[:-2]
    elif typo == "extra":
        i = draw(st.integers(0, len(chars)))
        chars.insert(i, draw(st.sampled_from("0123456789")))
    typed = "".join(chars)
    size = draw(st.sampled_from([0, 2, 3, 4]))
    if not size:
        return typed
    parts = [typed[i:i + size] for i in range(0, len(typed), size)]
    return "".join(part + (draw(st.sampled_from(_NOISY_SEPARATORS)) if index < len(parts) - 1 else "")
                   for index, part in enumerate(parts))


@st.composite
def phone_numbers(draw) -> str:
    """A French phone number in the ways people type it, sometimes with a digit missing."""
    national = "0" + draw(st.sampled_from("1234567")) + draw(st.text("0123456789", min_size=8, max_size=8))
    if draw(st.booleans()):
        national = national[:-1]  # a digit forgotten
    form = draw(st.sampled_from(["pairs", "compact", "plus33", "dots", "dashes", "0033"]))
    if form == "compact":
        return national
    if form == "plus33":
        return "+33 " + national[1] + " " + " ".join(national[i:i + 2] for i in range(2, len(national), 2))
    if form == "0033":
        return "0033" + national[1:]
    separator = {"pairs": " ", "dots": ".", "dashes": "-"}[form]
    return separator.join(national[i:i + 2] for i in range(0, len(national), 2))


_NAME = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)


@st.composite
def email_addresses(draw) -> str:
    local = draw(_NAME) + draw(st.sampled_from(["", ".", "_", "-"])) + draw(_NAME) + draw(
        st.sampled_from(["", "35", "1984"]))
    domain = draw(st.sampled_from(["gmail", "orange", "laposte", "free", "hotmail", "yahoo"]))
    return f"{local}@{domain}.{draw(st.sampled_from(['fr', 'com', 'net']))}"


@st.composite
def access_codes(draw) -> str:
    """A code received by SMS or a PIN: 6 to 8 digits, sometimes split in two."""
    digits = draw(st.text("0123456789", min_size=6, max_size=8))
    return digits[:3] + " " + digits[3:] if draw(st.booleans()) else digits


CODE_CUES = ["code: ", "code : ", "PIN ", "OTP ", "code de validation ", "le code reçu par sms est ",
             "mon code c'est ", "Code ", "code otp "]
PHONE_CUES = ["mon numéro ", "tel: ", "appelez-moi au ", "joignable au ", "", "mon portable c'est "]
EMAIL_CUES = ["mon mail ", "email: ", "écrivez-moi à ", "", "adresse mail : "]


def secrets_(mistakes: bool = True) -> st.SearchStrategy[Secret]:
    """One secret of any kind, with the sentence it is typed in; with `mistakes`, also the mistyped
    numbers, access codes, phone numbers and e-mail addresses that must be masked too."""
    def build(kind, cues, values):
        return st.tuples(st.sampled_from(cues), values).map(lambda t: Secret(kind, t[1], t[0] + t[1]))

    valid = [build("nir", NIR_CUES, nir_numbers()), build("iban", IBAN_CUES, iban_numbers()),
             build("carte", CARD_CUES, card_numbers()), build("mot_de_passe", PASSWORD_CUES, passwords())]
    if not mistakes:
        return st.one_of(*valid)
    return st.one_of(*valid, build("nir", NIR_CUES, mistyped(nir_numbers())),
                     build("carte", CARD_CUES, mistyped(card_numbers())),
                     build("iban", IBAN_CUES, mistyped(iban_numbers())),
                     build("code", CODE_CUES, access_codes()), build("telephone", PHONE_CUES, phone_numbers()),
                     build("email", EMAIL_CUES, email_addresses()))


# What may stand between the hostile text and a secret: a person ends a sentence, goes to a new line...
_BOUNDARIES = [" ", "\n", ". ", ", ", " : ", " - ", "\t", " 🙏 ", " \u200f"]


@st.composite
def text_with_secrets(draw, max_secrets: int = 3, max_size: int = 2_000) -> tuple[str, list[Secret]]:
    """Hostile text with one or more secrets embedded anywhere, each set apart as a word would be."""
    found = draw(st.lists(secrets_(), min_size=1, max_size=max_secrets))
    noise = [draw(hostile_text(max_size, allow_long=False)) for _ in range(len(found) + 1)]
    # The same short number typed elsewhere without its cue ("bjr 000000") is not that secret: keep
    # the noise free of it, so that finding it after redaction always means a leak.
    assume(not any(secret.found_in(part) for secret in found for part in noise))
    parts = [noise[0]]
    for secret, after in zip(found, noise[1:]):
        parts += [draw(st.sampled_from(_BOUNDARIES)), secret.sentence, draw(st.sampled_from(_BOUNDARIES)), after]
    return "".join(parts), found


@contextmanager
def keyed_database(directory: Path, secret_key: str) -> Iterator:
    """A fresh SQLite file with the bot's schema, and AIGUILLAGE_SECRET_KEY set meanwhile;
    yields its session factory."""
    import pytest

    from bot.core.db import make_engine, session_factory, upgrade

    patch = pytest.MonkeyPatch()
    patch.setenv("AIGUILLAGE_SECRET_KEY", secret_key)
    engine = make_engine(f"sqlite:///{directory / 'db.sqlite'}")
    try:
        upgrade(engine)
        yield session_factory(engine)
    finally:
        patch.undo()
        engine.dispose()
