"""The operator's French texts live in bot/ops/cli_messages.py, not in the code of bot/ops/cli/."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bot.ops import cli_messages
from bot.ops.cli_messages import TEXTS

CLI_SOURCES = {path.name: path.read_text(encoding="utf-8")
               for path in sorted((Path(cli_messages.__file__).parent / "cli").glob("*.py"))}
# Calls whose string arguments reach the operator.
SHOWN_BY = {"print", "SystemExit", "ValueError", "getpass"}


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _literals(node: ast.AST):
    """String literals passed directly: constants, f-string parts, concatenations, conditionals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            yield from _literals(part)
    elif isinstance(node, ast.BinOp):
        yield from _literals(node.left)
        yield from _literals(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)


def _hardcoded_texts(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in SHOWN_BY:
            continue
        for arg in node.args:
            found += [(node.lineno, value) for value in _literals(arg)
                      if len(value) > 3 and any(ch.isalpha() for ch in value)]
    return found


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_template_formats_with_its_own_placeholders(key):
    # Numbers suit every placeholder, including those with a format spec ({interval:g}, {kind:<8}).
    values = {field: 1 for field in _fields(TEXTS[key])}
    rendered = cli_messages.text(key, **values)
    assert rendered.strip() and "{" not in rendered and "}" not in rendered


def test_a_missing_value_is_an_error_not_a_silent_gap():
    with pytest.raises(KeyError):
        cli_messages.text("unknown_place")


def test_keys_are_unique_english_identifiers():
    source = Path(cli_messages.__file__).read_text(encoding="utf-8")
    # A repeated key in the dict literal would silently replace the earlier text.
    literal = next(node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Dict))
    keys = [key.value for key in literal.keys]
    assert len(keys) == len(set(keys)) == len(TEXTS)
    assert all(key.isidentifier() and key == key.lower() and key.isascii() for key in TEXTS)


def test_every_key_is_used_by_the_command():
    code = "".join(CLI_SOURCES.values())
    unused = [key for key in TEXTS if f'"{key}"' not in code]
    assert unused == []


def test_texts_keep_the_operator_wording():
    assert cli_messages.text("answer_format", pair="x") == "--answer attend CLE=VALEUR, reçu « x »"
    assert cli_messages.text("notify_polling", interval=30.0) == \
        "Envoi des notifications toutes les 30 s (Ctrl+C pour arrêter)."
    assert cli_messages.text("channel_line", kind="email", target="a@b.fr") == "email    a@b.fr"


def test_the_command_prints_no_hardcoded_text():
    assert len(CLI_SOURCES) >= 8  # the package's modules, not an empty glob
    assert {name: found for name, source in CLI_SOURCES.items() if (found := _hardcoded_texts(source))} == {}


def test_the_hardcoded_text_check_catches_the_old_style():
    old = ('print(f"Lieu inconnu : {place}", file=sys.stderr)\n'
           'raise SystemExit("Paquets manquants : " + names)\n'
           'print(json.dumps(result))\n')
    assert [line for line, _ in _hardcoded_texts(old)] == [1, 2]
