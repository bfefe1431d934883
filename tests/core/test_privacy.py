"""Secrets and identifiers typed by people must never reach storage or a mediator in clear."""

from __future__ import annotations

import time

import pytest

from bot.core import privacy
from bot.core.privacy import Redaction, redact, redact_mapping

VALID_NIR = "2 95 10 99 126 111 93"
VALID_NIR_2 = "1 84 12 76 451 089 46"
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"
VISA = "4111 1111 1111 1111"


def test_fixtures_are_really_valid_numbers():
    from stdnum import iban, luhn
    from stdnum.fr import nir

    assert nir.is_valid(VALID_NIR) and nir.is_valid(VALID_NIR_2)
    assert iban.is_valid(VALID_IBAN)
    assert luhn.is_valid(VISA.replace(" ", ""))


# --- passwords and access codes ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, secret, expected",
    [
        ("mon mdp c'est Soleil2024", "Soleil2024", "mon mdp c'est [MOT_DE_PASSE]"),
        ("mot de passe : azerty123", "azerty123", "mot de passe : [MOT_DE_PASSE]"),
        ("mdp=toto", "toto", "mdp=[MOT_DE_PASSE]"),
        ("mon code caf est 12345678", "12345678", "mon code caf est [MOT_DE_PASSE]"),
        ("mon code d'accès est 4521", "4521", "mon code d'accès est [MOT_DE_PASSE]"),
        ("code secret 1234", "1234", "code secret [MOT_DE_PASSE]"),
        ("code confidentiel: 998877", "998877", "code confidentiel: [MOT_DE_PASSE]"),
        ("mon code est 0000", "0000", "mon code est [MOT_DE_PASSE]"),
        ("password: hunter2", "hunter2", "password: [MOT_DE_PASSE]"),
        (
            "identifiant et mot de passe: jean.dupont / Chat!987",
            "Chat!987",
            "identifiant et mot de passe: [MOT_DE_PASSE]",
        ),
        ("mon mot de pass c bonjour99", "bonjour99", "mon mot de pass c [MOT_DE_PASSE]"),
        ("mot 2 passe: lapin", "lapin", "mot 2 passe: [MOT_DE_PASSE]"),
        ("MDP : Lapin", "Lapin", "MDP : [MOT_DE_PASSE]"),
        ("mon mot de passe de mon compte ameli c'est Lapin!2", "Lapin!2", None),
        ("mon mdp Soleil2024 merci", "Soleil2024", "mon mdp [MOT_DE_PASSE] merci"),
        ('mot de passe "soleil levant 2024"', "soleil levant", None),
        ("mdp:toto.", "toto", "mdp:[MOT_DE_PASSE]."),
        ("mon code pin 1234", "1234", "mon code pin [MOT_DE_PASSE]"),
        ("le code reçu par sms est 482913", "482913", None),
        ("mon mot de passe c'est : Azerty!", "Azerty", "mon mot de passe c'est : [MOT_DE_PASSE]"),
        ("Mot De Passe Ameli => Kiwi_77", "Kiwi_77", None),
    ],
)
def test_password_values_are_removed_but_cue_kept(text, secret, expected):
    result = redact(text)
    assert secret not in result.text
    assert result.kinds == ("mot_de_passe",)
    assert result.found
    assert "[MOT_DE_PASSE]" in result.text
    if expected is not None:
        assert result.text == expected


@pytest.mark.parametrize(
    "text",
    [
        "j'ai oublié mon mot de passe",
        "j'ai oublié mon mot de passe et c'est urgent",
        "mot de passe oublié. C'est urgent",
        "mon mot de passe est bloqué",
        "mon mot de passe il est trop court",
        "mon mot de passe n'est pas accepté",
        "je n'arrive pas à changer mon mdp, il est refusé",
        "code postal 35000",
        "mon code postal est 35000",
        "le code de la route est dans 2 semaines",
        "mon pass navigo est perime",
        "comment on crée un mot de passe ?",
        "mot de passe oublié sur ameli",
        "j'ai changé mon mot de passe depuis 2023",
    ],
)
def test_talking_about_a_password_is_not_a_secret(text):
    result = redact(text)
    assert result.text == text
    assert result.kinds == ()
    assert not result.found


