"""Words of stopping (bot/triage/stop_request.py): without them, the NLU's "stop" does not erase a conversation."""

from __future__ import annotations

import pytest

from bot.core import messages
from bot.core.settings import PROJECT_ROOT
from bot.core.yaml_files import read_yaml
from bot.triage.stop_request import asks_to_stop


def training_examples(intent: str) -> list[str]:
    examples = []
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for item in read_yaml(path).get("nlu") or []:
            if item.get("intent") == intent:
                examples += [line[2:] for line in item["examples"].splitlines() if line.startswith("- ")]
    return examples


def test_every_way_of_asking_to_stop_the_model_learnt_has_words_of_stopping():
    examples = training_examples("stop")
    assert len(examples) > 40
    assert [e for e in examples if not asks_to_stop(e)] == []


def test_no_button_of_the_conversation_reads_as_stopping():
    # A typed button title is an answer: "Chercher plus loin" read as "stop" erased the conversation.
    titles = {b["title"] for key in messages.catalogue().keys() for b in messages.catalogue().buttons(key) or []}
    assert len(titles) > 20
    assert sorted(t for t in titles if asks_to_stop(t)) == []


@pytest.mark.parametrize("text", ["plus loin", "un peu plus loin svp", "merci", "non", "à distance", "oui d'accord",
                                  # needs that use the same words: what a body did, what the person forgot
                                  "la CAF a arrêté mon RSA", "ils ont supprimé mon allocation", "j'ai oublié mon mot "
                                  "de passe", "mon compte a été désactivé", "je ne peux plus payer le loyer",
                                  "j'ai plus de crédit sur mon portable", "ils m'ont retiré l'APL"])
def test_answers_and_needs_are_not_stopping(text):
    assert not asks_to_stop(text)


@pytest.mark.parametrize("text", ["STOP", "Arrêt !", "effacez tout", "désinscrivez-moi", "n'envoyez plus rien",
                                  "cessez de m'écrire", "unsubscribe", "fin"])
def test_words_of_stopping(text):
    assert asks_to_stop(text)
