"""NLU training data and held-out set: shape, coverage and separation (no Rasa needed)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.core.text import normalize
from bot.core.yaml_files import read_yaml

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu_eval" / "heldout.yml"

INTENTS = {
    "saluer", "au_revoir", "remercier", "aide", "recommencer", "parler_humain", "stop",
    "hors_sujet", "besoin_social", "refus_numerique", "demarche", "apprendre",
    "accompagnement", "informer", "oui", "non", "ne_sait_pas", "urgence_vitale",
}
MINIMUM = {"demarche": 150, "informer": 80, "apprendre": 70, "accompagnement": 50, "urgence_vitale": 40}
LEVELS = {None, "urgence", "inclusion", "montee_en_competence", "hors_champ"}
EMERGENCY_NUMBERS = {None, "15", "17", "112", "115", "119", "3114", "3919"}


def _training_examples() -> list[tuple[str, str]]:
    pairs = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        doc = read_yaml(path)
        assert doc["version"] == "3.1", path
        for block in doc["nlu"]:
            for line in block["examples"].splitlines():
                text = line.strip()
                if text:
                    assert text.startswith("- "), (path, line)
                    pairs.append((block["intent"], text[2:].strip()))
    return pairs


def _key(text: str) -> str:
    return normalize(text) or text.strip()


@pytest.fixture(scope="module")
def training():
    return _training_examples()


@pytest.fixture(scope="module")
def heldout():
    return read_yaml(HELDOUT)


def test_training_uses_exactly_the_agreed_intents(training):
    assert {intent for intent, _ in training} == INTENTS


def test_every_intent_has_enough_examples(training):
    counts = Counter(intent for intent, _ in training)
    for intent in INTENTS:
        assert counts[intent] >= MINIMUM.get(intent, 30), (intent, counts[intent])


def test_no_sentence_is_taught_as_two_intents(training):
    # Rasa rejects identical examples in two intents; accents/case variants would confuse it too.
    seen: dict[str, str] = {}
    clashes = []
    for intent, text in training:
        previous = seen.setdefault(_key(text), intent)
        if previous != intent:
            clashes.append((text, previous, intent))
    assert clashes == []


def test_examples_carry_no_entity_markup(training):
    assert [t for _, t in training if "](" in t or "]{" in t] == []


REGISTERS = {"professional", "third_party", "non_native", "short", "rambling", "sms", "desk"}
NEW_REGISTERS = {"professional", "third_party", "non_native", "short", "rambling"}


def test_heldout_is_big_enough_and_well_formed(heldout):
    assert len(heldout) >= 400
    for item in heldout:
        assert set(item) - {"register"} == {"text", "intent", "level", "emergency"}, item
        assert item.get("register", "sms") in REGISTERS, item
        assert item["intent"] in INTENTS, item
        assert item["level"] in LEVELS, item
        assert item["emergency"] in EMERGENCY_NUMBERS, item


def test_heldout_has_150_messages_in_the_registers_it_lacked(heldout):
    assert sum(1 for item in heldout if item.get("register") in NEW_REGISTERS) >= 150


def test_heldout_covers_levels_styles_and_emergencies(heldout):
    levels = Counter(item["level"] for item in heldout)
    for level in ("urgence", "inclusion", "montee_en_competence", "hors_champ"):
        assert levels[level] >= 15, (level, levels[level])
    assert sum(1 for item in heldout if item["emergency"] == "115") >= 3
    # Desk-agent phrasings ("Madame ...", "Monsieur ...", "Usager ...") are part of the field.
    agents = [i for i in heldout if i["text"].split()[0] in {"Madame", "Monsieur", "Usager", "La"}]
    assert len(agents) >= 10


def test_vital_emergencies_always_name_a_number(heldout):
    for item in heldout:
        assert (item["intent"] == "urgence_vitale") == (item["emergency"] is not None), item


def test_heldout_sentences_never_appear_in_training(training, heldout):
    taught = {_key(text) for _, text in training}
    leaked = [item["text"] for item in heldout if _key(item["text"]) in taught]
    assert leaked == []
