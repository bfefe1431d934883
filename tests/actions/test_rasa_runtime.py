"""Our fixes to Rasa's per-turn hot path keep Rasa's behaviour (bot/actions/rasa_runtime.py), and
our tracker store reads and writes conversations exactly as Rasa's SQL store does."""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib
import inspect
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import QueuePool

from bot.actions import rasa_runtime
from bot.actions.tracker_store import AiguillageTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [saluer]
slots:
  commune:
    type: text
    mappings: [{type: custom}]
""")


@pytest.fixture(scope="module", autouse=True)
def installed():
    rasa_runtime.install()


def test_action_responses_are_still_validated():
    action = RemoteAction("action_aiguiller", None)
    good = {"events": [{"event": "slot", "name": "commune", "value": "Rennes"}],
            "responses": [{"text": "Bonjour"}]}
    assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError) as error:
        action._validate_action_result({"events": [{"event": "slot", "name": 3}], "responses": "non"})
    assert "Failed to validate Action server response" in error.value.message


def test_installing_twice_keeps_one_wrapper():
    first = RemoteAction._validate_action_result
    rasa_runtime.install()
    assert RemoteAction._validate_action_result is first


def _deepcopy_calls_outside_debug_logs(module_name: str) -> list[int]:
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    inside_debug = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "debug"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "structlogger"):
            inside_debug.update(id(child) for child in ast.walk(node))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "deepcopy"
            and isinstance(node.value, ast.Name) and node.value.id == "copy" and id(node) not in inside_debug]


@pytest.mark.parametrize("module_name", rasa_runtime.DEBUG_ONLY_DEEPCOPY_MODULES)
def test_rasa_modules_deep_copy_only_for_debug_logs(module_name):
    # If a Rasa upgrade deep-copies for real in these modules, the shortcut must go.
    assert _deepcopy_calls_outside_debug_logs(module_name) == []


def test_deep_copies_are_made_again_when_debug_logging_is_on():
    processor = importlib.import_module("rasa.core.processor")
    value = {"events": [1, 2]}
    assert processor.copy.deepcopy(value) is value
    logger = logging.getLogger("rasa")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        copied = processor.copy.deepcopy(value)
    finally:
        logger.setLevel(level)
    assert copied == value and copied is not value


def test_event_classes_resolved_as_rasa_does():
    for cls in {c.type_name: c for c in reversed(rasa_runtime.all_subclasses(Event))}.values():
        assert Event.resolve_by_type(cls.type_name) is cls
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("inconnu", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("inconnu")


# --- tracker store ------------------------------------------------------------------------------------


def _store(cls, path):
    # As Rasa builds it from endpoints.yml: the `url` there is passed as `host`.
    return cls(DOMAIN, dialect="sqlite", host=f"sqlite:///{path}", db="aiguillage")


def _conversation(sender: str, start: float) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 1),
        ActionExecuted("action_listen", timestamp=start + 2),
        UserUttered("bonjour", {"name": "saluer", "confidence": 0.9}, timestamp=start + 3),
        SlotSet("commune", "Rennes", timestamp=start + 4),
    ], slots=DOMAIN.slots)


def test_tracker_store_pools_sqlite_connections(tmp_path):
    store = _store(AiguillageTrackerStore, tmp_path / "a.db")
    assert isinstance(store.engine.pool, QueuePool)


def test_only_conversation_events_skip_the_flush_at_each_commit(tmp_path):
    from sqlalchemy import text

    from bot.core.db import make_engine

    store = _store(AiguillageTrackerStore, tmp_path / "a.db")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    ours = make_engine(f"sqlite:///{tmp_path / 'a.db'}")  # referrals and the rest of our tables
    with ours.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def _stored_rows(store) -> list:
    with store.session_scope() as session:
        return [(e.sender_id, e.type_name, e.timestamp, e.intent_name, e.action_name, e.data)
                for e in session.query(store.SQLEvent).order_by(store.SQLEvent.id)]


def _without_repeats(items: list) -> list:
    """Consecutive duplicates removed."""
    return [item for index, item in enumerate(items) if index == 0 or item != items[index - 1]]


def test_same_saves_write_the_same_rows_as_rasa_store(tmp_path):
    async def scenario(store):
        tracker = _conversation("personne-1", 1000.0)
        await store.save(tracker)
        await store.save(tracker)  # nothing new
        tracker.update(ActionExecuted("action_aiguiller", timestamp=1006.0))
        await store.save(tracker)
        loaded = await store.retrieve("personne-1")
        loaded.update(ActionExecuted("action_listen", timestamp=1007.0))
        await store.save(loaded)
        return await store.retrieve("personne-1")

    ours = _store(AiguillageTrackerStore, tmp_path / "ours.db")
    rasa_store = _store(SQLTrackerStore, tmp_path / "rasa.db")
    latest_ours, latest_rasa = asyncio.run(scenario(ours)), asyncio.run(scenario(rasa_store))
    # Rasa counts the latest session's rows to know what is new, and that count leaves out the
    # action_session_start stamped before SessionStarted: its second save of a new tracker writes the
    # last event again. Ours remembers what it saved: the same rows, without that duplicate.
    assert _stored_rows(ours) == _without_repeats(_stored_rows(rasa_store))
    assert len(_stored_rows(ours)) > 5 and _stored_rows(ours) == _without_repeats(_stored_rows(ours))
    assert list(latest_ours.events) == _without_repeats(list(latest_rasa.events))
    assert latest_ours.get_slot("commune") == "Rennes"
    assert latest_ours.latest_action_name == "action_listen"


def test_only_the_latest_session_is_loaded_and_every_session_on_request(tmp_path):
    path = tmp_path / "a.db"
    ours, rasa_store = _store(AiguillageTrackerStore, path), _store(SQLTrackerStore, path)
    first = _conversation("personne-2", 1000.0)
    later = DialogueStateTracker.from_events("personne-2", list(first.events) + [
        ActionExecuted("action_session_start", timestamp=9000.0),
        SessionStarted(timestamp=9001.0),
        ActionExecuted("action_listen", timestamp=9002.0),
    ], slots=DOMAIN.slots)

    async def scenario():
        await ours.save(later)
        return (await ours.retrieve("personne-2"), await rasa_store.retrieve("personne-2"),
                await ours.retrieve_full_tracker("personne-2"), await ours.retrieve("personne-inconnue"))

    latest, latest_rasa, full, unknown = asyncio.run(scenario())
    assert list(latest.events) == list(latest_rasa.events)
    assert [e.timestamp for e in latest.events] == [9001.0, 9002.0]
    assert list(full.events) == list(later.events)
    assert unknown is None


async def two_instances_save_one_conversation(first, second, sender: str):
    """Both stores load the same conversation, each adds its own turn, both save: the tracker after."""
    await first.save(_conversation(sender, 1000.0))
    a, b = await first.retrieve(sender), await second.retrieve(sender)
    a.update(UserUttered("message A", {"name": "informer", "confidence": 1.0}, timestamp=2000.0))
    a.update(ActionExecuted("action_aiguiller", timestamp=2001.0))
    b.update(UserUttered("message B", {"name": "informer", "confidence": 1.0}, timestamp=2002.0))
    b.update(ActionExecuted("action_aiguiller", timestamp=2003.0))
    await first.save(a)
    await second.save(b)
    await second.save(b)  # nothing new: no conflict, no row
    return await first.retrieve(sender)


def user_texts(tracker) -> list:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_two_processes_saving_one_conversation_lose_no_event(tmp_path, caplog):
    """Two instances load the same conversation at once (a lock that failed): both turns are kept, the
    second after the first, and the conflict is logged."""
    from bot.actions.tracker_store import CONFLICTS

    path = tmp_path / "a.db"
    first, second = _store(AiguillageTrackerStore, path), _store(AiguillageTrackerStore, path)
    before = CONFLICTS.count
    with caplog.at_level("WARNING", logger="bot.actions.tracker_store"):
        merged = asyncio.run(two_instances_save_one_conversation(first, second, "personne-3"))
    assert user_texts(merged) == ["bonjour", "message A", "message B"]
    assert CONFLICTS.count == before + 1
    assert "tracker conflict for personne-3" in caplog.text


# --- bounded load: a turn's cost does not grow with the conversation ---------------------------------

STATE_DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [saluer, informer]
actions: [action_aiguiller]
forms:
  formulaire_contact:
    required_slots: [commune]
slots:
  commune:
    type: text
    mappings: [{type: custom}]
  organisme:
    type: text
    mappings: [{type: custom}]
  niveau:
    type: categorical
    values: [urgence, inclusion]
    mappings: [{type: custom}]
""")