# --- structured numbers --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, secret, kind, token",
    [
        (f"mon numero de secu {VALID_NIR}", VALID_NIR, "nir", "[NIR]"),
        (VALID_NIR.replace(" ", ""), VALID_NIR.replace(" ", ""), "nir", "[NIR]"),
        (f"NIR {VALID_NIR_2.replace(' ', '.')}", VALID_NIR_2.replace(" ", "."), "nir", "[NIR]"),
        (f"nss: {VALID_NIR_2.replace(' ', '-')}", VALID_NIR_2.replace(" ", "-"), "nir", "[NIR]"),
        ("ma sécu 1 85 05 78 006 084 sans la clé", "1 85 05 78 006 084", "nir", "[NIR]"),
        (f"IBAN {VALID_IBAN} merci", VALID_IBAN, "iban", "[IBAN]"),
        ("rib: fr7630006000011234567890189", "fr7630006000011234567890189", "iban", "[IBAN]"),
        ("iban FR76-3000-6000-0112-3456-7890-189.", "3456-7890", "iban", "[IBAN]"),
        ("iban DE89 3704 0044 0532 0130 00", "3704 0044 0532", "iban", "[IBAN]"),
        (f"ma carte {VISA} exp 12/26", VISA, "carte_bancaire", "[CARTE]"),
        ("carte 4111111111111111", "4111111111111111", "carte_bancaire", "[CARTE]"),
        ("cb 5555-5555-5555-4444", "5555-5555-5555-4444", "carte_bancaire", "[CARTE]"),
        ("amex 3782 822463 10005", "822463", "carte_bancaire", "[CARTE]"),
    ],
)
def test_identifiers_are_replaced(text, secret, kind, token):
    result = redact(text)
    assert secret not in result.text
    assert token in result.text
    assert result.kinds == (kind,)


@pytest.mark.parametrize(
    "text",
    [
        "code postal 35000 Rennes",
        "je suis a rennes 35000",
        "né le 12/05/1985",
        "rdv le 2024-03-15 à 14h30",
        "mon numéro allocataire est 1234567",
        "montant 1 234,56 € ou 12 345 678 €",
        "appelle le 3114, le 15, le 112 ou le 119",
        "code erreur 404 sur le site",
        "j'ai 75 ans et 3 enfants de 2, 5 et 9 ans",
        '/choix{"valeur": "insee:35238"}',
        '/position{"latitude": 48.117, "longitude": -1.678}',
        '/position{"latitude": 47.996, "longitude": 0.199}',
    ],
)
def test_ordinary_numbers_stay_readable(text):
    result = redact(text)
    assert result.text == text
    assert result.kinds == ()


@pytest.mark.parametrize(
    "text, secret, token",
    [
        # People mistype: a shape is enough, whatever its check digits or the words around it.
        ("1 85 05 78 006 084 00", "006 084", "[NIR]"),  # wrong key, no cue
        ("1 84 12 75 123 456 78", "123 456", "[NIR]"),
        ("184127512345678", "184127512345678", "[NIR]"),
        ("ma carte 4970 1012 3456 7890 exp 12/26", "3456 7890", "[CARTE]"),  # fails Luhn
        ("facture n° 4111111111111112", "4111111111111112", "[CARTE]"),
        ("FR76 3000 6000 0112 3456 7890 188", "3456 7890", "[IBAN]"),  # wrong check digits
        ("numéro fiscal 1234567890123", "1234567890123", "[NIR]"),  # NIR-shaped: the name matters little
        ("référence dossier 2023-123456789", "123456789", "[NIR]"),
        ("numéro de suivi 0123456789012", "0123456789012", "[NUMERO]"),
        ("NIR184127512345678", "184127512345678", "[NIR]"),  # glued to the cue
        # Codes after a cue.
        ("code: 4589", "4589", "[CODE]"),
        ("PIN 1234", "1234", "[CODE]"),
        ("OTP 482 913", "482 913", "[CODE]"),
        ("le code que j'ai reçu c'est 482913", "482913", "[CODE]"),
        ("code de validation 771 204", "771 204", "[CODE]"),
        # Contact details typed in a message.
        ("mon numéro 06 12 34 56 78", "56 78", "[TELEPHONE]"),
        ("appelez-moi au +33 6 12 34 56 78", "6 12 34", "[TELEPHONE]"),
        ("ou au 01.23.45.67.89 le matin", "45.67", "[TELEPHONE]"),
        ("0033612345678", "612345678", "[TELEPHONE]"),
        ("tel0612345678", "0612345678", "[TELEPHONE]"),
        ("06 12 34 56 7 il manque un chiffre", "56 7", "[TELEPHONE]"),
        ("mail: jean.dupont@gmail.com merci", "dupont", "[EMAIL]"),
        ("jean.dupont arobase orange point fr", "dupont", "[EMAIL]"),
    ],
)
def test_shapes_are_masked_whatever_their_check_digits(text, secret, token):
    result = redact(text)
    assert secret not in result.text and token in result.text, result.text


def test_a_postcode_typed_beside_a_phone_number_stays():
    assert redact("35000 06 12 34 56 78").text == "35000 [TELEPHONE]"
    assert redact("06 12 34 56 78 35000").text == "[TELEPHONE] 35000"
    assert redact("0612345678 0698765432 0712345678").text == "[TELEPHONE] [TELEPHONE] [TELEPHONE]"


def test_contact_details_are_masked_without_warning_secrets_are_warned():
    assert not set(redact("mon mail jean@exemple.fr, tel 0612345678").kinds) & privacy.SECRET_KINDS
    assert set(redact("code: 4589").kinds) <= privacy.SECRET_KINDS


