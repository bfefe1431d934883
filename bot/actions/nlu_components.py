"""Our NLU components: the intent classifier's input built without copies, and deterministic rules over
the model's guess: the safety screen (bot/triage/safety) overrides it, with the number at once for a
certain emergency, or the safety check for a possible one; a button's title typed as text is that button
(bot/triage/typed_buttons.py); and "stop", which erases the conversation, stands only when the message has
words of stopping (bot/triage/stop_request.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, vstack

from bot.triage.safety.screen import EMERGENCY_INTENT, POSSIBLE_INTENT, POSSIBLE_KIND, screen
from bot.triage.stop_request import STOP_INTENT, asks_to_stop
from bot.triage.typed_buttons import button_typed

# Tier 2 of the safety screen (POSSIBLE_INTENT) is routed to the triage action, which asks the safety
# check first. Below this confidence, a model-only emergency is too likely a misreading ("il faut que ce soit
# fait jeudi"): it is not a signal for the safety screen, and the next intent is kept.
MODEL_ONLY_THRESHOLD = 0.7


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentLogisticRegression(LogisticRegressionClassifier):
    """Rasa's LogisticRegressionClassifier with the same input matrix, built without copies.

    Rasa pads each message's sparse features with an empty dense matrix and stacks them one by one
    (about 8 % of the Rasa server's CPU per message, bench/stack_bench.py --profile); our pipeline has
    no dense features, so the sparse features are the matrix. Anything else goes Rasa's way."""

    def _create_X(self, messages: List[Message]):
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            if sparse is None or message.get_dense_features(attribute=TEXT)[1] is not None:
                return super()._create_X(messages)
            rows.append(sparse.features)
        if not rows:
            return super()._create_X(messages)
        return csr_matrix(rows[0]) if len(rows) == 1 else vstack(rows, format="csr")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagClassifier(GraphComponent):
    """Runs after the statistical classifier and before the fallback classifier: red flags, typed buttons,
    and the guard on "stop"."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RedFlagClassifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # button payloads are not free text
            predicted = message.get(INTENT) or {}
            model_says = (predicted.get("name") == EMERGENCY_INTENT
                          and (predicted.get("confidence") or 0.0) >= MODEL_ONLY_THRESHOLD)
            screening = screen(text, EMERGENCY_INTENT if model_says else None)
            if screening.certain:
                self._route(message, text, EMERGENCY_INTENT, screening.kind, screening.number)
            elif screening.possible:
                self._route(message, text, POSSIBLE_INTENT, POSSIBLE_KIND, screening.number)
            elif (pressed := button_typed(text)) is not None:
                self._press(message, text, pressed.intent, pressed.entities)
            elif predicted.get("name") == EMERGENCY_INTENT:
                self._drop_intent(message, EMERGENCY_INTENT)
            elif predicted.get("name") == STOP_INTENT and not asks_to_stop(text):
                # A misread "stop" would erase the conversation ("plus loin" was read so): the next guess instead.
                self._drop_intent(message, STOP_INTENT)
        return messages

    def _route(self, message: Message, text: str, intent_name: str, kind: str, number: str) -> None:
        intent = {"name": intent_name, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        self._set_kind(message, text, kind, number)

    def _press(self, message: Message, text: str, intent_name: str, values: Dict[Text, Any]) -> None:
        intent = {"name": intent_name, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") not in values]
        entities += [{"entity": name, "value": value, "start": 0, "end": len(text),
                      "extractor": self.__class__.__name__} for name, value in values.items()]
        message.set(ENTITIES, entities, add_to_output=True)

    def _drop_intent(self, message: Message, name: str) -> None:
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != name]
        if not ranking:  # nothing else guessed: not understood, rather than the dropped intent
            ranking = [{"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 0.0}]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _set_kind(self, message: Message, text: str, kind: str, number: str) -> None:
        # Always set both slots: an earlier emergency's number must never be repeated by mistake.
        entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") not in ("urgence_type",
                                                                                           "numero_urgence")]
        entities += [
            {"entity": "urgence_type", "value": kind, "start": 0, "end": len(text),
             "extractor": self.__class__.__name__},
            {"entity": "numero_urgence", "value": number, "start": 0, "end": len(text),
             "extractor": self.__class__.__name__},
        ]
        message.set(ENTITIES, entities, add_to_output=True)