def _windowed_store(path, window):
    return AiguillageTrackerStore(STATE_DOMAIN, dialect="sqlite", host=f"sqlite:///{path}", db="aiguillage",
                                  window=window)


def _turn(number: int, clock: float, extra: list) -> list:
    """One turn as Rasa stores it: the person's message, the bot's action and answer, the listen."""
    return [UserUttered(f"message {number}", {"name": "informer", "confidence": 0.9}, timestamp=clock),
            ActionExecuted("action_extract_slots", timestamp=clock + 0.1),
            *extra,
            ActionExecuted("action_aiguiller", timestamp=clock + 0.3),
            BotUttered(f"réponse {number}", timestamp=clock + 0.4),
            ActionExecuted("action_listen", timestamp=clock + 0.5)]


_STATE_EVENTS = st.sampled_from(["commune", "organisme", "niveau", "reset", "restart", "loop", "no_loop",
                                 "pause", "resume", "none"])


def _state_event(kind: str, number: int, clock: float):
    return {"commune": [SlotSet("commune", f"commune {number}", timestamp=clock + 0.2)],
            "organisme": [SlotSet("organisme", None if number % 3 == 0 else f"org {number}", timestamp=clock + 0.2)],
            "niveau": [SlotSet("niveau", "urgence" if number % 2 else "inclusion", timestamp=clock + 0.2)],
            "reset": [AllSlotsReset(timestamp=clock + 0.2)],
            "restart": [Restarted(timestamp=clock + 0.2)],
            "loop": [ActiveLoop("formulaire_contact", timestamp=clock + 0.2)],
            "no_loop": [ActiveLoop(None, timestamp=clock + 0.2)],
            "pause": [ConversationPaused(timestamp=clock + 0.2)],
            "resume": [ConversationResumed(timestamp=clock + 0.2)],
            "none": []}[kind]