def test_kinds_follow_order_of_appearance_and_are_deduplicated():
    text = f"carte {VISA}, iban {VALID_IBAN}, mdp: Soleil2024, autre carte 5555 5555 5555 4444, secu {VALID_NIR}"
    result = redact(text)
    assert result.kinds == ("carte_bancaire", "iban", "mot_de_passe", "nir")
    for secret in (VISA, VALID_IBAN, "Soleil2024", "5555 5555 5555 4444", VALID_NIR):
        assert secret not in result.text
    assert result.text.count("[CARTE]") == 2
    assert result.text.startswith("carte [CARTE], iban [IBAN], mdp: [MOT_DE_PASSE]")


def test_password_that_is_a_card_number_is_reported_once_as_card():
    result = redact("mon code cb est 4111111111111111")
    assert "4111111111111111" not in result.text
    assert result.kinds == ("carte_bancaire",)


def test_redaction_is_idempotent():
    once = redact(f"mdp: Soleil2024 iban {VALID_IBAN}")
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.kinds == ()


def test_redaction_is_a_frozen_dataclass():
    result = redact("mdp: x1")
    assert isinstance(result, Redaction)
    with pytest.raises(Exception):
        result.text = "changed"  # type: ignore[misc]


# --- nested payloads -------------------------------------------------------------------------------------

def test_redact_mapping_walks_nested_structures_without_touching_the_input():
    payload = {
        "message": "mon mdp c'est Soleil2024",
        "history": ["bonjour", {"iban": VALID_IBAN}, ("carte", VISA)],
        "password": "plain-value",
        "user_pwd": "another",
        "age": 42,
        "card_as_int": 4111111111111111,
        "ok": True,
        "none": None,
        "passeport": "12AB34567",
        "phone": "06 12 34 56 78",
    }
    original = repr(payload)
    cleaned, kinds = redact_mapping(payload)
    assert repr(payload) == original  # input untouched
    assert cleaned["message"] == "mon mdp c'est [MOT_DE_PASSE]"
    assert cleaned["history"][1] == {"iban": "[IBAN]"}
    assert cleaned["history"][2] == ("carte", "[CARTE]")
    assert cleaned["password"] == "[MOT_DE_PASSE]"
    assert cleaned["user_pwd"] == "[MOT_DE_PASSE]"
    assert cleaned["card_as_int"] == "[CARTE]"
    assert cleaned["age"] == 42 and cleaned["ok"] is True and cleaned["none"] is None
    assert cleaned["passeport"] == "12AB34567" and cleaned["phone"] == "[TELEPHONE]"
    assert kinds == ("mot_de_passe", "iban", "carte_bancaire", "telephone")
    assert "Soleil2024" not in repr(cleaned) and "plain-value" not in repr(cleaned)


def test_redact_mapping_handles_plain_values_cycles_and_deep_nesting():
    assert redact_mapping("mdp: abc123") == ("mdp: [MOT_DE_PASSE]", ("mot_de_passe",))
    assert redact_mapping(None) == (None, ())
    assert redact_mapping([]) == ([], ())

    loop: list = ["mdp: abc123"]
    loop.append(loop)
    cleaned, kinds = redact_mapping(loop)
    assert cleaned[0] == "mdp: [MOT_DE_PASSE]" and kinds == ("mot_de_passe",)

    deep: object = "mdp: abc123"
    for _ in range(2000):
        deep = [deep]
    cleaned, kinds = redact_mapping(deep)
    assert "abc123" not in repr(cleaned)


# --- robustness ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        None,
        b"\xff\xfe mdp: abc",
        12345,
        "\x00\x01\x02\x1b[31m",
        "\ud800 lone surrogate",
        "🔥🙂 mdp 🙂" * 300,
        "كلمة السر 12345 \u202e mdp: שלום",
        "mot de passe " * 800,
        "1 " * 5000,
        "1-" * 5000,
        "1.2.3." * 1700,
        "4" * 10000,
        "FR76" * 2500,
        "mdp " + "x" * 10000,
        'mdp "' + "a" * 10000,
        "2A " * 3300,
        "mon code " * 1100,
        ("mot de passe " + "de mon compte " * 3) * 200,
        "".join(chr(i) for i in range(0, 3000)),
    ],
)
def test_never_raises_and_stays_fast(text):
    start = time.perf_counter()
    result = redact(text)
    elapsed = time.perf_counter() - start
    assert isinstance(result, Redaction)
    assert isinstance(result.text, str)
    assert set(result.kinds) <= set(privacy.KINDS)
    assert elapsed < 3.0  # generous for loaded CI machines; catastrophic backtracking takes minutes


def test_secret_at_end_of_a_long_message_is_still_removed():
    text = "bla " * 2500 + "mdp: Soleil2024"
    assert "Soleil2024" not in redact(text).text


def test_internal_failure_masks_rather_than_leaks(monkeypatch):
    def boom(_text):
        raise RuntimeError("bug")

    monkeypatch.setattr(privacy, "_find_numbers", boom)
    result = redact(f"mon iban {VALID_IBAN} et mdp: Soleil2024")
    assert "Soleil2024" not in result.text
    assert "3456 7890" not in result.text
