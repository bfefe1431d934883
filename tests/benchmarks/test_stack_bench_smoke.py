"""The full-stack benchmark's own logic: reading the bot's replies, counting referrals, the report.

No stack is started and nothing is timed: the script itself measures (bench/stack_bench.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import pytest

from bench import stack_bench as sb
from bench.report import read_section, update_section

CONSENT_REPLY = {"text": "Voulez-vous que j'envoie votre demande à ce lieu ?",
                 "buttons": [{"title": "Oui, envoyer", "payload": '/choix{"valeur": "oui"}'},
                             {"title": "Non", "payload": '/choix{"valeur": "non"}'}]}
COMMUNE_REPLY = {"text": "Dans quelle ville êtes-vous ?",
                 "buttons": [{"title": "Je préfère une aide à distance", "payload": '/choix{"valeur": "a_distance"}'}]}
ENJEU_REPLY = {"text": "Y a-t-il une date limite ?",
               "buttons": [{"title": t, "payload": f'/choix{{"valeur": "{v}"}}'}
                           for t, v in (("Oui", "delai"), ("Lettre", "probleme"), ("Non", "aucun"), ("?", "inconnu"))]}


def done_reply(reference: str) -> list[dict]:
    return [{"text": f"C'est envoyé. Votre numéro : {reference}. Allez à ..."},
            {"custom": {"type": "resultat", "niveau": "urgence", "reference": reference}}]


def test_the_pending_question_is_read_from_the_last_buttons():
    assert sb.question_kind([{"text": "Le lieu le plus proche..."}, CONSENT_REPLY]) == "consentement"
    assert sb.question_kind([COMMUNE_REPLY]) == "commune"
    assert sb.question_kind([ENJEU_REPLY]) == "enjeu"
    assert sb.question_kind([{"text": "Plusieurs villes",
                              "buttons": [{"payload": '/choix{"valeur": "insee:35238"}'}]}]) == "commune_precision"
    assert sb.question_kind([{"text": "Bonjour"}]) is None


def test_the_reference_comes_from_the_card_or_the_text():
    assert sb.reference_in(done_reply("K2F-SAKP")) == "K2F-SAKP"
    assert sb.reference_in([{"text": "C'est envoyé. Votre numéro : MGD-WF9G."}]) == "MGD-WF9G"
    # A card without a reference yet (before consent) is not a referral.
    assert sb.reference_in([{"custom": {"type": "resultat", "reference": None}}, CONSENT_REPLY]) is None


def test_the_person_answers_from_the_script_and_presses_yes_to_consent():
    script = sb.Script("t", ("premier", "second"), {"commune": "Rennes"})
    remaining = ["second"]
    assert sb.next_message(script, [COMMUNE_REPLY], remaining) == ("Rennes", False)
    assert sb.next_message(script, [{"text": "Bonjour"}], remaining) == ("second", False)
    assert remaining == []
    assert sb.next_message(script, [CONSENT_REPLY], remaining) == (sb.CONSENT, False)
    # A question the script did not foresee: first button, and it is counted.
    assert sb.next_message(script, [ENJEU_REPLY], remaining) == ('/choix{"valeur": "delai"}', True)
    assert sb.next_message(script, [{"text": "Au revoir"}], remaining) == (None, False)


async def test_a_conversation_is_driven_to_its_reference():
    said = []

    def bot(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        said.append(message)
        if message == sb.CONSENT:
            return httpx.Response(200, json=done_reply("ADT-TJXR"))
        return httpx.Response(200, json=[COMMUNE_REPLY] if len(said) == 1 else [CONSENT_REPLY])

    script = sb.Script("t", ("je voudrais apprendre",), {"commune": "Rennes"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(bot)) as client:
        result = await sb.run_conversation(client, "http://bot/webhooks/desk/webhook", script, "s-1")
    assert said == ["je voudrais apprendre", "Rennes", sb.CONSENT]
    assert result.reference == "ADT-TJXR" and len(result.latencies) == 3 and result.errors == 0


async def test_a_server_error_ends_the_conversation_as_an_error():
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client:
        result = await sb.run_conversation(client, "http://bot/", sb.SCRIPTS[0], "s-2")
    assert result.errors == 1 and result.reference is None and result.latencies == []


def test_lost_and_duplicated_referrals_are_counted_per_conversation():
    conversations = [sb.ConversationResult("t", "a", [0.1], "AAA-AAAA"),
                     sb.ConversationResult("t", "b", [0.1], "BBB-BBBB"),
                     sb.ConversationResult("t", "c", [0.1], "CCC-CCCC"),
                     sb.ConversationResult("t", "d", [0.1], None)]
    stored = {"a": ["AAA-AAAA"], "b": ["BBB-BBBB", "XXX-XXXX"], "zzz": ["ZZZ-ZZZZ"]}
    check = sb.check_referrals(conversations, stored)
    assert (check.expected, check.written, check.lost, check.duplicated) == (4, 2, 2, 1)
    assert check.shown_not_stored == 1  # c was given a code the database does not hold
    assert check.not_reached == 1       # d never got to the consent


def test_level_figures_are_messages_over_wall_time_and_nearest_rank_percentiles():
    conversations = [sb.ConversationResult("t", str(i), [i / 100, (i + 50) / 100]) for i in range(1, 51)]
    level = sb.LevelResult(10, conversations, wall_seconds=4.0)
    assert level.messages == 100 and level.throughput == 25.0
    assert level.p(50) == pytest.approx(0.50) and level.p(95) == pytest.approx(0.95)
    assert math.isnan(sb.LevelResult(1, [], 1.0).p(95))


def _result(label: str, seconds_per_message: float, f1: float, lost: int = 0) -> sb.StackResult:
    model = sb.TrainedModel(label, Path(f"/nonexistent/{label}.tar.gz"), 12.0, True, size_bytes=3_000_000)
    levels = []
    for concurrency in sb.LEVELS:
        conversations = [sb.ConversationResult("t", f"{label}{concurrency}-{i}", [seconds_per_message] * 3, f"R{i}")
                         for i in range(10)]
        level = sb.LevelResult(concurrency, conversations, wall_seconds=30 * seconds_per_message / concurrency)
        level.referrals = sb.ReferralCheck(10, 10 - lost, 10 - lost, lost, 0)
        level.server_cpu = {"rasa": 30 * seconds_per_message * 0.8, "actions": 30 * seconds_per_message * 0.1}
        levels.append(level)
    scores = {"messages": 100, "intent_macro_f1": f1, "intent_accuracy": f1, "triage_accuracy": 0.9,
              "urgence_recall": 0.95, "emergency_accuracy": 1.0}
    memory = {"rasa": (400_000, 450_000), "actions": (150_000, 160_000)}
    if label == "ours":
        memory["worker"] = (90_000, 95_000)
    return sb.StackResult(model, levels, memory, scores)


def test_unforeseen_questions_are_reported():
    ours = _result("ours", 0.05, 0.9)
    ours.levels[0].conversations[0].improvised = 2
    assert "not foreseen (the person then pressed the first button): ours 1, baseline 0." in \
        sb.render(ours, _result("baseline", 0.2, 0.85))


def test_the_verdicts_compare_with_the_targets():
    met = {v.name: v.met for v in sb.verdicts(_result("ours", 0.05, 0.9), _result("baseline", 0.2, 0.85))}
    assert all(met.values()) and len(met) == 5
    assert met["p99 latency at 50 conversations, ours"] and met["throughput at 50 conversations / at 10, ours"]
    slow = _result("ours", 0.2, 0.8, lost=1)
    slow.level(50).conversations[0].latencies[0] = 1.6  # one message in 30: the p99 at 50 at once
    slow.level(50).wall_seconds = slow.level(10).wall_seconds * 10  # fewer messages/s at 50 than at 10
    missed = {v.name: v.met for v in sb.verdicts(slow, _result("baseline", 0.3, 0.85))}
    assert not any(missed[name] for name in ("throughput at 10 conversations, ours / baseline",
                                             "p95 latency at 1 conversation, ours",
                                             "p99 latency at 50 conversations, ours",
                                             "throughput at 50 conversations / at 10, ours",
                                             "intent macro F1, ours − baseline"))
    assert any("referrals" in name and not ok for name, ok in missed.items())


def test_the_report_section_has_the_table_ratios_and_targets(tmp_path):
    body = sb.render(_result("ours", 0.05, 0.9), _result("baseline", 0.2, 0.85), stamp="Run today.")
    assert "| ours | 10 | 10 | 30 | 200.0 | 50 ms | 50 ms |" in body
    assert "throughput ×4.0" in body and "p95 ÷4.0" in body and "server CPU per message ÷4.0" in body
    assert "| 40 + 5 ms |" in body  # ours: 80 % and 10 % of 50 ms per message
    assert "| throughput at 10 conversations, ours / baseline | 4.0× | ≥ 3× | yes |" in body
    assert "not foreseen" not in body  # every script went as written
    assert "391 MiB (peak 439 MiB)" in body and "12 s (this run)" in body and "3.0 MB" in body
    assert "| 88 MiB (peak 93 MiB) |" in body  # the worker's memory, "-" where it was not measured
    assert body.count("worker RSS") == 1 and "| 146 MiB (peak 156 MiB) | - |" in body
    assert sb.UNGATED_LABEL not in body
    ungated = _result("ours", 0.1, 0.9)
    ungated.model = sb.TrainedModel(sb.UNGATED_LABEL, ungated.model.path, None, False)
    ungated.levels = ungated.levels[1:]
    with_ungated = sb.render(_result("ours", 0.05, 0.9), _result("baseline", 0.2, 0.85), ungated=ungated)
    assert f"| {sb.UNGATED_LABEL} | 50 | 10 | 30 |" in with_ungated and "turn gate off" in with_ungated
    report = tmp_path / "REPORT.md"
    update_section("search", "search figures", report)
    update_section(sb.SECTION, body, report)
    assert read_section("search", report) == "search figures"  # the other bench's section is kept
    assert "intent macro F1" in read_section(sb.SECTION, report)


def test_memory_and_cpu_are_read_from_proc():
    import os

    rss, peak = sb.memory_kib(os.getpid())
    assert 0 < rss <= peak
    assert sb.cpu_seconds(os.getpid()) > 0
    assert sb.memory_kib(2 ** 22 + 12345) == (0, 0)  # no such process


def test_the_baseline_is_the_rasa_init_config_in_french(tmp_path):
    template = tmp_path / "config.yml"
    template.write_text("recipe: default.v1\nassistant_id: x\nlanguage: en\n\npipeline:\n# - name: DIETClassifier\n"
                        "policies:\n", encoding="utf-8")
    text = sb.baseline_config_text(template)
    assert "language: fr" in text and "language: en" not in text and "# - name: DIETClassifier" in text
    installed = sb.baseline_config_text()  # the real template of the installed Rasa
    assert "language: fr" in installed


def test_conversation_counts_come_from_the_command_line():
    assert sb.parse_counts("3,4,5") == (3, 4, 5)
    with pytest.raises(Exception):
        sb.parse_counts("3,4")
    with pytest.raises(Exception):
        sb.parse_counts("0,4,5")


def test_the_profile_counts_samples_under_the_message_handler_only():
    lines = [
        "process 1;main (m.py:1);handle_message (rasa/core/processor.py:157);validate (jsonschema/validators.py:9) 6",
        "process 1;main (m.py:1);handle_message (rasa/core/processor.py:173);save (rasa/core/tracker_store.py:3) 3",
        "process 1;main (m.py:1);handle_message (rasa/core/processor.py:160) 1",
        "process 1;main (m.py:1);serve (sanic/server/runners.py:155) 50",  # the event loop waiting: not counted
    ]
    total, frames = sb.frame_breakdown(lines, sb.PROFILE_ROOTS["rasa"][0])
    assert total == 10
    assert frames == [(6, "validate (jsonschema/validators.py)"), (3, "save (rasa/core/tracker_store.py)")]


def test_the_evaluation_report_is_read_past_what_rasa_prints_first():
    stdout = ("The UnexpecTED Intent Policy is currently experimental {not json}\n"
              '{\n  "messages": 3,\n  "intent_macro_f1": 0.5\n}\n')
    assert sb.parse_evaluation(stdout) == {"messages": 3, "intent_macro_f1": 0.5}
    with pytest.raises(ValueError):
        sb.parse_evaluation("nothing here")


# --- one long conversation (bench/long_conversation_bench.py) -------------------------------------------

def test_long_conversation_report_gives_the_growth_of_both_and_the_verdict():
    from bench import long_conversation_bench as lb

    ours, baseline = lb.LongRun("ours"), lb.LongRun("baseline")
    ours.latencies = [0.040] * 100 + [0.045] * 200 + [0.050] * 100
    baseline.latencies = [0.050 + 0.001 * i for i in range(400)]
    body = lb.render(ours, baseline, 400, stamp="Run now.")
    assert "| turns 1-100 | 100 ms | 100 ms | 40 ms | 40 ms | ÷2.5 |" in body
    assert "| turns 301-400 |" in body and "×1.25" in body
    assert "**met** (×1.25; the baseline ×4.02)" in body
    ours.latencies = ours.latencies[:300] + [0.2] * 100
    assert "**not met**" in lb.render(ours, baseline, 400, stamp="")


def test_measuring_only_ours_never_trains_the_baseline(tmp_path, monkeypatch):
    """`--only ours` is the quick way to try a change: with no baseline cached for the current inputs it
    used to start the baseline's training anyway (10 to 40 minutes) before measuring ours."""
    monkeypatch.setattr(sb, "CACHE_DIR", tmp_path / "cache")  # nothing cached; the real cache untouched
    trained = []

    def fake_train(config, out_dir, name, log_path):
        trained.append(name)
        out_dir.mkdir(parents=True, exist_ok=True)
        return out_dir / f"{name}.tar.gz", 1.0, 1.0

    monkeypatch.setattr(sb, "train", fake_train)
    ours, baseline = sb.prepare_models(tmp_path / "work", skip_training=True, log=lambda _: None, only="ours")
    assert trained == ["ours"] and ours.label == "ours" and baseline is None
