"""The safety classifier: a small statistical model trained on its own corpus of danger messages.

It reads what the patterns cannot list: danger told in the writer's own words. It is trained on the
training part of the safety corpus (``tests/nlu_eval/safety_train.yml``: emergencies labelled with
their kind, and look-alikes), plus the ordinary messages of the NLU data as "no danger". The frozen
test part (``safety_test.yml``) is never read here.

Features are TF-IDF character n-grams (2-5, which absorb typos and missing accents) and words and word
pairs of the same expanded text as the patterns. One logistic regression gives the probability of a
danger; another, trained on the emergencies alone, names its most likely kind. The weights are kept
in ``models/safety-<hash>.npz``, keyed on the corpus and this module's settings, and rebuilt in
seconds when missing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.core.settings import PROJECT_ROOT
from bot.core.yaml_files import read_yaml
from bot.triage.emergencies import NUMBERS, detect_emergency, expand

logger = logging.getLogger(__name__)

NONE = "none"
KIND_OF_NUMBER = {number: kind for kind, number in NUMBERS.items()}
TRAIN_CORPUS = PROJECT_ROOT / "tests" / "nlu_eval" / "safety_train.yml"
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
MODELS_DIR = PROJECT_ROOT / "models"
# Changing a setting below changes the model: it is part of the cache key.
# The NLU's ordinary messages count as much as the look-alikes: at a tenth of the weight, recall rose
# by 1 point but one ordinary message in 16 raised the check (cross-validation, README "Safety screen").
SETTINGS = {"char": (2, 5), "word": (1, 2), "min_df": 2, "C": 16.0, "kind_C": 16.0, "nlu_weight": 1.0,
            "version": 2}


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    return (TfidfVectorizer(analyzer="char_wb", ngram_range=SETTINGS["char"], min_df=SETTINGS["min_df"],
                            sublinear_tf=True, lowercase=False, dtype=np.float32),
            TfidfVectorizer(analyzer="word", ngram_range=SETTINGS["word"], token_pattern=r"\S+",
                            sublinear_tf=True, lowercase=False, dtype=np.float32))


def _char_grams(text: str) -> list[str]:
    """sklearn's "char_wb" n-grams (2 to 5), in the same order: each word padded with spaces; a word
    shorter than n gives itself once, and no longer n-grams."""
    low, high = SETTINGS["char"]
    grams: list[str] = []
    for word in text.split():
        word = f" {word} "
        size = len(word)
        for n in range(low, high + 1):
            if size <= n:
                grams.append(word)
                break
            grams.extend([word[i:i + n] for i in range(size - n + 1)])
    return grams


def _word_grams(text: str) -> list[str]:
    """sklearn's word n-grams (1 and 2) with the token pattern \\S+."""
    words = text.split()
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


@dataclass(frozen=True)
class Prediction:
    danger: float                          # probability that someone is in danger (any kind)
    kind: str                              # most likely kind of danger (never "none")
    kinds: dict = field(default_factory=dict)  # kind -> probability, if it is a danger


class SafetyClassifier:
    """Danger or not (binary), and which kind of danger (trained on the emergencies alone)."""

    def __init__(self, vectorizers: tuple[TfidfVectorizer, TfidfVectorizer], danger: np.ndarray,
                 danger_bias: float, kinds: np.ndarray, kind_bias: np.ndarray, kind_names: tuple[str, ...]):
        self.vectorizers = vectorizers
        self.danger, self.danger_bias = danger, danger_bias
        self.kinds, self.kind_bias, self.kind_names = kinds, kind_bias, kind_names
        # One message at a time (a turn), sklearn's transform costs ~3 ms of checks and matrix building:
        # the same TF-IDF is computed here from each vectorizer's own analyzer, vocabulary and idf.
        self._parts = []
        offset = 0
        for analyzer, vectorizer in zip((_char_grams, _word_grams), vectorizers):
            self._parts.append((analyzer, vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)

    def features(self, texts: Iterable[str]) -> sparse.csr_matrix:
        expanded = [expand(text) for text in texts]
        return sparse.hstack([v.transform(expanded) for v in self.vectorizers], format="csr")

    def predict(self, text: str) -> Prediction:
        """One message: the same numbers as predict_many (tested), without sklearn's per-call overhead."""
        expanded = expand(text)
        indices: list[int] = []
        values: list[np.ndarray] = []
        for analyzer, vocabulary, idf, offset in self._parts:
            known = [(vocabulary[gram], count) for gram, count in Counter(analyzer(expanded)).items()
                     if gram in vocabulary]
            if not known:
                continue
            columns = np.fromiter((column for column, _ in known), dtype=np.int64, count=len(known))
            counts = np.fromiter((count for _, count in known), dtype=np.float64, count=len(known))
            weights = (1.0 + np.log(counts)) * idf[columns]
            weights /= np.sqrt((weights ** 2).sum())
            indices.extend((columns + offset).tolist())
            values.append(weights)
        if values:
            columns = np.asarray(indices)
            vector = np.concatenate(values)
            danger_score = float(vector @ self.danger[columns]) + self.danger_bias
            kind_scores = self.kinds[:, columns] @ vector + self.kind_bias
        else:
            danger_score, kind_scores = self.danger_bias, self.kind_bias.astype(np.float64)
        kind_scores = np.exp(kind_scores - kind_scores.max())
        kind_scores /= kind_scores.sum()
        return Prediction(float(1.0 / (1.0 + np.exp(-danger_score))), self.kind_names[int(kind_scores.argmax())],
                          dict(zip(self.kind_names, map(float, kind_scores))))

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        matrix = self.features(texts)
        danger = 1.0 / (1.0 + np.exp(-(matrix @ self.danger + self.danger_bias)))
        scores = matrix @ self.kinds.T + self.kind_bias
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        return [Prediction(float(d), self.kind_names[int(k.argmax())], dict(zip(self.kind_names, map(float, k))))
                for d, k in zip(danger, scores)]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"danger": self.danger, "danger_bias": np.array([self.danger_bias]), "kinds": self.kinds,
                  "kind_bias": self.kind_bias, "kind_names": np.array(self.kind_names)}
        for index, vectorizer in enumerate(self.vectorizers):
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
            arrays[f"terms{index}"] = np.array(terms)
            arrays[f"idf{index}"] = vectorizer.idf_.astype(np.float32)
        temporary = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(temporary, **arrays)
        temporary.replace(path)  # never a half-written model for another process to read

    @classmethod
    def load(cls, path: Path) -> "SafetyClassifier":
        with np.load(path, allow_pickle=False) as stored:
            vectorizers = _vectorizers()
            for index, vectorizer in enumerate(vectorizers):
                terms = [str(t) for t in stored[f"terms{index}"]]
                vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
                vectorizer.idf_ = stored[f"idf{index}"]
            return cls(vectorizers, stored["danger"], float(stored["danger_bias"][0]), stored["kinds"],
                       stored["kind_bias"], tuple(str(k) for k in stored["kind_names"]))


