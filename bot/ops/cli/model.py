"""The trained model: the hash of its inputs, its path under models/, training when they change."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from bot.core.settings import PROJECT_ROOT
from bot.ops import cli_messages
from bot.triage.safety.classifier import ensure_model as ensure_safety_model

MODEL_INPUTS = ("config.yml", "domain", "data")


def inputs_hash(root: Path = PROJECT_ROOT, config: str = "config.yml") -> str:
    """Hash of everything training reads: the model is rebuilt only when this changes."""
    digest = hashlib.sha256()
    paths = [root / config] + [p for name in MODEL_INPUTS[1:] for p in sorted((root / name).rglob("*"))]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT, config: str = "config.yml") -> Path:
    return root / "models" / f"aiguillage-{inputs_hash(root, config)}.tar.gz"


def ensure_model(config: str = "config.yml", quiet: bool = False) -> Path:
    """The Rasa model for the current data, trained if needed; the safety classifier too (its own corpus
    and cache key, models/safety-<hash>.npz), so that no server trains it on its first message."""
    safety = ensure_safety_model()
    if not quiet:
        print(cli_messages.text("safety_model", name=safety.name), file=sys.stderr)
    target = model_path(config=config)
    if target.exists():
        if not quiet:
            print(cli_messages.text("model_up_to_date", name=target.name), file=sys.stderr)
        return target
    print(cli_messages.text("model_training", name=target.name), file=sys.stderr)
    command = [sys.executable, "-m", "rasa", "train", "--domain", "domain", "--config", config, "--data", "data",
               "--out", "models", "--fixed-model-name", target.name[: -len(".tar.gz")]]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, stdout=sys.stderr)
    return target


def cmd_train(args) -> int:
    ensure_model(config=args.config)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="entraîner le modèle si ses entrées ont changé")
    p.add_argument("--config", default="config.yml")
    p.set_defaults(func=cmd_train)
