"""`classify` and `evaluate`: the trained understanding and the rules, outside a conversation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.core.settings import PROJECT_ROOT
from bot.handoff.services import Orientation
from bot.ops import cli_messages
from bot.ops.cli.model import ensure_model
from bot.triage.classify import classify
from bot.triage.evaluation import GatesError, evaluate, evaluate_safety, failed_gates, load_cases, read_gates


def _services():
    return Orientation(factory=None)


def _parse_answers(pairs: list[str]) -> dict:
    answers = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(cli_messages.text("answer_format", pair=pair))
        answers[key.strip()] = value.strip()
    return answers


def cmd_classify(args) -> int:
    from bot.actions.trained_nlu import TrainedNLU  # loads Rasa: only the commands that need it pay

    if not args.message and not args.batch:
        print(cli_messages.text("classify_needs_input"), file=sys.stderr)
        return 2
    understanding = TrainedNLU(Path(args.model) if args.model else ensure_model(quiet=True))
    services = _services()

    def one(text: str, answers: dict) -> dict:
        return classify(text, understanding.intent(text), answers, services)

    if args.batch:
        source = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
        with source:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                        raise ValueError(cli_messages.text("batch_text_expected"))
                    result = one(item["text"], item.get("answers") or {})
                except json.JSONDecodeError:
                    result = {"line": number, "error": cli_messages.text("batch_unreadable_line")}
                except ValueError as exc:
                    result = {"line": number, "error": str(exc)}
                print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    try:
        result = one(args.message, _parse_answers(args.answer))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(cli_messages.text("classify_level", level=result["level"]))
        if result["emergency_number"]:
            print(cli_messages.text("classify_call", number=", ".join(result["emergency_numbers"])))
        if result.get("emergency_kind") == "possible":
            print(cli_messages.text("classify_safety_check"))
        for reason in result["reasons"]:
            print(cli_messages.text("classify_reason", reason=reason["texte"]))
        if result["missing"]:
            print(cli_messages.text("classify_missing", missing=", ".join(result["missing"])))
    return 0


def cmd_evaluate(args) -> int:
    from bot.actions.trained_nlu import TrainedNLU  # loads Rasa: only the commands that need it pay

    understanding = TrainedNLU(Path(args.model) if args.model else ensure_model(quiet=True))
    scores = evaluate(load_cases(Path(args.file)), understanding.intent, _services())
    safety = evaluate_safety(load_cases(Path(args.safety)), understanding.intent)
    report = dict(scores.as_dict(), **safety.as_dict(), per_intent=scores.per_intent,
                  safety_by_number={n: {"messages": c, "raised": r, "exact": e}
                                    for n, (c, r, e) in sorted(safety.by_number.items())})
    if args.errors:
        report["errors"] = scores.errors
        report["safety_errors"] = safety.errors
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.gates:
        try:
            failures = failed_gates(dict(scores.as_dict(), **safety.as_dict()), read_gates(PROJECT_ROOT / "README.md"))
        except GatesError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        for line in failures:
            print(cli_messages.text("gate_failed", line=line), file=sys.stderr)
        return 1 if failures else 0
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("classify", help="classer un message (même compréhension et mêmes règles que la conversation)")
    p.add_argument("message", nargs="?")
    p.add_argument("--answer", action="append", metavar="CLE=VALEUR",
                   help="réponse à une question : demarche, enjeu, equipement, souhait, commune")
    p.add_argument("--batch", metavar="FICHIER",
                   help="un objet JSON par ligne avec un champ text ('-' : entrée standard)")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.add_argument("--model", help="modèle Rasa (par défaut : celui des données actuelles)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("evaluate", help="scores sur le jeu de test étiqueté (jamais appris)")
    p.add_argument("--file", default=str(PROJECT_ROOT / "tests" / "nlu_eval" / "heldout.yml"))
    p.add_argument("--safety", default=str(PROJECT_ROOT / "tests" / "nlu_eval" / "safety_test.yml"),
                   help="partie test (figée) du corpus de sécurité")
    p.add_argument("--model")
    p.add_argument("--errors", action="store_true", help="lister les erreurs")
    p.add_argument("--gates", action="store_true",
                   help="échouer (code 1) si un score passe sous son seuil (tableau du README)")
    p.set_defaults(func=cmd_evaluate)
