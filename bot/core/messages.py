"""The French texts people read, loaded from the Rasa domain's responses.

The domain folder is the single home of user-facing sentences. Rasa renders them in the
conversation; this module renders the same templates for everything outside Rasa (classify
CLI, reasons, recaps, slips, channels), with the same placeholder rules.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot.core.settings import get_settings
from bot.core.yaml_files import read_yaml

# One pass: escaped braces and placeholders, so a filled-in value is never unescaped again.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Catalogue:
    responses: dict

    @classmethod
    def load(cls, domain_dir: Path) -> "Catalogue":
        responses: dict = {}
        files = sorted(domain_dir.glob("*.yml")) if domain_dir.is_dir() else [domain_dir]
        for path in files:
            data = read_yaml(path) or {}
            responses.update(data.get("responses") or {})
        return cls(responses=responses)

    def variation(self, key: str, conditions: Optional[dict] = None) -> dict:
        try:
            variations = self.responses[key]
        except KeyError as exc:
            raise KeyError(f"unknown response {key}") from exc
        conditions = conditions or {}
        for variation in variations:
            conds = variation.get("condition")
            if conds and all(conditions.get(c["name"]) == c["value"] for c in conds):
                return variation
        for variation in variations:
            if not variation.get("condition"):
                return variation
        return variations[0]

    def text(self, key: str, conditions: Optional[dict] = None, **values) -> str:
        return fill(self.variation(key, conditions).get("text", ""), values)

    def buttons(self, key: str) -> list[dict]:
        return [{"title": fill(b["title"], {}), "payload": fill(b["payload"], {})}
                for b in self.variation(key).get("buttons", [])]

    def keys(self) -> list[str]:
        return list(self.responses)


def fill(template: str, values: dict) -> str:
    """Fill {name} placeholders and unescape {{ }} as Rasa's interpolator does."""
    def replace(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0]
        return str(values[name]) if name in values else token

    return _TOKEN.sub(replace, template)


@functools.lru_cache(maxsize=4)
def _catalogue_for(domain_dir: str) -> Catalogue:
    return Catalogue.load(Path(domain_dir))


def catalogue() -> Catalogue:
    return _catalogue_for(str(get_settings().domain_dir))


def text(key: str, **values) -> str:
    return catalogue().text(key, **values)


def level_label(level: str) -> str:
    return text(f"utter_niveau_{level}")


def reason_text(code: str) -> str:
    return text(f"utter_raison_{code}")


def join_reasons(codes: list[str]) -> str:
    return " ; ".join(reason_text(c) for c in codes) + "."  # French puts a space before ";"