def train(examples: list[tuple[str, str]], weights: Optional[list[float]] = None) -> SafetyClassifier:
    """`examples`: (text, kind or "none"); `weights`: one per example (1 by default)."""
    expanded = [expand(text) for text, _ in examples]
    labels = np.array([label for _, label in examples])
    sample_weight = np.ones(len(examples)) if weights is None else np.asarray(weights, dtype=float)
    vectorizers = _vectorizers()
    matrix = sparse.hstack([v.fit_transform(expanded) for v in vectorizers], format="csr")
    danger = LogisticRegression(C=SETTINGS["C"], solver="liblinear", class_weight="balanced", max_iter=3000)
    danger.fit(matrix, (labels != NONE).astype(int), sample_weight=sample_weight)
    emergencies = labels != NONE
    kinds = LogisticRegression(C=SETTINGS["kind_C"], max_iter=3000, class_weight="balanced")
    kinds.fit(matrix[emergencies], labels[emergencies])
    return SafetyClassifier(vectorizers, danger.coef_[0].astype(np.float32), float(danger.intercept_[0]),
                            kinds.coef_.astype(np.float32), kinds.intercept_.astype(np.float32),
                            tuple(str(c) for c in kinds.classes_))


# --- the corpus -------------------------------------------------------------------------------------

def corpus_examples(path: Path = TRAIN_CORPUS) -> list[tuple[str, str]]:
    """(text, kind) pairs of a safety corpus file: the number gives the kind, null means none."""
    items = read_yaml(path) or []
    out = []
    for item in items:
        number = item.get("number")
        out.append((str(item["text"]), KIND_OF_NUMBER[str(number)] if number else NONE))
    return out


def nlu_examples(folder: Path = NLU_DATA) -> list[tuple[str, str]]:
    """Ordinary messages of the NLU data as "no danger"; its emergency examples with their kind."""
    out = []
    for path in sorted(Path(folder).glob("*.yml")):
        data = read_yaml(path) or {}
        for block in data.get("nlu") or []:
            intent = block.get("intent")
            if not intent:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip()[2:].strip() if line.strip().startswith("- ") else ""
                if not text:
                    continue
                if intent == "urgence_vitale":
                    found = detect_emergency(text)
                    if found is not None:
                        out.append((text, found.kind))
                else:
                    out.append((text, NONE))
    return out


def training_set() -> tuple[list[tuple[str, str]], list[float]]:
    corpus, nlu = corpus_examples(), nlu_examples()
    weights = [1.0] * len(corpus) + [1.0 if kind != NONE else SETTINGS["nlu_weight"] for _, kind in nlu]
    return corpus + nlu, weights


def model_key() -> str:
    digest = hashlib.sha256(repr(sorted(SETTINGS.items())).encode())
    digest.update(TRAIN_CORPUS.read_bytes())
    for path in sorted(NLU_DATA.glob("*.yml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_file(models_dir: Path = MODELS_DIR) -> Path:
    return models_dir / f"safety-{model_key()}.npz"


def ensure_model(models_dir: Path = MODELS_DIR) -> Path:
    """Train and save the classifier when its inputs changed; the path of the current one."""
    target = model_file(models_dir)
    if not target.exists():
        train(*training_set()).save(target)
    return target


_DEFAULT: Optional[SafetyClassifier] = None


def default_classifier() -> SafetyClassifier:
    """The current model, loaded once per process; trained here when no one built it yet."""
    global _DEFAULT
    if _DEFAULT is None:
        target = model_file()
        if not target.exists():
            logger.warning("safety model %s missing: training it now", target.name)
            try:
                ensure_model()
            except OSError:  # read-only checkout: keep it in memory only
                _DEFAULT = train(*training_set())
                return _DEFAULT
        _DEFAULT = SafetyClassifier.load(target)
    return _DEFAULT
