"""Scores on labelled sets the models never trained on.

- the held-out set (``tests/nlu_eval/heldout.yml``): intent F1, triage accuracy, urgence recall, emergency
  numbers, on the whole set and on its part in new registers (items with a ``register``);
- the frozen test part of the safety corpus (``tests/nlu_eval/safety_test.yml``): every emergency gets a
  number or the safety check, the exact number, and how many look-alikes raise an alarm.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from bot.core.yaml_files import read_yaml
from bot.triage.classify import classify
from bot.triage.rules import URGENCE
from bot.triage.safety.screen import screen


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
    registers: Optional["Scores"] = None            # the same scores on the part in new registers

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
        out = {"messages": self.total, "intent_accuracy": round(self.intent_accuracy, 3),
               "intent_macro_f1": round(self.intent_macro_f1, 3), "triage_accuracy": round(self.triage_accuracy, 3),
               "urgence_recall": round(self.urgence_recall, 3),
               "emergency_accuracy": round(self.emergency_accuracy, 3)}
        if self.registers is not None:
            out.update({"registers_messages": self.registers.total,
                        "registers_triage_accuracy": round(self.registers.triage_accuracy, 3),
                        "registers_urgence_recall": round(self.registers.urgence_recall, 3)})
        return out


def load_cases(path: Path) -> list[dict]:
    data = read_yaml(path)
    return data if isinstance(data, list) else data.get("cases", [])


def predicted_level(result: dict) -> Optional[str]:
    return result.get("level")


def evaluate(cases: list[dict], intent_of: Callable[[str], Optional[str]], services=None) -> Scores:
    scores = _score(cases, intent_of, services)
    in_registers = [case for case in cases if case.get("register")]
    if in_registers:
        scores.registers = _score(in_registers, intent_of, services)
    return scores


def _score(cases: list[dict], intent_of: Callable[[str], Optional[str]], services=None) -> Scores:
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
                                  "level": level, "expected_level": expected_level,
                                  "register": case.get("register")})
    scores.per_intent = _per_label(gold, predicted)
    return scores


# --------------------------------------------------------------------------------------------------
# The safety screen on the frozen test part of the safety corpus
# --------------------------------------------------------------------------------------------------

@dataclass
class SafetyScores:
    emergencies: int = 0
    raised: int = 0              # a number or the safety check
    exact: int = 0               # the first number given is the expected one
    lookalikes: int = 0
    false_alarms: int = 0
    by_number: dict = field(default_factory=dict)   # number -> [count, raised, exact]
    errors: list = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.raised / self.emergencies if self.emergencies else 1.0

    @property
    def exact_number(self) -> float:
        return self.exact / self.emergencies if self.emergencies else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.lookalikes if self.lookalikes else 0.0

    def as_dict(self) -> dict:
        return {"safety_emergencies": self.emergencies, "safety_lookalikes": self.lookalikes,
                "safety_recall": round(self.recall, 3), "safety_exact_number": round(self.exact_number, 3),
                "safety_false_alarm_rate": round(self.false_alarm_rate, 3),
                "safety_specificity": round(1.0 - self.false_alarm_rate, 3)}


def evaluate_safety(cases: list[dict], intent_of: Callable[[str], Optional[str]]) -> SafetyScores:
    """Each case: text, number (the first number to call) or null for a look-alike."""
    scores = SafetyScores()
    for case in cases:
        text, expected = case["text"], case.get("number")
        result = screen(text, intent_of(text))
        if expected:
            expected = str(expected)
            row = scores.by_number.setdefault(expected, [0, 0, 0])
            scores.emergencies += 1
            row[0] += 1
            raised, exact = bool(result.tier), result.number == expected
            scores.raised += raised
            scores.exact += raised and exact
            row[1] += raised
            row[2] += raised and exact
            if not (raised and exact):
                scores.errors.append({"text": text, "expected": expected, "given": result.number,
                                      "tier": result.tier, "signals": list(result.signals)})
        else:
            scores.lookalikes += 1
            if result.tier:
                scores.false_alarms += 1
                scores.errors.append({"text": text, "expected": None, "given": result.number,
                                      "tier": result.tier, "signals": list(result.signals)})
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
GATE_METRICS = ("intent_macro_f1", "triage_accuracy", "urgence_recall", "emergency_accuracy",
                "registers_triage_accuracy", "registers_urgence_recall",
                "safety_recall", "safety_exact_number", "safety_specificity")


class GatesError(ValueError):
    pass


def read_gates(readme: Path) -> dict[str, float]:
    """Rows of the README table between the markers: | label | `metric` | minimum |."""
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


def failed_gates(scores, gates: dict[str, float]) -> list[str]:
    """One line per metric below its minimum (empty when every gate passes). `scores`: Scores,
    SafetyScores, or a dict of values; a gate whose metric was not measured is not checked here."""
    values = scores if isinstance(scores, dict) else scores.as_dict()
    return [f"{metric} = {values[metric]:.3f} < {minimum:.3f}" for metric, minimum in gates.items()
            if metric in values and values[metric] + 1e-9 < minimum]
