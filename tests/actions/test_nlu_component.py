"""The red-flag NLU component: deterministic emergencies override the model, model-only ones are checked, and
"stop" (which erases the conversation) stands only with words of stopping."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.actions.nlu_components import RedFlagClassifier


def message(text, intent, confidence, ranking=()):
    msg = Message(data={"text": text})
    msg.set("intent", {"name": intent, "confidence": confidence})
    msg.set("intent_ranking", [{"name": intent, "confidence": confidence}, *ranking])
    return msg


def entities(msg):
    return {e["entity"]: e["value"] for e in msg.get("entities") or []}


def test_deterministic_emergency_overrides_the_model():
    msg = message("je suis a la rue ce soir", "informer", 0.9)
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "urgence_vitale" and msg.get("intent")["confidence"] == 1.0
    assert entities(msg) == {"urgence_type": "shelter", "numero_urgence": "115"}


def test_unsure_model_only_emergency_is_demoted_to_the_next_intent():
    msg = message("il faut que ce soit fait jeudi au plus tard", "urgence_vitale", 0.4,
                  [{"name": "informer", "confidence": 0.3}])
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "informer"
    assert "urgence_type" not in entities(msg)


def test_confident_model_only_emergency_goes_to_the_safety_check():
    msg = message("ca va tres mal a la maison ce soir", "urgence_vitale", 0.9)
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "danger_possible"
    assert entities(msg)["urgence_type"] == "possible" and entities(msg)["numero_urgence"]


def test_possible_danger_overrides_whatever_the_model_read():
    # "hors_sujet" or "informer" would have answered with a question about procedures.
    msg = message("je veux juste que ça s'arrête, j'ai mis les cachets de côté pour ce soir", "hors_sujet", 0.8)
    RedFlagClassifier().process([msg])
    assert msg.get("intent") == {"name": "danger_possible", "confidence": 1.0}
    assert entities(msg) == {"urgence_type": "possible", "numero_urgence": "3114"}


def test_a_stop_read_in_words_of_no_stopping_goes_to_the_next_intent():
    # Read so by the model at the desk, "plus loin" erased the conversation of a person asking for a farther place.
    msg = message("plus loin", "stop", 0.35, [{"name": "informer", "confidence": 0.3}])
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "informer"
    assert [r["name"] for r in msg.get("intent_ranking")] == ["informer"]


def test_a_stop_with_nothing_else_guessed_becomes_not_understood():
    msg = message("un peu plus loin svp", "stop", 0.9)
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["stop", "STOP svp", "effacer", "ne m'écrivez plus", "Madame ne souhaite plus être "
                                  "contactée", "fin"])
def test_a_stop_in_words_of_stopping_stands(text):
    msg = message(text, "stop", 0.6, [{"name": "informer", "confidence": 0.3}])
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "stop"


def test_a_button_title_typed_is_that_button():
    # The model read it as a social need; at the "nothing near" question it asks for a farther place.
    msg = message("Chercher plus loin", "besoin_social", 0.6)
    RedFlagClassifier().process([msg])
    assert msg.get("intent") == {"name": "choix", "confidence": 1.0}
    assert entities(msg) == {"valeur": "plus_loin"}


def test_an_emergency_comes_before_a_typed_title():
    msg = message("Chercher plus loin, je suis a la rue ce soir", "besoin_social", 0.6)
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "urgence_vitale"


def test_button_payloads_are_left_alone():
    msg = message('/choix{"valeur": "oui"}', "choix", 1.0)
    RedFlagClassifier().process([msg])
    assert msg.get("intent")["name"] == "choix"


def _featurised(texts):
    """Messages with two sparse sentence features, as our two CountVectorsFeaturizers leave them."""
    import numpy as np
    from rasa.shared.nlu.training_data.features import Features
    from scipy.sparse import coo_matrix

    out = []
    for i, text in enumerate(texts):
        msg = Message(data={"text": text})
        words = coo_matrix(np.array([[i + 1.0, 0.0, 2.0]]))
        chars = coo_matrix(np.array([[0.0, 3.0, i * 1.0, 1.0]]))
        msg.add_features(Features(words, "sentence", "text", "CountVectorsFeaturizer1"))
        msg.add_features(Features(chars, "sentence", "text", "CountVectorsFeaturizer2"))
        out.append(msg)
    return out


@pytest.mark.parametrize("count", [1, 3])
def test_intent_classifier_input_is_the_matrix_rasa_builds(count):
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    from bot.actions.nlu_components import IntentLogisticRegression

    messages = _featurised(["bonjour", "caf rsa", "impots"][:count])
    ours = IntentLogisticRegression._create_X(object.__new__(IntentLogisticRegression), messages)
    rasa = LogisticRegressionClassifier._create_X(object.__new__(LogisticRegressionClassifier), messages)
    assert ours.shape == rasa.shape == (count, 7)
    assert (ours.toarray() == rasa.toarray()).all()
