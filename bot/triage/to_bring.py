"""What to bring to the place: a list of items fitting what the person said (their body, their device).

A table a social worker can read: the items for each body, then one device item. The texts are the domain's
`utter_apporter_<item>` responses (domain/responses_a_apporter.yml), one item each, never a sentence cut up.
"""

from __future__ import annotations

from bot.core import messages
from bot.triage.rules import MONTEE

# Papers by body (`organisme`); a body not listed gets DEFAULT_ITEMS.
ITEMS_BY_BODY = {
    "caf": ("numero_allocataire", "ressources", "lettres_caf"),
    "france_travail": ("identifiant_france_travail", "fiches_de_paie", "lettres_recues"),
    "impots": ("numero_fiscal", "revenus_annee"),
    "prefecture": ("titre_sejour", "passeport", "justificatif_domicile"),
    "ants": ("piece_identite", "justificatif_domicile", "photo_identite"),
    "ants_identite": ("ancienne_carte", "justificatif_domicile", "photo_identite"),
    "ameli": ("carte_vitale", "lettres_ameli"),
}
DEFAULT_ITEMS = ("piece_identite", "lettres_recues")
LEARNING_ITEMS = ("questions",)

# The device item: the one the person named ("ma tablette"), else their kind of access; none without a device.
NAMED_DEVICE = {"tablette": "votre_tablette", "ordinateur": "votre_ordinateur", "telephone": "votre_telephone"}
ACCESS_DEVICE = {"telephone": "votre_telephone", "ordinateur": "votre_ordinateur"}
# Nothing said about a device: a procedure needs a phone (codes come by SMS); a workshop, any device.
UNKNOWN_DEVICE_PROCEDURE = "telephone_si"
UNKNOWN_DEVICE_LEARNING = "appareil_si"


def learning(facts: dict, level: str) -> bool:
    """A workshop to learn, not a procedure to get done."""
    return level == MONTEE and (bool(facts.get("apprentissage")) or not facts.get("organisme"))


def item_codes(facts: dict, level: str) -> list[str]:
    """The items' codes, papers first, then the device."""
    is_learning = learning(facts, level)
    if is_learning:
        papers = LEARNING_ITEMS
    else:
        papers = ITEMS_BY_BODY.get(facts.get("organisme") or "", DEFAULT_ITEMS)
    device = _device(facts, is_learning)
    devices = [device] if device else []
    # A workshop starts with the device; a procedure with its papers.
    return devices + list(papers) if is_learning else list(papers) + devices


def _device(facts: dict, is_learning: bool):
    if facts.get("equipement") == "aucun":
        return None
    named = NAMED_DEVICE.get(facts.get("appareil") or "")
    if named:
        return named
    access = ACCESS_DEVICE.get(facts.get("equipement") or "")
    if access:
        return access
    return UNKNOWN_DEVICE_LEARNING if is_learning else UNKNOWN_DEVICE_PROCEDURE


def items(facts: dict, level: str) -> list[str]:
    """What to bring, in French, one phrase per item."""
    return [messages.text(f"utter_apporter_{code}") for code in item_codes(facts, level)]


def in_a_sentence(phrases: list[str]) -> str:
    """"a, b et c", for the texts that say it in one line (SMS, Telegram)."""
    if len(phrases) < 2:
        return "".join(phrases)
    return messages.text("utter_liste_et", debut=", ".join(phrases[:-1]), fin=phrases[-1])