def _state(tracker) -> tuple:
    return ({name: slot.value for name, slot in tracker.slots.items()}, tracker.active_loop_name,
            tracker.is_paused(), tracker.latest_message.text, tracker.latest_action_name)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_STATE_EVENTS, max_size=3), min_size=1, max_size=40), st.integers(20, 45))
def test_a_windowed_load_has_the_same_state_as_the_whole_session(tmp_path_factory, turns, window):
    """Loading the last `window` events and the events that still set the state gives the tracker the
    same slots, loop, pause and latest messages as loading the whole session."""
    path = tmp_path_factory.mktemp("window") / "a.db"
    events = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=2.0),
              ActionExecuted("action_listen", timestamp=3.0)]
    for number, kinds in enumerate(turns):
        clock = 10.0 + number
        events += _turn(number, clock, [e for kind in kinds for e in _state_event(kind, number, clock)])
    tracker = DialogueStateTracker.from_events("personne-w", events, slots=STATE_DOMAIN.slots)
    windowed, whole = _windowed_store(path, window), _windowed_store(path, 10 ** 6)

    async def scenario():
        await whole.save(tracker)
        return await windowed.retrieve("personne-w"), await whole.retrieve("personne-w")

    cut, full = asyncio.run(scenario())
    assert len(full.events) == len(events) - 1  # action_session_start is stamped before the session
    assert _state(cut) == _state(full) == _state(tracker)
    assert len(cut.events) <= window + len(STATE_DOMAIN.slots) + 3  # the window and the state events


def test_a_thousand_turns_load_no_more_at_the_end_than_at_the_start(tmp_path):
    """1,000 turns of one person, each loaded, extended and saved as Rasa does: the last 100 loads read
    no more than twice the rows of the first 100 (Rasa's own store reads the whole session), and every
    turn is stored."""
    store = _windowed_store(tmp_path / "a.db", None)
    assert store.window == 200

    async def scenario():
        rows_read = []
        tracker = DialogueStateTracker.from_events("personne-m", [
            ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=2.0),
            ActionExecuted("action_listen", timestamp=3.0)], slots=STATE_DOMAIN.slots)
        tracker.update(SlotSet("commune", "Rennes", timestamp=4.0))
        await store.save(tracker)
        for number in range(1000):
            tracker = await store.retrieve("personne-m")
            rows_read.append(store.loads.last_rows)
            extra = [SlotSet("organisme", f"org {number}", timestamp=10.0 + number)] if number % 7 == 0 else []
            for turn_event in _turn(number, 10.0 + number, extra):
                tracker.update(turn_event)
            await store.save(tracker)
        return rows_read, await store.retrieve("personne-m"), await store.retrieve_full_tracker("personne-m")

    rows_read, last, full = asyncio.run(scenario())
    first, final = sum(rows_read[:100]) / 100, sum(rows_read[-100:]) / 100
    assert final <= 2 * first, (first, final)
    assert max(rows_read) <= 200 + len(STATE_DOMAIN.slots)
    assert last.get_slot("commune") == "Rennes" and last.get_slot("organisme") == "org 994"
    assert len(user_texts(full)) == 1000 and user_texts(full)[-1] == "message 999"
    assert store.loads.windowed > 900


