"""The safety screen: runs on every message, before any question about procedures.

Two tiers:
- tier 1, certain: a phrase of the reviewed table (``bot.triage.emergencies``) names the danger; the person
  gets the number at once, and nothing else is asked.
- tier 2, possible: a cue of the broad table (``bot.triage.safety.cues``), the safety classifier
  (``bot.triage.safety.classifier``) or the conversation model suspects a danger. Either one is enough. The
  person gets the numbers at once and one question: are you (or someone) in danger right now? The
  triage goes on only after the answer.

Tuned for recall: a false alarm costs one kind sentence; a miss can cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from bot.triage.emergencies import NUMBERS, VitalEmergency, detect_all, expand
from bot.triage.safety.classifier import Prediction, default_classifier
from bot.triage.safety.context import figure_of_speech, told_as_over
from bot.triage.safety.cues import find_cues

CERTAIN, POSSIBLE = 1, 2
POSSIBLE_KIND = "possible"
# Above this probability of danger, the classifier alone raises the check (chosen by cross-validation
# on the training part, for recall: see README, "Safety screen").
CLASSIFIER_THRESHOLD = 0.5
# Intents of the conversation model: its own emergency guess raises the check too; the red-flag
# component routes tier 1 to EMERGENCY_INTENT and tier 2 to POSSIBLE_INTENT.
EMERGENCY_INTENT, POSSIBLE_INTENT = "urgence_vitale", "danger_possible"
MODEL_EMERGENCY_INTENTS = (EMERGENCY_INTENT, POSSIBLE_INTENT)

# The person in danger is a minor: "j'ai 15 ans", "je suis mineure", "une élève de 4e", "un gamin de 10 ans".
MINOR = re.compile(r"\b(?:j ai|il a|elle a|age de|agee? de|de) (?:1[0-7]|[1-9]) ans\b|\bje suis mineure?\b"
                   r"|\bmineure?s?\b"
                   r"|\b(?:eleve|collegien\w*|lyceen\w*) de (?:\d|1[0-7])"
                   r"|\b(?:une|un|mon|ma) (?:eleve|collegien\w*|lyceen\w*)\b"
                   r"|\b(?:pote|copain|copine|camarade|collegue) de classe\b")
# Something already swallowed: the SAMU (15) before the suicide line.
INGESTED = re.compile(r"\b(?:avale|pris|bu|ingere)\w*\b(?: \w+){0,4} "
                      r"(?:\d+|toute?s?|plusieurs|la boite|une boite|des|du|de la|ce qu)\b")
# The threat comes from a partner or ex-partner: 3919 rather than the police's 17.
PARTNER = re.compile(r"\b(?:son|mon|leur|ma|sa) (?:mari|conjoint\w*|compagnon|compagne|copain|concubin\w*|ex|ex mari|"
                     r"mec|epoux|petit ami)\b")

# Numbers given with a certain emergency, in the order of its response (domain/responses.yml).
CERTAIN_NUMBERS: dict[str, tuple[str, ...]] = {
    "shelter": ("115",),
    "violence_women": ("3919", "17"),
    "suicide": ("3114", "15"),
    "medical": ("15", "112"),
    "police": ("17", "114"),
    "child_danger": ("119", "17"),
    "general": ("112",),
}


def possible_numbers(kind: str) -> tuple[str, ...]:
    """Numbers of the safety check: 3114 with 112 for distress, else the kind's number, then 112."""
    if kind == "suicide":
        return ("3114", "112")
    if kind in NUMBERS and kind != "general":
        return (NUMBERS[kind], "112")
    return ("112",)


@dataclass(frozen=True)
class Screening:
    tier: int = 0                      # 0 nothing, 1 certain, 2 possible
    kind: Optional[str] = None         # kind of danger (tier 2: the most likely one)
    numbers: tuple[str, ...] = ()      # every number given, the first to call first
    signals: tuple[str, ...] = field(default_factory=tuple)  # what raised it, for logs and tests

    @property
    def number(self) -> Optional[str]:
        return self.numbers[0] if self.numbers else None

    @property
    def certain(self) -> bool:
        return self.tier == CERTAIN

    @property
    def possible(self) -> bool:
        return self.tier == POSSIBLE


NOTHING = Screening()


def screen(text: object, intent: Optional[str] = None,
           classify: Optional[Callable[[str], Prediction]] = None) -> Screening:
    """Screen one message; `intent` is the conversation model's. Button payloads ("/choix...") and empty
    texts are never in danger."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str) or not text.strip() or text.startswith("/"):
        return NOTHING
    expanded = expand(text)
    found = detect_all(text)  # never raises, whatever the text
    # A danger told as over, or as a figure of speech, leaves the patterns and cues quiet; the classifier
    # still reads the whole message and may raise the check.
    quiet = told_as_over(expanded) or figure_of_speech(expanded)
    if found and not quiet:
        if _minor_at_risk(found[0].kind, expanded):
            found.insert(0, VitalEmergency("child_danger", NUMBERS["child_danger"]))
        numbers: list[str] = []
        for emergency in found:
            for number in CERTAIN_NUMBERS[emergency.kind]:
                if number not in numbers:
                    numbers.append(number)
        return Screening(CERTAIN, found[0].kind, tuple(numbers), tuple(f"motif:{e.kind}" for e in found))
    cues = find_cues(expanded)
    prediction = (classify or default_classifier().predict)(text)
    # When the danger seems over or figurative, the classifier, reading the whole message, decides.
    confirmed = not quiet or prediction.danger >= CLASSIFIER_THRESHOLD
    signals = []
    if found and confirmed:
        signals.append(f"motif:{found[0].kind}")
    if cues and confirmed:
        signals.extend(f"indice:{name}" for _, name in cues)
    if prediction.danger >= CLASSIFIER_THRESHOLD:
        signals.append(f"modele:{prediction.danger:.2f}")
    if intent in MODEL_EMERGENCY_INTENTS and confirmed:
        signals.append("intention")
    if not signals:
        return NOTHING
    kind = possible_kind([e.kind for e in found] if confirmed else [], [k for k, _ in cues] if confirmed else [],
                         prediction, expanded)
    return Screening(POSSIBLE, kind, possible_numbers(kind), tuple(signals))


def _minor_at_risk(kind: str, expanded: str) -> bool:
    """A minor threatened by someone or without a roof: 119 comes first."""
    return kind in ("violence_women", "police", "shelter") and MINOR.search(expanded) is not None


def possible_kind(pattern_kinds: list, cue_kinds: list, prediction: Prediction, expanded: str) -> str:
    """The kind of a possible danger: a pattern's first; else, among the cues' kinds, the one the classifier
    finds likeliest; else the classifier's. A minor in danger from someone, or without a roof, is 119."""
    if pattern_kinds:
        kind = pattern_kinds[0]
    elif cue_kinds:
        kind = max(dict.fromkeys(cue_kinds), key=lambda k: prediction.kinds.get(k, 0.0))
    else:
        kind = prediction.kind
    if _minor_at_risk(kind, expanded):
        return "child_danger"
    if kind == "police" and PARTNER.search(expanded):
        return "violence_women"
    if kind == "suicide" and "medical" in cue_kinds and INGESTED.search(expanded):
        return "medical"  # already swallowed: the SAMU first, even after words of despair
    return kind
