"""One message (plus optional answers) through the same understanding and rules as the conversation."""

from __future__ import annotations

from typing import Optional

from bot import messages
from bot.dialogue import Turn, absorb, new_state
from bot.emergencies import detect_emergency
from bot.triage import HORS_CHAMP, QUESTIONS, decide

CHOICE_CODES = {
    "demarche": {"caf", "france_travail", "impots", "ants", "ants_identite", "prefecture", "ameli", "autre",
                 "apprendre", "retraite", "mdph", "logement", "energie", "ecole", "justice"},
    "enjeu": {"delai", "probleme", "aucun", "inconnu"},
    "equipement": {"telephone", "ordinateur", "aucun"},
    "souhait": {"faire_pour", "apprendre", "regulier"},
    "commune": {"a_distance"},
}


def classify(text: str, intent: Optional[str] = None, answers: Optional[dict] = None, services=None) -> dict:
    """The JSON-ready classification of a message: level, emergency number, reasons, facts, missing."""
    emergency = detect_emergency(text or "")
    if emergency is not None or intent == "urgence_vitale":
        # Answered, not triaged: the emergency number comes before anything else.
        return {"level": HORS_CHAMP, "emergency_number": emergency.number if emergency else "112",
                "emergency_kind": emergency.kind if emergency else "possible", "intent": intent,
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
    if state.get("pending") in ("commune", "commune_precision") and "commune" not in result.missing:
        result.missing.append("commune")
    facts = {k: v for k, v in state["facts"].items() if k not in ("latitude", "longitude")}
    return {
        "level": result.level,
        "emergency_number": None,
        "intent": intent,
        "reasons": [{"code": code, "texte": messages.reason_text(code)} for code in result.reasons],
        "facts": facts,
        "missing": result.missing,
        "next_step": result.next_step,
    }
