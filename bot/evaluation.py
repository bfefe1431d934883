"""Scores on a labelled set the model never trained on: intent F1, triage accuracy, urgence recall."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import yaml

from bot.classify import classify
from bot.triage import URGENCE


@dataclass
class Scores:
    total: int = 0
    intent_correct: int = 0
    level_total: int = 0
    level_correct: int = 0
    urgence_total: int = 0
    urgence_found: int = 0
    emergency_total: int = 0
    emergency_correct: int = 0
    per_intent: dict = field(default_factory=dict)  # intent -> (precision, recall, f1, support)
    errors: list = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.total if self.total else 0.0

    @property
    def intent_macro_f1(self) -> float:
        values = [f1 for _, _, f1, support in self.per_intent.values() if support]
        return sum(values) / len(values) if values else 0.0

    @property
    def triage_accuracy(self) -> float:
        return self.level_correct / self.level_total if self.level_total else 0.0

    @property
    def urgence_recall(self) -> float:
        return self.urgence_found / self.urgence_total if self.urgence_total else 1.0

    @property
    def emergency_accuracy(self) -> float:
        return self.emergency_correct / self.emergency_total if self.emergency_total else 1.0

    def as_dict(self) -> dict:
        return {"messages": self.total, "intent_accuracy": round(self.intent_accuracy, 3),
                "intent_macro_f1": round(self.intent_macro_f1, 3), "triage_accuracy": round(self.triage_accuracy, 3),
                "urgence_recall": round(self.urgence_recall, 3),
                "emergency_accuracy": round(self.emergency_accuracy, 3)}


def load_cases(path: Path) -> list[dict]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return data if isinstance(data, list) else data.get("cases", [])


def predicted_level(result: dict) -> Optional[str]:
    return result.get("level")


def evaluate(cases: list[dict], intent_of: Callable[[str], Optional[str]], services=None) -> Scores:
    scores = Scores()
    gold, predicted = [], []
    for case in cases:
        text = case["text"]
        intent = intent_of(text)
        result = classify(text, intent, {}, services)
        scores.total += 1
        gold.append(case.get("intent"))
        predicted.append(intent)
        scores.intent_correct += intent == case.get("intent")
        expected_level = case.get("level")
        level = predicted_level(result)
        if expected_level is not None:
            scores.level_total += 1
            scores.level_correct += level == expected_level
        if expected_level == URGENCE:
            scores.urgence_total += 1
            scores.urgence_found += level == URGENCE
        if case.get("emergency"):
            scores.emergency_total += 1
            scores.emergency_correct += str(result.get("emergency_number")) == str(case["emergency"])
        if intent != case.get("intent") or (expected_level is not None and level != expected_level):
            scores.errors.append({"text": text, "intent": intent, "expected_intent": case.get("intent"),
                                  "level": level, "expected_level": expected_level})
    scores.per_intent = _per_label(gold, predicted)
    return scores


def _per_label(gold: list, predicted: list) -> dict:
    labels = sorted({g for g in gold if g})
    true_pos = Counter(g for g, p in zip(gold, predicted) if g == p)
    gold_count, pred_count = Counter(gold), Counter(predicted)
    out = {}
    for label in labels:
        precision = true_pos[label] / pred_count[label] if pred_count[label] else 0.0
        recall = true_pos[label] / gold_count[label] if gold_count[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = (round(precision, 3), round(recall, 3), round(f1, 3), gold_count[label])
    return out


# --------------------------------------------------------------------------------------------------
# Quality gates: the thresholds live in the README (one table), read from there so they cannot drift
# --------------------------------------------------------------------------------------------------

GATES_START = "<!-- quality-gates:start -->"
GATES_END = "<!-- quality-gates:end -->"
GATE_METRICS = ("intent_macro_f1", "triage_accuracy", "urgence_recall", "emergency_accuracy")


class GatesError(ValueError):
    pass


def read_gates(readme: Path) -> dict[str, float]:
    """Rows of the README table between the markers: | label | `metric` | minimum |."""
    import re

    text = Path(readme).read_text(encoding="utf-8")
    if GATES_START not in text or GATES_END not in text:
        raise GatesError(f"table des seuils introuvable dans {readme}")
    block = text.split(GATES_START, 1)[1].split(GATES_END, 1)[0]
    gates = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            continue
        metric = cells[1].strip("`")
        number = re.search(r"\d+(?:[.,]\d+)?", cells[2])
        if metric in GATE_METRICS and number:
            gates[metric] = float(number.group(0).replace(",", "."))
    missing = [m for m in GATE_METRICS if m not in gates]
    if missing:
        raise GatesError(f"seuils manquants dans {readme} : {', '.join(missing)}")
    return gates


def failed_gates(scores: "Scores", gates: dict[str, float]) -> list[str]:
    """One French line per metric below its minimum (empty when every gate passes)."""
    values = scores.as_dict()
    return [f"{metric} = {values[metric]:.3f} < {minimum:.3f}" for metric, minimum in gates.items()
            if values[metric] + 1e-9 < minimum]
