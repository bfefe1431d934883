"""Property-based tests of the message path without Rasa: understanding, then the triage conversation on
a real SQLite database with the demo directory (bot.triage.dialogue + bot.handoff.services)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from bot.core import messages
from bot.triage.dialogue import Turn, handle
from bot.triage.understanding import CHOICE_SYNONYMS, extract_facts, facts_from_message, match_choice
from tests.strategies import (
    FRENCH_SMS,
    examples,
    hostile_text,
    hostile_text_with_surrogates,
    keyed_database,
    secrets_,
    text_with_secrets,
)

THURSDAY_10H = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))

INTENTS = ["saluer", "au_revoir", "remercier", "aide", "recommencer", "parler_humain", "stop", "hors_sujet",
           "besoin_social", "refus_numerique", "demarche", "apprendre", "accompagnement", "informer", "oui", "non",
           "ne_sait_pas", "urgence_vitale", "choix", "position", "nlu_fallback"]
CHOICES = ["oui", "non", "a_distance", "plus_loin", "ligne_aide", "apprendre", "insee:35238", "insee:93066",
           "insee:97411", "insee:99999", "insee:", "insee:<script>", "delai", "probleme", "aucun", "inconnu",
           "telephone", "ordinateur", "faire_pour", "regulier", "caf", "ameli", "impots", "autre"]

PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")  # {name}, not {{escaped}}

# Keys facts_from_message may return, with the type of their value.
FACT_TYPES = {"organisme": str, "domaine": str, "demarche": str, "enjeu": str, "enjeux": list, "equipement": str,
              "blocage": str, "barriere": str, "besoins": list, "recurrent": bool, "debutant": bool,
              "apprentissage": bool, "sujet": str, "souhait": str, "accompagnement_demande": bool,
              "hors_champ": str, "refus_explicite": bool, "redacteur": str, "echeance": str,
              "appareil": str}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- understanding ---------------------------------------------------------------------------------

@settings(max_examples=examples(80))
@given(st.one_of(hostile_text(), hostile_text_with_surrogates(), text_with_secrets().map(lambda c: c[0])),
       st.one_of(st.none(), st.sampled_from(INTENTS), hostile_text(40, allow_long=False)))
@example("jdois faire ma declaration trimestrielle caf avant le 5", None)  # a resolved deadline: `echeance`
@example("je refuse internet, je veux un papier", None)  # a refusal said in words: `refus_explicite`
def test_facts_are_codes_of_stable_types_and_never_the_message_itself(text_in, intent):
    facts = facts_from_message(text_in, intent)
    assert isinstance(facts, dict)
    for key, value in facts.items():
        assert key in FACT_TYPES, key
        assert isinstance(value, FACT_TYPES[key]), (key, value)
        if isinstance(value, list):
            assert all(isinstance(v, str) for v in value)
    if "echeance" in facts:
        assert ISO_DATE.fullmatch(facts["echeance"]), facts["echeance"]
    # Facts travel to mediators: they are short codes, never a piece of what was typed.
    for value in facts.values():
        for item in (value if isinstance(value, list) else [value]):
            if isinstance(item, str):
                assert len(item) <= 40 and item.isascii()
    assert facts_from_message(text_in, intent) == facts  # deterministic


@settings(max_examples=examples(80))
@given(st.sampled_from(sorted(CHOICE_SYNONYMS) + ["alternatives", "commune", "inconnue"]),
       st.one_of(hostile_text(), hostile_text_with_surrogates(), st.sampled_from(FRENCH_SMS)))
def test_match_choice_returns_one_of_the_question_codes_or_none(question, answer):
    code = match_choice(question, answer)
    assert code is None or code in CHOICE_SYNONYMS.get(question, {})


@settings(max_examples=examples(20))
@given(secrets_())
def test_facts_of_a_message_with_a_secret_hold_no_trace_of_it(secret):
    facts = extract_facts(f"bonjour je dois faire ma declaration caf {secret.sentence} je suis a rennes")
    assert not secret.found_in(json.dumps(facts))


# --- the conversation on a real database -----------------------------------------------------------

@pytest.fixture(scope="module")
def orientation(tmp_path_factory):
    from bot.core.settings import Settings
    from bot.directory.importing.importer import import_places
    from bot.handoff.services import Orientation
    from bot.ops.cli.database import DEMO_FILE

    with keyed_database(tmp_path_factory.mktemp("prop-dialogue"), "prop-dialogue-key") as factory:
        assert not import_places(factory, DEMO_FILE, demo=True).errors
        yield Orientation(factory, Settings(), clock=lambda: THURSDAY_10H)


def check_replies(replies) -> None:
    """Every reply renders to French text with all its placeholders filled."""
    assert replies, "a turn must always answer something"
    catalogue = messages.catalogue()
    for reply in replies:
        template = catalogue.variation(reply.key).get("text", "")
        missing = [name for name in PLACEHOLDER.findall(template) if name not in reply.values]
        assert not missing, (reply.key, missing)
        rendered = reply.text()
        assert isinstance(rendered, str) and rendered.strip()
        for button in reply.buttons or []:
            assert isinstance(button["title"], str) and button["title"].strip()
            assert isinstance(button["payload"], str) and button["payload"].startswith("/")


def stored_text(engine) -> str:
    """Every column of every row of every table, as one string (what a database dump would show)."""
    out = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                out.extend("" if v is None else (v.hex() if isinstance(v, bytes) else str(v)) for v in row)
    return "\n".join(out)


def assert_nothing_leaked(orientation, state, secrets) -> None:
    dump = stored_text(orientation.factory.kw["bind"])
    state_json = json.dumps(state, ensure_ascii=False, default=str)  # the Rasa slot "etat" is stored too
    for secret in secrets:
        assert not secret.found_in(dump) and not secret.found_in(state_json), secret


coordinates = st.one_of(st.none(), st.floats(min_value=-90, max_value=90), st.floats())


@st.composite
def hostile_turns(draw, sender: str):
    """One turn as Rasa would hand it over: free text, a pressed button, or a shared location."""
    kind = draw(st.sampled_from(["text", "text", "secret", "button", "location"]))
    intent = draw(st.one_of(st.none(), st.sampled_from(INTENTS)))
    secrets = []
    if kind == "button":
        value = draw(st.one_of(st.sampled_from(CHOICES), hostile_text(40, allow_long=False)))
        return Turn(text=f'/choix{{"valeur": "{value}"}}', intent="choix", choice=value, sender_id=sender), secrets
    if kind == "location":
        return Turn(text="/position", intent="position", latitude=draw(coordinates), longitude=draw(coordinates),
                    sender_id=sender), secrets
    if kind == "secret":
        body, secrets = draw(text_with_secrets(max_secrets=2, max_size=300))
    else:
        body = draw(st.one_of(hostile_text(), st.sampled_from(FRENCH_SMS)))
    return Turn(text=body, intent=intent, sender_id=sender), secrets


@settings(max_examples=examples(30))
@given(st.data())
def test_any_sequence_of_hostile_turns_is_answered_and_stores_no_secret(orientation, data):
    sender = data.draw(st.text("abcdef0123456789", min_size=1, max_size=12), label="sender")
    turns = data.draw(st.lists(hostile_turns(sender), min_size=1, max_size=7), label="turns")
    state, secrets = None, []
    for turn, turn_secrets in turns:
        secrets += turn_secrets
        replies, state = handle(state, turn, orientation)
        check_replies(replies)
        json.dumps(state)  # the state lives in a Rasa slot: it must stay plain JSON
    assert_nothing_leaked(orientation, state, secrets)


URGENT_IN_RENNES = "jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, jsuis a rennes"
ANSWERS = {"enjeu": "delai", "equipement": "aucun", "souhait": "faire_pour", "demarche": "caf",
           "commune_precision": "insee:35238", "alternatives": "a_distance", "consentement": "oui"}


@settings(max_examples=examples(20))
@given(text_with_secrets(max_secrets=3, max_size=300), st.lists(secrets_(), min_size=1, max_size=4),
       st.sampled_from(["desk", "sms", "telegram", "<script>", ""]))
def test_a_referral_made_from_messages_full_of_secrets_stores_none_of_them(orientation, opener, more, channel):
    """A person who types secrets all along still gets a referral; the stored referral holds none of them."""
    first_text, secrets = opener
    secrets = secrets + more
    sender = f"prop-{uuid.uuid4().hex[:8]}"
    state = None
    replies, state = handle(state, Turn(text=f"{first_text} {URGENT_IN_RENNES}", intent="demarche",
                                        channel=channel, sender_id=sender), orientation)
    check_replies(replies)
    for extra in more + [None] * 8:
        pending = state.get("pending")
        if state.get("reference"):
            break
        if pending == "commune":
            turn = Turn(text=f"Rennes {extra.sentence if extra else ''}", channel=channel, sender_id=sender)
        elif pending in ANSWERS:
            turn = Turn(text=extra.sentence if extra else "/choix", intent="choix", choice=ANSWERS[pending],
                        channel=channel, sender_id=sender)
        else:
            turn = Turn(text=extra.sentence if extra else "ok", channel=channel, sender_id=sender)
        replies, state = handle(state, turn, orientation)
        check_replies(replies)
    assert state.get("reference"), state  # the conversation did reach a referral
    from bot.handoff.referrals import Referral

    with orientation.factory() as session:
        stored = session.query(Referral).filter_by(reference=state["reference"]).one()
        row = {c.key: getattr(stored, c.key) for c in inspect(Referral).mapper.column_attrs}
    assert stored.level == state["level"]
    row_text = json.dumps(row, ensure_ascii=False, default=str)
    for secret in secrets:
        if secret.kind == "mot_de_passe":
            assert secret.value not in row_text
        else:
            assert not secret.found_in(row_text)
    assert_nothing_leaked(orientation, state, secrets)


@settings(max_examples=examples(30))
@given(st.one_of(st.floats(), st.integers(-10 ** 6, 10 ** 6).map(float)),
       st.one_of(st.floats(), st.integers(-10 ** 6, 10 ** 6).map(float)))
def test_a_shared_location_of_any_value_is_answered(orientation, latitude, longitude):
    """Coordinates come from a payload anyone can type on the desk ("/position{...}"): NaN, inf, out of range."""
    _, state = handle(None, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"), orientation)
    replies, state = handle(state, Turn(text="/position", intent="position", latitude=latitude,
                                        longitude=longitude), orientation)
    check_replies(replies)
    # A position is kept only if it is a place on Earth (it is then searched around and shown on a map).
    lat, lon = state["facts"].get("latitude"), state["facts"].get("longitude")
    assert lat is None or -90 <= lat <= 90, lat
    assert lon is None or -180 <= lon <= 180, lon


def _button(value: str) -> Turn:
    return Turn(text="/choix", intent="choix", choice=value)


# Real conversations that stop on each pending question (checked: demarche, enjeu, equipement, souhait,
# commune, commune_precision, alternatives, consentement), and a fresh one.
CAF = Turn(text="je voudrais faire ma declaration caf", intent="demarche")
VISIO = Turn(text="je voudrais apprendre a faire des visios", intent="apprendre")
PREFIXES = [(), (Turn(text="bonjour", intent="saluer"),), (CAF,), (CAF, _button("aucun")),
            (CAF, _button("aucun"), _button("telephone")), (VISIO,), (VISIO, Turn(text="saint denis")),
            (VISIO, Turn(text="Marseille")), (Turn(text=URGENT_IN_RENNES, intent="demarche"),)]
entity_values = st.one_of(st.sampled_from(CHOICES), hostile_text(40, allow_long=False), st.none(), st.booleans(),
                          st.integers(), st.integers(10 ** 300, 10 ** 400), st.floats(),
                          st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                               max_size=2))


@settings(max_examples=examples(40))
@given(st.sampled_from(PREFIXES), entity_values, entity_values, entity_values)
def test_a_typed_payload_with_any_json_value_is_answered(orientation, prefix, valeur, latitude, longitude):
    """On the desk or by SMS anyone can type '/choix{"valeur": ...}' or '/position{...}': Rasa hands the JSON
    values over as entities, of any type. The action must read them without crashing, whatever is pending."""
    from rasa_sdk import Tracker

    from bot.actions.triage_actions import turn_from

    state = None
    for turn in prefix:
        _, state = handle(state, turn, orientation)
    entities = [{"entity": "valeur", "value": valeur}, {"entity": "latitude", "value": latitude},
                {"entity": "longitude", "value": longitude}]
    tracker = Tracker("prop-payload", {}, {"text": "/choix", "intent": {"name": "choix"}, "entities": entities},
                      [], False, None, {}, None)
    replies, new = handle(state, turn_from(tracker), orientation)
    check_replies(replies)
    json.dumps(new)
