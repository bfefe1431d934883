"""The triage conversation as a small state machine, independent of Rasa.

Rasa understands the message (intent) and routes global intents (help, stop, human...);
every other turn comes here. The state is a plain dict kept in the Rasa slot `etat`.
Each turn returns replies (domain response keys with their values) and the new state.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional, Protocol

from bot.core import messages
from bot.core.text import normalize
from bot.triage import to_bring
from bot.triage.emergencies import NUMBERS
from bot.triage.rules import HORS_CHAMP, INCLUSION, QUESTIONS, URGENCE, decide
from bot.triage.safety.screen import CERTAIN, Screening, screen
from bot.triage.understanding import ORGANISATIONS, facts_from_message, match_choice

AREAS = {code: area for code, area, _ in ORGANISATIONS}
# The later path after each level, shown as "Ensuite" (an urgence starts an inclusion path).
NEXT_STEP_KEYS = {URGENCE: "utter_prochaine_etape_inclusion", INCLUSION: "utter_prochaine_etape_montee_en_competence"}
# What the person is told once the referral is made (Services.delivery), and the domain text saying it.
DELIVERED, IN_CONSOLE, PRESENT_CODE = "envoye", "espace", "presenter"
DELIVERY_KEYS = {DELIVERED: "utter_envoye_lieu", IN_CONSOLE: "utter_envoye_espace",
                 PRESENT_CODE: "utter_envoye_presenter"}
YES = {"oui", "o", "ok", "d'accord", "daccord", "dacc", "oui envoyer", "yes", "ouais", "oui oui", "vas y", "envoie"}
NO = {"non", "n", "non merci", "pas maintenant", "no", "nan"}
# State key: a vital-emergency number was given in this conversation (set here or by the Rasa action).
VITAL_EMERGENCY = "urgence_vitale"


@dataclass
class Turn:
    text: str = ""
    intent: Optional[str] = None
    choice: Optional[str] = None          # value of a pressed button
    latitude: Optional[float] = None      # shared location
    longitude: Optional[float] = None
    channel: str = "desk"
    sender_id: str = ""
    said_at: Optional[datetime] = None    # when it was said (now by default): "avant vendredi" counts from then


@dataclass
class Reply:
    key: str
    values: dict = field(default_factory=dict)
    buttons: Optional[list] = None        # None: the response's own buttons
    custom: Optional[dict] = None
    conditions: Optional[dict] = None     # slot values that pick a conditional response's variation

    def text(self) -> str:
        return messages.catalogue().text(self.key, self.conditions, **self.values)


class Services(Protocol):
    def locate(self, text: str, whole_answer: bool): ...
    def commune(self, insee: str): ...
    def commune_label(self, commune) -> str: ...
    def search(self, latitude: float, longitude: float, level: str, needs: list, radius_km: float,
               insee: Optional[str] = None): ...
    # Remote help that serves the person's area: their commune (insee), else their position; neither: national.
    def remote(self, level: str, needs: list, latitude=None, longitude=None, insee: Optional[str] = None) -> list: ...
    def present(self, match) -> dict: ...
    def create_referral(self, state: dict, channel: str, sender_id: str) -> str: ...
    # What became of the referral's notification: DELIVERED, IN_CONSOLE or PRESENT_CODE.
    def delivery(self, reference: str) -> str: ...
    def date_text(self, iso_day: str) -> str: ...
    # The referral's recap for the person's printed slip: [{"libelle": …, "texte": …}], labels only, no code.
    def slip_lines(self, reference: str) -> list: ...
    def helpline(self) -> dict: ...
    def radius(self, wide: bool) -> float: ...


def new_state() -> dict:
    return {"facts": {}, "asked": [], "pending": None, "candidates": [], "level": None, "reasons": [],
            "place": None, "reference": None, "wide": False, "reasked": [], "securite": None}


def handle(state: Optional[dict], turn: Turn, services: Services) -> tuple[list[Reply], dict]:
    state = copy.deepcopy(state) if state else new_state()
    pending = state.get("pending")
    if turn.choice in CALLBACK_CHOICES:
        return _on_callback_choice(state, turn), state
    if pending == SAFETY:
        return _on_safety_answer(state, turn, services)
    # The safety screen runs on every message, first messages and answers alike.
    screening = screen(turn.text, turn.intent)
    if screening.certain:
        state[VITAL_EMERGENCY] = True  # the referral made later tells the mediator, without details
        more, state = after_emergency(state, screening.kind)
        return [emergency_reply(screening), *more], state
    if screening.possible:
        return _ask_safety(state, turn, services, screening), state
    corrections = _correction_facts(turn) if pending in ("consentement", "alternatives") else {}
    if corrections:
        # "en fait j'ai un ordi" once a place is proposed: the triage is done again with the new fact.
        _merge(state, corrections)
        state["pending"] = None
        return _advance(state, turn, services, [Reply("utter_correction_notee")])
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


# --- the safety check (tier 2): the numbers at once, one question, then the triage goes on -------------

SAFETY = "securite"
DANGER_CHOICE, SAFE_CHOICE = "en_danger", "en_securite"
DANGER_WORDS = {"oui", "o", "ouais", "oui danger", "oui il y a un danger", "oui en danger", "yes", "si", "danger",
                "en danger", "oui je suis en danger", "j ai peur", "au secours", "aidez moi", "help", "1"}
SAFE_WORDS = {"non", "n", "nan", "no", "non tout va bien", "tout va bien", "ca va", "sa va", "ca va merci",
              "non ca va", "non merci", "pas de danger", "aucun danger", "non pas de danger", "je suis en securite",
              "en securite", "non je suis en securite", "c est bon", "ok ca va", "rien de grave", "2",
              "non c etait une blague", "non c est une facon de parler", "non je rigole", "non pas du tout"}
MAX_UNCLEAR = 2  # unclear answers before the triage goes on (the numbers stay in the reminder)


def _numbers_card(numbers, check: bool = False) -> dict:
    """What the channels show beside the text: the number to call (desk banner, Telegram bold)."""
    card = {"type": "urgence_vitale", "numero": numbers[0], "numeros": list(numbers)}
    return dict(card, verification=True) if check else card


def emergency_reply(screening: Screening) -> Reply:
    """Tier 1: the number for this kind of danger, before anything else (domain: utter_urgence_vitale)."""
    return Reply("utter_urgence_vitale", conditions={"urgence_type": screening.kind}, buttons=[],
                 custom=_numbers_card(screening.numbers))


SHELTER = "shelter"


def after_emergency(state: Optional[dict], kind: str) -> tuple[list[Reply], dict]:
    """What follows the 115: the local social services (CCAS, the Département's), then the triage's first
    question when none is under way ("avez-vous aussi une démarche ?"). Other emergencies: nothing more."""
    state = copy.deepcopy(state) if state else new_state()
    state[VITAL_EMERGENCY] = True
    if kind != SHELTER:
        return [], state
    if state.get("pending") or state["facts"] or state.get("reference"):
        return [Reply("utter_apres_115")], state  # a triage under way goes on with the next message
    state["asked"], state["pending"] = ["demarche"], "demarche"
    return [Reply("utter_apres_115"), Reply("utter_ask_demarche_apres_urgence")], state


def safety_check_reply(kind: str, numbers: list) -> Reply:
    if kind == "suicide":
        key = "utter_verification_securite_detresse"
    elif len(numbers) < 2:
        key = "utter_verification_securite_general"
    else:
        key = "utter_verification_securite"
    values = {"numero": numbers[0], "numero_secours": numbers[-1]}
    return Reply(key, values, custom=_numbers_card(numbers, check=True))


def _ask_safety(state: dict, turn: Turn, services: Services, screening: Screening) -> list[Reply]:
    pending = state.get("pending")
    if pending is None and not state.get("reference"):
        # A first message keeps its facts for after the check ("la caf... et je serai plus là").
        _merge(state, facts_from_message(turn.text, turn.intent, said_at=turn.said_at))
    state["securite"] = {"kind": screening.kind, "numbers": list(screening.numbers), "resume": pending,
                         "unclear": 0}
    state["pending"] = SAFETY
    state["facts"]["verification_securite"] = "posee"
    return [safety_check_reply(screening.kind, list(screening.numbers))]


def _safety_answer(turn: Turn) -> Optional[bool]:
    """True: in danger; False: safe; None: unclear."""
    if turn.choice in (DANGER_CHOICE, SAFE_CHOICE):
        return turn.choice == DANGER_CHOICE
    text = normalize(turn.text or "").replace("'", " ")
    if text in DANGER_WORDS:
        return True
    if text in SAFE_WORDS or turn.intent == "non":
        return False
    if turn.intent == "oui":
        return True
    return None


def _on_safety_answer(state: dict, turn: Turn, services: Services) -> tuple[list[Reply], dict]:
    check = state.get("securite") or {"kind": "general", "numbers": ["112"], "resume": None, "unclear": 0}
    answer = _safety_answer(turn)
    if answer is None and screen(turn.text, turn.intent).tier:
        answer = True  # the answer itself sounds like danger again: give the number, do not ask a third time
    if answer is True:
        state["pending"], state["securite"] = None, None
        state["facts"]["verification_securite"] = "danger"
        kind = check["kind"] if check["kind"] in NUMBERS else "general"
        numbers = check["numbers"]
        return [emergency_reply(Screening(CERTAIN, kind, tuple(numbers)))], state
    if answer is None and check["unclear"] + 1 < MAX_UNCLEAR:
        check["unclear"] += 1
        return [Reply("utter_verification_securite_encore", {"numero": check["numbers"][0]},
                      custom=_numbers_card(check["numbers"], check=True))], state
    key = "utter_securite_merci" if answer is False else "utter_securite_rappel"
    replies = [Reply(key, {"numero": check["numbers"][0]})]
    state["securite"] = None
    resume = check.get("resume")
    if resume in QUESTIONS:
        state["pending"] = resume
        replies.append(Reply(f"utter_ask_{resume}"))
        return replies, state
    state["pending"] = None
    if state.get("reference"):
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
    # A question still waiting (asked again, or a town to make precise) comes before any decision.
    return state.get("pending") is None


# --- reading the person's message ------------------------------------------------------------------

# Facts a person may correct at any moment, whatever question is waiting.
CORRECTABLE = ("organisme", "demarche", "enjeu", "equipement", "souhait", "apprentissage")


def _merge(state: dict, facts: dict) -> None:
    known = state["facts"]
    if facts.get("organisme") and known.get("organisme") not in (None, facts["organisme"]) \
            and "demarche" not in facts:
        known.pop("demarche", None)  # "c'est pour les impôts" replaces the CAF's quarterly declaration
    for key, value in facts.items():
        if key == "besoins":
            known["besoins"] = sorted(set(known.get("besoins", [])) | set(value))
        elif key == "enjeu" and known.get("enjeu") == "probleme":
            continue  # a problem already stated outranks a later answer ("pas de date" keeps a cut benefit)
        else:
            known[key] = value


def _correction_facts(turn: Turn) -> dict:
    """Facts for the triage's questions that a message states ("non y a pas de date", "en fait j'ai un ordi")."""
    if not turn.text or turn.text.startswith("/"):
        return {}
    facts = facts_from_message(turn.text, said_at=turn.said_at)
    return {k: v for k, v in facts.items() if k in CORRECTABLE or (k == "enjeux" and "enjeu" in facts)
            or (k == "domaine" and "organisme" in facts)}


def _on_free_message(state: dict, turn: Turn, services: Services, replies: list) -> None:
    facts = facts_from_message(turn.text, turn.intent, said_at=turn.said_at)
    if turn.choice == "apprendre":
        facts["apprentissage"] = True
    if not turn.choice:
        state["facts"].pop("hors_champ", None)  # "test" then a real request: the request counts
    _merge(state, facts)
    if turn.intent == "saluer" and not state["facts"]:
        replies.append(Reply("utter_saluer"))
    _locate_from_turn(state, turn, services, replies, whole_answer=False)


def _answer_of(question: str, turn: Turn, facts: dict) -> Optional[str]:
    """The answer a message gives to a question, as a code; None when it does not answer it."""
    free_text = turn.text if turn.text and not turn.text.startswith("/") else ""
    if question == "demarche":
        if turn.choice == "apprendre" or facts.get("apprentissage") or facts.get("debutant"):
            return "apprendre"
        if turn.choice in AREAS:
            return turn.choice
        if facts.get("organisme"):
            return facts["organisme"]
        if free_text and turn.intent in ("demarche", "accompagnement") and not facts.get("hors_champ"):
            return "autre"  # named a procedure we do not know: the mediator reads the category
        return None
    if question in ("enjeu", "equipement", "souhait"):
        if turn.choice in _CHOICES[question]:
            return turn.choice
        if facts.get(question) in _CHOICES[question]:
            return facts[question]
        if question == "enjeu" and turn.intent == "ne_sait_pas":
            return "inconnu"
        return match_choice(question, free_text) if free_text else None
    return None


_CHOICES = {"enjeu": ("delai", "probleme", "aucun", "inconnu", "premiere_demande"),
            "equipement": ("telephone", "ordinateur", "aucun"),
            "souhait": ("faire_pour", "apprendre", "regulier")}


def _on_answer(state: dict, question: str, turn: Turn, services: Services, replies: list) -> None:
    free_text = turn.text if turn.text and not turn.text.startswith("/") else ""
    facts = facts_from_message(free_text, turn.intent, answering=question, said_at=turn.said_at)
    if question == "commune":
        corrections = _correction_facts(turn)
        if corrections and turn.choice is None and turn.latitude is None:
            # "non y a pas de date" while the town question waits: a correction, not a town.
            noted = _noted(state, corrections)
            _merge(state, corrections)
            replies.extend([noted, Reply("utter_ask_commune")])
            return
        state["pending"] = None
        _merge(state, facts)
        if turn.choice == "a_distance":
            state["facts"]["a_distance"] = True
        else:
            _locate_from_turn(state, turn, services, replies, whole_answer=True)
        return
    answer = _answer_of(question, turn, facts)
    if answer is None and turn.intent != "ne_sait_pas":
        corrections = _correction_facts(turn)
        town = None if state["facts"].get("commune") else _town_named(turn, services)
        if corrections or town is not None:
            # Another fact given ("elle a pas d'ordi", "Vitré") or corrected ("je me suis trompé, c'est pour
            # les impôts"): kept, never asked again, and the same question again.
            noted = _noted(state, corrections)
            _merge(state, corrections)
            if town is not None:
                _set_commune(state, town)
                state["pending"] = question
            replies.extend([noted, Reply(f"utter_ask_{question}")])
            return
        if question not in state.setdefault("reasked", []):
            # "il fait beau", "bus 12": not an answer. Asked once more, in other words, same buttons.
            state["reasked"].append(question)
            replies.append(Reply(f"utter_redemander_{question}"))
            return
    state["pending"] = None
    if question == "demarche":
        if answer == "apprendre":
            facts["apprentissage"] = True
        elif answer in AREAS:
            facts["organisme"] = answer
            facts["domaine"] = AREAS[answer]
        elif not facts.get("organisme"):
            facts["organisme"] = "autre"
    elif question == "enjeu":
        facts["enjeu"] = answer or "inconnu"  # an unclear answer about a deadline is a possible urgence
        if answer in ("aucun", "inconnu"):
            facts["enjeux"] = []
    elif question == "equipement" and answer:
        facts["equipement"] = answer
    elif question == "souhait" and answer:
        facts["souhait"] = answer
    _merge(state, facts)
    if not state["facts"].get("commune"):
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
        postcode = re.fullmatch(r"\s*(\d{5})\s*", turn.text)
        # A postcode several communes share names no town: "plusieurs villes « Vitré »" listed Balazé too.
        question = ("utter_ask_commune_code_postal", {"code": postcode[1]}) if postcode else \
            ("utter_ask_commune_precision", {"nom": result.candidates[0].name})
        replies.append(Reply(*question,
                             buttons=[{"title": services.commune_label(c),
                                       "payload": f'/choix{{"valeur": "insee:{c.insee}"}}'}
                                      for c in result.candidates[:5]]))
    elif whole_answer:
        state["pending"] = "commune"  # ask again: an unknown town is a typo more often than not
        replies.append(Reply("utter_commune_inconnue"))


def _noted(state: dict, facts: dict) -> Reply:
    """"C'est corrigé" when a fact the triage had changes, "C'est noté" for new information."""
    changed = any(state["facts"].get(k) not in (None, v) for k, v in facts.items() if k in CORRECTABLE)
    return Reply("utter_correction_notee" if changed else "utter_info_notee")


def _town_named(turn: Turn, services: Services):
    """The one commune a typed message names ("Vitré", "elle habite à Vitré"), else None (none, or homonyms)."""
    if not turn.text or turn.text.startswith("/"):
        return None
    result = services.locate(turn.text, False)
    return result.commune if result is not None and result.status == "found" else None


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
    where = (facts["latitude"], facts["longitude"])
    needs, insee = facts.get("besoins", []), facts.get("commune_insee")
    state["remote"] = [services.present(m) for m in services.remote(level, needs, *where, insee=insee)[:1]]
    wide = state.get("wide", False)
    radius = services.radius(wide)
    found = services.search(*where, level, needs, radius, insee=insee)
    if not found.matches and not wide:
        # "Chercher plus loin" is offered only when the wide radius has a place to show.
        wide_radius = services.radius(True)
        if wide_radius > radius and services.search(*where, level, needs, wide_radius, insee=insee).matches:
            state["pending"], state["nothing_near"] = "alternatives", None
            return [Reply("utter_aucun_lieu", {"rayon": int(radius)},
                          buttons=_choices("utter_aucun_lieu", remote=bool(state["remote"])))]
        state["wide"], radius = True, wide_radius
    if not found.matches:
        return _nothing_near(state, services, radius)
    place = services.present(found.matches[0])
    state["place"], state["nothing_near"] = place, None
    out = [Reply("utter_lieu", place, custom=_card(state, place, services))]
    if place.get("position_approximative"):
        out.append(Reply("utter_position_approximative"))
    if place.get("demo"):
        out.append(Reply("utter_lieu_demo"))
    if place.get("horaires_a_confirmer"):
        out.append(Reply("utter_horaires_a_confirmer"))
    out.extend(_urgence_promise(state, place, services))
    state["pending"] = "consentement"
    out.append(Reply("utter_demande_consentement"))
    return out


def _choices(key: str, remote: bool) -> Optional[list]:
    """The buttons of `key` (None: the domain's own), without "Une aide à distance" when no remote place serves
    the person's area."""
    if remote:
        return None
    return [b for b in messages.catalogue().buttons(key) if '"a_distance"' not in b["payload"]]


def _nothing_near(state: dict, services: Services, radius: float) -> list[Reply]:
    """Nothing within the wide radius: said plainly once, with the helpline and the remote help serving the
    person's area; asked again ("chercher plus loin"), the radius is not repeated and nothing farther is shown."""
    facts = state["facts"]
    search = [state["level"], facts["latitude"], facts["longitude"], sorted(facts.get("besoins", []))]
    again = state.get("nothing_near") == search
    state["nothing_near"] = search
    helpline = services.helpline()
    if again:
        replies = [Reply("utter_pas_plus_loin", helpline)]
    else:
        replies = [Reply("utter_rien_pres_de_vous", dict(helpline, rayon=int(radius)))]
    state["pending"] = "alternatives"
    return replies + [_other_help(state)]


def _other_help(state: dict) -> Reply:
    """The choices left when nothing is near: remote help (when some serves the area) and the helpline."""
    if state.get("remote"):
        return Reply("utter_autres_aides")
    return Reply("utter_pas_d_aide_a_distance", buttons=_choices("utter_autres_aides", remote=False))


def _remote_replies(state: dict, services: Services) -> list[Reply]:
    facts = state["facts"]
    remote = state.get("remote")
    if remote is None:
        remote = [services.present(m) for m in services.remote(state["level"], facts.get("besoins", []),
                                                               facts.get("latitude"), facts.get("longitude"),
                                                               insee=facts.get("commune_insee"))[:1]]
    if remote:
        place = remote[0]
        state["place"] = place
        state["pending"] = "consentement"
        return [Reply("utter_aide_a_distance", place, custom=_card(state, place, services)),
                *_urgence_promise(state, place, services), Reply("utter_demande_consentement")]
    state["pending"] = None
    # The person's area is known (a town, a position): say that none of its remote help fits.
    replies = [Reply("utter_pas_d_aide_a_distance")] if "latitude" in facts or facts.get("commune_insee") else []
    return replies + [Reply("utter_ligne_aide", services.helpline())]


def _card(state: dict, place: Optional[dict], services: Services) -> dict:
    level = state["level"]
    return {
        "type": "resultat",
        "niveau": level,
        "niveau_libelle": messages.level_label(level),
        "raisons": [messages.reason_text(code) for code in state["reasons"]],
        "prochaine_etape": _next_step(state, place, services),
        "ensuite": messages.text(NEXT_STEP_KEYS[level]) if level in NEXT_STEP_KEYS else None,
        "reference": state.get("reference"),
        "a_apporter": to_bring.items(state["facts"], level),
        "lieu": place,
        "alternatives": state.get("remote") or [],
    }


def _remote(state: dict, place: dict) -> bool:
    return bool(state["facts"].get("a_distance") or place.get("a_distance"))


def _when(place: dict) -> str:
    """"le lundi 7 décembre à 9h": a date, so the text stays true on a slip read tomorrow."""
    return place["prochaine_ouverture"] if place.get("ouvre_le") else messages.text("utter_quand_inconnu")


def _next_step(state: dict, place: Optional[dict], services: Services) -> Optional[str]:
    """The concrete step: where, when (day and hour), what to bring, before which date (an urgence's)."""
    if not place:
        return None
    facts = state["facts"]
    values = dict(place, quand=_when(place),
                  lieu=", ".join(v for v in (place.get("nom"), place.get("commune")) if v),
                  a_apporter=to_bring.in_a_sentence(to_bring.items(facts, state["level"])))
    key = "utter_etape_appeler" if _remote(state, place) else "utter_etape_aller"
    if state["level"] == URGENCE and facts.get("echeance"):
        key += "_avant"
        values["echeance"] = services.date_text(facts["echeance"])
    return messages.text(key, **values)


def _recourse(state: dict, services: Services) -> str:
    """Whom to call when the place opens too late: the body's national line, else the helpline."""
    key = f"utter_recours_{state['facts'].get('organisme')}"
    if key in messages.catalogue().responses:
        return messages.text(key)
    return messages.text("utter_recours_ligne", **services.helpline())


def _urgence_promise(state: dict, place: dict, services: Services) -> list[Reply]:
    """An urgence's promise, only as far as it is true: "vite" when the place opens before the deadline;
    otherwise when it opens, and whom to call before the deadline."""
    if state["level"] != URGENCE:
        return []
    deadline, opens = state["facts"].get("echeance"), place.get("ouvre_le")
    values = dict(place, quand=_when(place))
    if deadline:
        values.update(echeance=services.date_text(deadline), recours=_recourse(state, services))
    if not opens:
        return [Reply("utter_urgence_horaires_inconnus", values)] if deadline and place.get("telephone") else []
    if not deadline:
        return [Reply("utter_urgence_sans_date", values)]
    if place.get("ouvert_maintenant") or opens < deadline:  # ISO dates compare as dates
        return [Reply("utter_urgence_vite", values)]
    if opens == deadline:
        return [Reply("utter_urgence_jour_limite", values)]
    return [Reply("utter_urgence_trop_tard", values)]


def _on_consent(state: dict, turn: Turn, services: Services) -> tuple[list[Reply], dict]:
    answer = _yes_no(turn)
    place = state["place"] or {}
    if answer is None:
        return [Reply("utter_pas_compris_reponse"), Reply("utter_demande_consentement")], state
    state["pending"] = None
    if not answer:
        return [Reply("utter_sans_envoi", place)], state
    state["reference"] = services.create_referral(state, turn.channel, turn.sender_id)
    delivery = services.delivery(state["reference"])
    card = dict(_card(state, place, services), recapitulatif=services.slip_lines(state["reference"]),
                envoi=delivery)
    replies = [Reply(DELIVERY_KEYS.get(delivery, DELIVERY_KEYS[PRESENT_CODE]),
                     {"nom": place.get("nom", ""), "reference": state["reference"]}, custom=card)]
    if card["prochaine_etape"]:
        replies.append(Reply("utter_prochaine_etape", {"etape": card["prochaine_etape"]}))
    if not to_bring.learning(state["facts"], state["level"]):
        replies.append(Reply("utter_mot_de_passe_jamais"))  # "vous taperez vos codes": a procedure's, not a workshop's
    if card["ensuite"]:
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
    if state.get("nothing_near"):
        return [Reply("utter_pas_compris_reponse"), _other_help(state)], state
    return [Reply("utter_pas_compris_reponse"),
            Reply("utter_aucun_lieu", {"rayon": int(services.radius(False))},
                  buttons=_choices("utter_aucun_lieu", remote=bool(state.get("remote"))))], state
