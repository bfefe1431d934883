"""SMS encoding: GSM-7 whenever possible, honest segment counts, every domain reply within 3 SMS."""

import re

import pytest

from bot.channels.sms import choices
from bot.channels.sms.encoding import GSM7, UCS2, count, fit, prepare, segments_of
from bot.core import messages
from bot.triage import to_bring
from bot.triage.to_bring import in_a_sentence


def test_pure_gsm7_limits():
    assert count("a" * 160) == count("a" * 160).__class__(GSM7, 160, 1)
    assert count("a" * 161).count == 2
    assert count("a" * 306).count == 2
    assert count("a" * 307).count == 3


def test_extension_characters_take_two_septets():
    assert count("€" * 80).units == 160 and count("€" * 80).count == 1
    assert count("€" * 81).count == 2
    for ch in "[]{}^~|\\€":
        assert count(ch).units == 2, ch


def test_accents_gsm7_has_are_kept():
    text = "Élève à l'école, où est-il ? Ça marche. É è ù ì ò à Ç"
    assert prepare(text) == text
    assert count(prepare(text)).encoding == GSM7


def test_a_single_missing_accent_is_transliterated_not_ucs2():
    text = "Vous êtes " + "x" * 140
    sent = prepare(text)
    assert sent.startswith("Vous etes ")
    assert count(sent) == count(sent).__class__(GSM7, 150, 1)  # UCS-2 would need 3 SMS
    assert prepare("« Aujourd’hui… » – cœur") == '" Aujourd\'hui... " - coeur'
    assert prepare("10\u202f€") == "10 €"


def test_emoji_forces_ucs2():
    sent = prepare("Merci 🙂")
    assert "🙂" in sent
    info = count(sent)
    assert info.encoding == UCS2 and info.units == 8
    assert count("é🙂" + "a" * 68).count == 2  # 71 UTF-16 units
    assert count("🙂" + "a" * 68).count == 1 and count("🙂" + "a" * 69).count == 2


def test_fit_shortens_at_a_sentence_boundary():
    text = "Première phrase courte. " + "Deuxième phrase très longue " * 40
    assert segments_of(text) > 3
    shortened = fit(text)
    assert count(shortened).count <= 3
    assert shortened == "Première phrase courte."


LONG_VALUES = {
    "nom": "Espace France Services et médiation numérique du centre social Saint-Exupéry",
    "adresse": "12 bis avenue du Maréchal de Lattre de Tassigny, bâtiment C, 2e étage",
    "code_postal": "35000",
    "commune": "Saint-Germain-sur-Ille",
    "distance": "12,5",
    "telephone": "02 99 12 34 56",
    "reference": "ABC-DEFG",
    "rayon": "50",
    "ligne_nom": "Solidarité Numérique",
    "ligne_telephone": "01 70 772 372",
    "numero": "3",
    "numeros": "1, 2, 3, 4, 5, 6, 7 ou 8",
    "titre": "Papiers, permis, carte grise",
    "valeur": "02 99 12 34 56",
    "time": "14h30", "heure": "14h30",
    "weekday": "mercredi", "jour": "mercredi",
    "day": "30", "month": "septembre", "mois": "septembre",
}


def _longest(prefix: str, **values) -> str:
    keys = [k for k in messages.catalogue().keys() if k.startswith(prefix)]
    return max((messages.text(k, **values) for k in keys), key=len)


def plausible_values() -> dict:
    values = dict(LONG_VALUES)
    values["ouverture"] = _longest("utter_horaire_", **values)
    # The longest list a person gets: a body's papers, then the longest device item.
    device = max((messages.text(f"utter_apporter_{code}") for code in to_bring.NAMED_DEVICE.values()), key=len)
    values["a_apporter"] = max((in_a_sentence([messages.text(f"utter_apporter_{code}") for code in papers] + [device])
                                for papers in to_bring.ITEMS_BY_BODY.values()), key=len)
    values["date"] = values["echeance"] = "mercredi 30 septembre"
    values["lieu"] = ", ".join((values["nom"], values["commune"]))
    values["recours"] = _longest("utter_recours_", **values)
    reasons = sorted((messages.text(k) for k in messages.catalogue().keys() if k.startswith("utter_raison_")),
                     key=len, reverse=True)
    values["raisons"] = " ; ".join(reasons[:2]) + "."  # two rules rarely fire together; two long ones
    values["quand"] = max(_longest("utter_ligne_quand_", **values), _longest("utter_horaire_le", **values), key=len)
    values["etape"] = _longest("utter_etape_", **values)
    return values


def all_variations():
    catalogue = messages.catalogue()
    for key in catalogue.keys():
        if key.startswith("utter_notif_"):
            continue  # notifications to places go by e-mail, Telegram or webhook, never by SMS
        for index, variation in enumerate(catalogue.responses[key]):
            yield pytest.param(key, variation, id=f"{key}[{index}]")


@pytest.mark.parametrize("key,variation", list(all_variations()))
def test_every_domain_response_fits_three_sms(key, variation):
    values = plausible_values()
    text = messages.fill(variation.get("text", ""), values)
    text = re.sub(r"\{[a-z_]+\}", "x" * 30, text)  # a placeholder this test does not know yet
    buttons = [{"title": messages.fill(b["title"], {}), "payload": messages.fill(b["payload"], {})}
               for b in variation.get("buttons", [])]
    rendered = choices.render(text, choices.choices_from_buttons(buttons))
    assert segments_of(rendered) <= 3, (key, len(prepare(rendered)), rendered)
