"""The trained model's NLU outside a Rasa server: what `aiguillage classify` and `evaluate` ask it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Optional

from rasa.core.agent import Agent
from rasa.utils.log_utils import configure_structlog


class TrainedNLU:
    """The trained NLU, loaded once; intents only (facts come from bot/)."""

    def __init__(self, model: Path):
        # Rasa logs each parse at debug level on stdout, which is reserved for the JSON results.
        configure_structlog(logging.WARNING)
        logging.getLogger("rasa").setLevel(logging.WARNING)
        # Some components print warnings on stdout as they load (e.g. UnexpecTED in the benchmark's
        # baseline): stdout carries only our results.
        with contextlib.redirect_stdout(sys.stderr):
            self.agent = Agent.load(str(model))

    def intent(self, text: str) -> Optional[str]:
        with contextlib.redirect_stdout(sys.stderr):
            parsed = asyncio.run(self.agent.parse_message(text))
        return (parsed.get("intent") or {}).get("name")