# --- response validation: same verdict as Rasa's schema -------------------------------------------------

from jsonschema.validators import validator_for  # noqa: E402

_SCHEMA = RemoteAction.action_response_format_spec()
_EVENT_NAMES = [b["properties"]["event"]["const"] for b in _SCHEMA["properties"]["events"]["items"]["oneOf"]]
_RASA_VALIDATOR = validator_for(_SCHEMA)(_SCHEMA)
_OURS = rasa_runtime.ResponseValidator(_SCHEMA)
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                    st.lists(st.integers(), max_size=2),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_events = st.one_of(
    st.fixed_dictionaries({"event": st.sampled_from(_EVENT_NAMES + ["inconnu"])},
                          optional={"name": _values, "value": _values, "timestamp": _values, "metadata": _values,
                                    "text": _values, "entities": _values, "parse_data": _values,
                                    "policy": _values, "confidence": _values}),
    _values)
_responses = st.one_of(
    st.fixed_dictionaries({}, optional={"events": st.one_of(st.lists(_events, max_size=4), _values),
                                        "responses": st.one_of(st.lists(_values, max_size=2),
                                                               st.lists(st.fixed_dictionaries({"text": _values}),
                                                                        max_size=2), _values)}),
    _values)


@settings(max_examples=400, deadline=None)
@given(_responses)
def test_response_validator_agrees_with_rasa_schema(response):
    expected = _RASA_VALIDATOR.is_valid(response)
    try:
        _OURS.validate(response)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == expected


def test_typical_action_response_accepted_and_broken_event_refused():
    validator = rasa_runtime.ResponseValidator(_SCHEMA)
    validator.validate({"events": [{"event": "slot", "name": "commune", "value": "Rennes", "timestamp": None},
                                   {"event": "followup", "name": "action_listen"}],
                        "responses": [{"text": "Bonjour", "buttons": []}]})
    with pytest.raises(ValidationError):
        validator.validate({"events": [{"event": "slot", "value": "Rennes"}], "responses": []})  # no name
    with pytest.raises(ValidationError):
        validator.validate({"events": [{"event": "pas_un_evenement"}], "responses": []})


# --- one HTTP session per endpoint --------------------------------------------------------------------


def test_calls_to_an_endpoint_reuse_one_connection():
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    peers = []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": [{"text": str(len(peers))}]})

    async def scenario():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        try:
            answers = [await endpoint.request(json={"next_action": "action_aiguiller"}, method="post")
                       for _ in range(3)]
        finally:
            for session in endpoint.__dict__.get(rasa_runtime._SESSIONS_ATTRIBUTE, {}).values():
                await session.close()
            await runner.cleanup()
        return answers

    answers = asyncio.run(scenario())
    assert [a["responses"][0]["text"] for a in answers] == ["1", "2", "3"]
    assert len(set(peers)) == 1  # one TCP connection for the three calls


# --- graph runner: same answers as with dask --------------------------------------------------------


def test_trained_model_answers_the_same_with_our_graph_runner(monkeypatch, trained_model):
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner

    gc.unfreeze()
    agent = Agent.load(str(trained_model))
    # The loaded model is out of the collector's reach: full collections no longer walk it.
    assert gc.get_freeze_count() > 100_000
    texts = ["jdois faire ma declaration trimestrielle caf avant le 5", "bonjour", "je suis a la rue ce soir",
             "/choix{\"valeur\": \"oui\"}", "azerty qsdf"]

    async def answers(sender_prefix):
        out = []
        for i, text in enumerate(texts):
            parsed = await agent.parse_message(text)
            await agent.log_message(UserMessage(text, sender_id=f"{sender_prefix}-{i}"))
            prediction = await agent.processor.predict_next_for_sender_id(f"{sender_prefix}-{i}")
            out.append((parsed["intent"], parsed.get("entities"), prediction["policy"],
                        prediction["confidence"], prediction["scores"][:3]))
        return out

    ours = asyncio.run(answers("ours"))
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run.__wrapped__)
    with_dask = asyncio.run(answers("dask"))
    assert ours == with_dask
    assert ours[2][0]["name"] == "urgence_vitale"
