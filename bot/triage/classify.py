"""One message (plus optional answers) through the same understanding and rules as the conversation."""

from __future__ import annotations

from typing import Optional

from bot.core import messages
from bot.triage.dialogue import Turn, absorb, new_state
from bot.triage.rules import HORS_CHAMP, QUESTIONS, decide
from bot.triage.safety.screen import screen

SAFETY_QUESTION = "securite"  # the safety check, asked before any other question

CHOICE_CODES = {
    "demarche": {"caf", "france_travail", "impots", "ants", "ants_identite", "prefecture", "ameli", "autre",
                 "apprendre", "retraite", "mdph", "logement", "energie", "ecole", "justice"},
    "enjeu": {"delai", "probleme", "aucun", "inconnu"},
    "equipement": {"telephone", "ordinateur", "aucun"},
    "souhait": {"faire_pour", "apprendre", "regulier"},
    "commune": {"a_distance"},
}


def classify(text: str, intent: Optional[str] = None, answers: Optional[dict] = None, services=None) -> dict:
    """The JSON-ready classification of a message: level, emergency numbers, reasons, facts, missing.

    `emergency_number` is the first number to call (tier 1 and tier 2 alike), `emergency_numbers` every
    number given; `emergency_kind` is the kind of a certain emergency, or "possible" for the safety check."""
    screening = screen(text or "", intent)
    if screening.certain:
        # Answered, not triaged: the emergency number comes before anything else.
        return {"level": HORS_CHAMP, "emergency_number": screening.number,
                "emergency_numbers": list(screening.numbers), "emergency_kind": screening.kind, "intent": intent,
                "reasons": [{"code": "urgence_vitale", "texte": messages.reason_text("urgence_vitale")}],
                "facts": {}, "missing": [], "next_step": None}
    state = new_state()
    absorb(state, Turn(text=text or "", intent=intent), services, [])
    for key, value in (answers or {}).items():
        if key not in QUESTIONS:
            raise ValueError(f"question inconnue « {key} » ; attendu : {', '.join(QUESTIONS)}")
        state["pending"] = key
        state["asked"].append(key)
        choice = value if value in CHOICE_CODES[key] else None
        absorb(state, Turn(text="" if choice else value, choice=choice), services, [])
    asked = tuple(state["asked"])
    if state["facts"].get("a_distance"):
        asked += ("commune",)
    result = decide(state["facts"], asked)
    pending = "commune" if state.get("pending") == "commune_precision" else state.get("pending")
    if pending in QUESTIONS and pending not in result.missing:
        result.missing.insert(0, pending)  # an answer that did not fit: the question is asked again
    facts = {k: v for k, v in state["facts"].items() if k not in ("latitude", "longitude")}
    out = {
        "level": result.level,
        "emergency_number": None,
        "emergency_numbers": [],
        "intent": intent,
        "reasons": [{"code": code, "texte": messages.reason_text(code)} for code in result.reasons],
        "facts": facts,
        "missing": result.missing,
        "next_step": result.next_step,
    }
    if screening.possible:
        # The safety check comes first; the triage goes on after it with the same facts.
        out.update(emergency_number=screening.number, emergency_numbers=list(screening.numbers),
                   emergency_kind="possible", possible_kind=screening.kind,
                   missing=[SAFETY_QUESTION] + result.missing)
        if out["level"] is None:
            out["level"] = HORS_CHAMP
            out["reasons"] = [{"code": "urgence_possible", "texte": messages.reason_text("urgence_possible")}]
    return out
