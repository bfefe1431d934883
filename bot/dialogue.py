"""The triage conversation as a small state machine, independent of Rasa.

Rasa understands the message (intent) and routes global intents (help, stop, human...);
every other turn comes here. The state is a plain dict kept in the Rasa slot `etat`.
Each turn returns replies (domain response keys with their values) and the new state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Optional, Protocol

from bot import messages
from bot.triage import HORS_CHAMP, INCLUSION, MONTEE, QUESTIONS, URGENCE, decide
from bot.understanding import ORGANISATIONS, facts_from_message, match_choice

AREAS = {code: area for code, area, _ in ORGANISATIONS}
# The step proposed after each level (an urgence starts an inclusion path).
NEXT_STEP_KEYS = {URGENCE: "utter_prochaine_etape_inclusion", INCLUSION: "utter_prochaine_etape_montee_en_competence"}
YES = {"oui", "o", "ok", "d'accord", "daccord", "dacc", "oui envoyer", "yes", "ouais", "oui oui", "vas y", "envoie"}
NO = {"non", "n", "non merci", "pas maintenant", "no", "nan"}


@dataclass
class Turn:
    text: str = ""
    intent: Optional[str] = None
    choice: Optional[str] = None          # value of a pressed button
    latitude: Optional[float] = None      # shared location
    longitude: Optional[float] = None
    channel: str = "desk"
    sender_id: str = ""


@dataclass
class Reply:
    key: str
    values: dict = field(default_factory=dict)
    buttons: Optional[list] = None        # None: the response's own buttons
    custom: Optional[dict] = None

    def text(self) -> str:
        return messages.text(self.key, **self.values)


class Services(Protocol):
    def locate(self, text: str, whole_answer: bool): ...
    def commune(self, insee: str): ...
    def commune_label(self, commune) -> str: ...
    def search(self, latitude: float, longitude: float, level: str, needs: list, radius_km: float): ...
    def remote(self, level: str, needs: list, latitude=None, longitude=None) -> list: ...
    def present(self, match) -> dict: ...
    def create_referral(self, state: dict, channel: str, sender_id: str) -> str: ...
    def helpline(self) -> dict: ...
    def radius(self, wide: bool) -> float: ...


def new_state() -> dict:
    return {"facts": {}, "asked": [], "pending": None, "candidates": [], "level": None, "reasons": [],
            "place": None, "reference": None, "wide": False}


def handle(state: Optional[dict], turn: Turn, services: Services) -> tuple[list[Reply], dict]:
    state = copy.deepcopy(state) if state else new_state()
    pending = state.get("pending")
    if turn.choice in CALLBACK_CHOICES:
        return _on_callback_choice(state, turn), state
    if state.get("reference") and pending is None:
        return [Reply("utter_deja_envoye", {"reference": state["reference"]})], state
    if pending == "consentement":
        return _on_consent(state, turn, services)
    if pending == "alternatives":
        return _on_alternative(state, turn, services)
    replies: list[Reply] = []
    if not absorb(state, turn, services, replies):
        return replies, state
    return _advance(state, turn, services, replies)


CALLBACK_CHOICES = ("rappel", "pas_de_rappel")


def _on_callback_choice(state: dict, turn: Turn) -> list[Reply]:
    """The person asked to be called back by the proposed place (offered on SMS only: the channel
    knows the number and books the callback when it sees the `rappel` card)."""
    place = state.get("place") or {}
    if turn.choice == "pas_de_rappel" or not place.get("id"):
        return [Reply("utter_pas_de_rappel")]
    return [Reply("utter_rappel_note", {"nom": place.get("nom", "")},
                  custom={"type": "rappel", "lieu": place["id"]})]


def absorb(state: dict, turn: Turn, services: Services, replies: list) -> bool:
    """Update the facts from one message. False when a clarification must come first."""
    pending = state.get("pending")
    if pending == "commune_precision":
        if not _on_commune_precision(state, turn, services, replies):
            return False
    elif pending in QUESTIONS:
        _on_answer(state, pending, turn, services, replies)
    else:
        _on_free_message(state, turn, services, replies)
    return state.get("pending") not in ("commune_precision", "commune")


# --- reading the person's message ------------------------------------------------------------------

def _merge(state: dict, facts: dict) -> None:
    known = state["facts"]
    for key, value in facts.items():
        if key == "besoins":
            known["besoins"] = sorted(set(known.get("besoins", [])) | set(value))
        elif key == "enjeu" and known.get("enjeu") == "probleme":
            continue  # a problem already stated outranks a later vaguer answer
        else:
            known[key] = value


def _on_free_message(state: dict, turn: Turn, services: Services, replies: list) -> None:
    facts = facts_from_message(turn.text, turn.intent)
    if turn.choice == "apprendre":
        facts["apprentissage"] = True
    _merge(state, facts)
    if turn.intent == "saluer" and not state["facts"]:
        replies.append(Reply("utter_saluer"))
    _locate_from_turn(state, turn, services, replies, whole_answer=False)


def _on_answer(state: dict, question: str, turn: Turn, services: Services, replies: list) -> None:
    state["pending"] = None
    free_text = turn.text if turn.text and not turn.text.startswith("/") else ""
    facts = facts_from_message(free_text, turn.intent)
    answer = turn.choice or (match_choice(question, free_text) if question in ("enjeu", "equipement", "souhait")
                             else None)
    if question == "demarche":
        if turn.choice == "apprendre":
            facts["apprentissage"] = True
        elif turn.choice in AREAS:
            facts.setdefault("organisme", turn.choice)
            facts.setdefault("domaine", AREAS[turn.choice])
        elif not (facts.get("organisme") or facts.get("apprentissage") or facts.get("debutant")):
            # Named something we do not know: still a procedure; the mediator reads the category.
            facts["organisme"] = "autre"
    elif question == "enjeu":
        if answer in ("delai", "probleme", "aucun", "inconnu"):
            facts["enjeu"] = answer
        elif "enjeu" not in facts:
            facts["enjeu"] = "inconnu"  # an unclear answer about a deadline is treated as a possible urgence
        if turn.intent == "ne_sait_pas":
            facts["enjeu"] = "inconnu"
    elif question == "equipement" and answer in ("telephone", "ordinateur", "aucun"):
        facts.setdefault("equipement", answer)
    elif question == "souhait" and answer in ("faire_pour", "apprendre", "regulier"):
        facts["souhait"] = answer
    _merge(state, facts)
    if question == "commune":
        if turn.choice == "a_distance":
            state["facts"]["a_distance"] = True
        else:
            _locate_from_turn(state, turn, services, replies, whole_answer=True)
    elif not state["facts"].get("commune"):
        # A long answer often says where the person lives too ("... jsuis a rennes"): never ask again.
        _locate_from_turn(state, turn, services, replies, whole_answer=False)


def _locate_from_turn(state: dict, turn: Turn, services: Services, replies: list, whole_answer: bool) -> None:
    if turn.latitude is not None and turn.longitude is not None:
        if not (-90 <= turn.latitude <= 90 and -180 <= turn.longitude <= 180):
            return  # not a place on Earth (NaN fails the test too): the town question comes instead
        # About a kilometre of precision: enough to find places, not enough to locate a home.
        state["facts"].update({"commune": "position", "latitude": round(turn.latitude, 2),
                               "longitude": round(turn.longitude, 2)})
        return
    if not turn.text or turn.text.startswith("/"):
        return
    result = services.locate(turn.text, whole_answer)
    if result is None:
        return
    if result.status == "found":
        _set_commune(state, result.commune)
    elif result.status == "ambiguous":
        state["pending"] = "commune_precision"
        state["candidates"] = [c.insee for c in result.candidates[:5]]
        replies.append(Reply("utter_ask_commune_precision", {"nom": result.candidates[0].name},
                             buttons=[{"title": services.commune_label(c),
                                       "payload": f'/choix{{"valeur": "insee:{c.insee}"}}'}
                                      for c in result.candidates[:5]]))
    elif whole_answer:
        state["pending"] = "commune"  # ask again: an unknown town is a typo more often than not
        replies.append(Reply("utter_commune_inconnue"))


def _set_commune(state: dict, commune) -> None:
    state["facts"].update({"commune": commune.name, "commune_insee": commune.insee,
                           "latitude": commune.latitude, "longitude": commune.longitude})
    state["pending"] = None
    state["candidates"] = []


def _on_commune_precision(state: dict, turn: Turn, services: Services, replies: list) -> bool:
    choice = turn.choice or ""
    if choice.startswith("insee:"):
        commune = services.commune(choice[len("insee:"):])
        if commune is not None:
            _set_commune(state, commune)
            return True
    if turn.text and not turn.text.startswith("/"):
        # Typed answer: a département number or a fuller name picks among the candidates.
        candidates = [services.commune(code) for code in state.get("candidates", [])]
        typed = turn.text.strip().lower()
        for commune in candidates:
            if commune and (typed == commune.departement.lower() or typed in commune.postcodes):
                _set_commune(state, commune)
                return True
        state["pending"] = None
        _locate_from_turn(state, turn, services, replies, whole_answer=True)
        return state["pending"] is None and bool(state["facts"].get("commune_insee"))
    replies.append(Reply("utter_pas_compris_reponse"))
    return False


# --- deciding and answering --------------------------------------------------------------------------

def _advance(state: dict, turn: Turn, services: Services, replies: list) -> tuple[list[Reply], dict]:
    facts = state["facts"]
    if facts.get("a_distance") or facts.get("commune") == "position":
        asked = tuple(state["asked"]) + ("commune",)
    else:
        asked = tuple(state["asked"])
    result = decide(facts, asked)
    state["level"], state["reasons"] = result.level, result.reasons

    if result.level == HORS_CHAMP:
        key = {"besoin_social": "utter_besoin_social", "refus_numerique": "utter_refus_numerique"}.get(
            result.reasons[0], "utter_hors_sujet")
        replies.append(Reply(key))
        return replies, state

    if result.missing:
        question = result.missing[0]
        state["asked"].append(question)
        state["pending"] = question
        replies.append(Reply(f"utter_ask_{question}"))
        return replies, state

    replies.extend(_result_replies(state, result))
    replies.extend(_place_replies(state, services))
    return replies, state


def _result_replies(state: dict, result) -> list[Reply]:
    out = [Reply(f"utter_resultat_{result.level}", {"raisons": messages.join_reasons(result.reasons)})]
    if result.equipment_first:
        out.append(Reply("utter_equipement_d_abord"))
    return out


def _place_replies(state: dict, services: Services) -> list[Reply]:
    facts = state["facts"]
    level = state["level"]
    if facts.get("a_distance") or "latitude" not in facts:
        return _remote_replies(state, services)
    radius = services.radius(state.get("wide", False))
    found = services.search(facts["latitude"], facts["longitude"], level, facts.get("besoins", []), radius)
    state["remote"] = [services.present(m) for m in services.remote(level, facts.get("besoins", []),
                                                                     facts["latitude"], facts["longitude"])[:1]]
    if not found.matches:
        state["pending"] = "alternatives"
        return [Reply("utter_aucun_lieu", {"rayon": int(radius)})]
    place = services.present(found.matches[0])
    state["place"] = place
    out = [Reply("utter_lieu", place, custom=_card(state, place))]
    if place.get("demo"):
        out.append(Reply("utter_lieu_demo"))
    if place.get("horaires_a_confirmer"):
        out.append(Reply("utter_horaires_a_confirmer"))
    state["pending"] = "consentement"
    out.append(Reply("utter_demande_consentement"))
    return out


def _remote_replies(state: dict, services: Services) -> list[Reply]:
    remote = state.get("remote")
    if remote is None:
        remote = [services.present(m) for m in services.remote(state["level"], state["facts"].get("besoins", []))[:1]]
    if remote:
        place = remote[0]
        state["place"] = place
        state["pending"] = "consentement"
        return [Reply("utter_aide_a_distance", place, custom=_card(state, place)),
                Reply("utter_demande_consentement")]
    state["pending"] = None
    return [Reply("utter_ligne_aide", services.helpline())]


def _card(state: dict, place: Optional[dict]) -> dict:
    level = state["level"]
    organisation = state["facts"].get("organisme")
    bring_key = f"utter_a_apporter_{organisation}" if organisation else "utter_a_apporter_defaut"
    if state["facts"].get("apprentissage") and level == MONTEE:
        bring_key = "utter_a_apporter_apprendre"
    if bring_key not in messages.catalogue().responses:
        bring_key = "utter_a_apporter_defaut"
    return {
        "type": "resultat",
        "niveau": level,
        "niveau_libelle": messages.level_label(level),
        "raisons": [messages.reason_text(code) for code in state["reasons"]],
        "prochaine_etape": messages.text(NEXT_STEP_KEYS[level]) if level in NEXT_STEP_KEYS else None,
        "reference": state.get("reference"),
        "a_apporter": [item.strip() for item in messages.text(bring_key).split(",")],
        "lieu": place,
        "alternatives": state.get("remote") or [],
    }


def _on_consent(state: dict, turn: Turn, services: Services) -> tuple[list[Reply], dict]:
    answer = _yes_no(turn)
    place = state["place"] or {}
    if answer is None:
        return [Reply("utter_pas_compris_reponse"), Reply("utter_demande_consentement")], state
    state["pending"] = None
    if not answer:
        return [Reply("utter_sans_envoi", place)], state
    state["reference"] = services.create_referral(state, turn.channel, turn.sender_id)
    card = _card(state, place)
    values = dict(place, reference=state["reference"], a_apporter=", ".join(card["a_apporter"]))
    replies = [Reply("utter_recapitulatif", values, custom=card), Reply("utter_mot_de_passe_jamais")]
    if card["prochaine_etape"]:
        replies.append(Reply(NEXT_STEP_KEYS[state["level"]]))
    return replies, state


def _yes_no(turn: Turn) -> Optional[bool]:
    if turn.choice in ("oui", "non"):
        return turn.choice == "oui"
    if turn.intent in ("oui", "non"):
        return turn.intent == "oui"
    text = (turn.text or "").strip().lower().rstrip("!. ")
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def _on_alternative(state: dict, turn: Turn, services: Services) -> tuple[list[Reply], dict]:
    choice = turn.choice or match_choice("alternatives", turn.text or "") or ""
    text = (turn.text or "").lower()
    if choice == "plus_loin" or "loin" in text:
        state["wide"] = True
        state["pending"] = None
        return _place_replies(state, services), state
    if choice == "a_distance" or "distance" in text:
        state["facts"]["a_distance"] = True
        state["pending"] = None
        return _remote_replies(state, services), state
    if choice == "ligne_aide" or "ligne" in text or "appel" in text:
        state["pending"] = None
        return [Reply("utter_ligne_aide", services.helpline())], state
    return [Reply("utter_pas_compris_reponse"), Reply("utter_aucun_lieu", {"rayon": int(services.radius(False))})], \
        state
