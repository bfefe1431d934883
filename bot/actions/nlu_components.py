"""Deterministic red flags in the NLU pipeline: a vital emergency overrides the model's guess."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emergencies import detect_emergency

EMERGENCY_INTENT = "urgence_vitale"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagClassifier(GraphComponent):
    """Runs after the statistical classifier and before the fallback classifier."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RedFlagClassifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # button payloads are not free text
            emergency = detect_emergency(text)
            if emergency is None:
                continue
            intent = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
            entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") not in ("urgence_type",
                                                                                               "numero_urgence")]
            entities += [
                {"entity": "urgence_type", "value": emergency.kind, "start": 0, "end": len(text),
                 "extractor": self.__class__.__name__},
                {"entity": "numero_urgence", "value": emergency.number, "start": 0, "end": len(text),
                 "extractor": self.__class__.__name__},
            ]
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
