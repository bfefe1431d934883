"""Referrals made in several situations, and the check that a text meant for people holds no raw code."""

from __future__ import annotations

import re
from datetime import datetime, timezone

# Made on Sunday 6 December 2026 at 11:00 in Paris.
MADE_AT = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)

# (level, channel, facts): the usability test's scenarios, and every code a mediator could meet.
SITUATIONS = {
    "caf_desk": ("urgence", "desk", {
        "organisme": "caf", "domaine": "social", "demarche": "declaration_trimestrielle", "enjeu": "delai",
        "enjeux": ["delai", "probleme"], "echeance": "2026-12-11", "equipement": "aucun", "souhait": "faire_pour",
        "commune": "Rennes", "commune_insee": "35238", "accueil": "Accueil mairie de Fougères"}),
    "prefecture_sms": ("urgence", "sms", {
        "organisme": "prefecture", "domaine": "etranger", "demarche": "titre_sejour", "enjeu": "delai",
        "enjeux": ["delai"], "echeance": "2026-12-20", "barriere": "langue", "besoins": ["Langues étrangères (autres)"],
        "equipement": "telephone", "commune": "Rennes", "commune_insee": "35238"}),
    "neighbour_telegram": ("inclusion", "telegram", {
        "organisme": "autre", "redacteur": "proche", "recurrent": True, "souhait": "regulier",
        "equipement": "ordinateur", "blocage": "codes", "enjeu": "aucun", "enjeux": [], "commune": "Fougères",
        "commune_insee": "35115"}),
    "after_115_desk": ("urgence", "desk", {
        "urgence_vitale": True, "organisme": "caf", "domaine": "social", "enjeu": "inconnu", "enjeux": [],
        "verification_securite": "danger", "equipement": "aucun", "commune": "Rennes", "commune_insee": "35238"}),
    "learning_helpline": ("montee_en_competence", "helpline", {
        "apprentissage": True, "souhait": "apprendre", "sujet": "visio", "debutant": True, "besoins": ["Surdité"],
        "redacteur": "professionnel", "verification_securite": "posee", "barriere": "lecture",
        "commune": "Saint-Malo", "commune_insee": "35288"}),
}

# A stored code is snake_case, or one of these words as no French text writes them (accents, lower case).
_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
_CODE_WORDS = re.compile(r"\b(caf|ants|mdph|crous|delai|probleme|telephone|regulier|posee|ecole|energie|prefecture|"
                         r"impots|desk|helpline|visio)\b")


def raw_codes(text: str, place_ids=()) -> list:
    """The raw codes and place ids found in a text meant for people (empty when there is none)."""
    found = _SNAKE.findall(text) + _CODE_WORDS.findall(text)
    return found + [pid for pid in place_ids if pid in text]
