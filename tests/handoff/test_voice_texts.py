"""Every prompt of the voice menu (domain/responses_voix.yml) is short enough to be understood on the phone
(20 words at most, numbers written in words), and each one is really said in some call: the menu is driven
here directly (bot/handoff/voice/, no Rasa), through every path, and the prompts it uses are recorded."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.core import messages
from bot.core.db import session_scope
from bot.directory.models import Place
from bot.handoff.notifications.config import NotifySettings, set_place_channels
from bot.handoff.notifications.outbox import Dispatcher
from bot.handoff.services import Orientation
from bot.handoff.voice import words as voice_words
from bot.handoff.voice.calls import CallRequest, VoiceSettings
from bot.handoff.voice.menu import VoiceMenu
from bot.ops.cli.database import DEMO_FILE

PARIS = ZoneInfo("Europe/Paris")
SUNDAY_EVENING = datetime(2026, 12, 6, 21, 0, tzinfo=PARIS)
MONDAY_MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
MAX_WORDS = 20
SPOKEN = "utter_voix_"
WRITTEN = ("utter_sms_recap_appel", "utter_sms_recap_appel_reference")


def voice_prompts() -> dict:
    return {key: messages.catalogue().text(key) for key in messages.catalogue().keys() if key.startswith(SPOKEN)}


def words(text: str) -> list[str]:
    return re.sub(r"\{[a-z_]+\}", "X", text).replace("'", " ").split()


def test_every_prompt_has_20_words_at_most_and_no_digit():
    prompts = voice_prompts()
    assert len(prompts) > 40
    too_long = {key: len(words(text)) for key, text in prompts.items() if len(words(text)) > MAX_WORDS}
    assert too_long == {}
    with_digits = {key: text for key, text in prompts.items() if re.search(r"\d", re.sub(r"\{[a-z_]+\}", "", text))}
    assert with_digits == {}  # "tapez un", "cent douze": the voice reads words, not figures


def test_the_word_count_counts_what_a_caller_hears():
    assert len(words("Si vous êtes en danger, raccrochez et appelez le {numero}.")) == 10
    assert len(words("l'adresse")) == 2


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "voice-texts-key")


@pytest.fixture()
def demo(database):
    from bot.directory.importing.importer import import_places

    assert not import_places(database.factory, DEMO_FILE, demo=True).errors
    return database


class Recorder:
    def __init__(self):
        self.used: set[str] = set()
        self.original = voice_words.prompt

    def __call__(self, key, **values):
        self.used.add(key)
        return self.original(key, **values)


class Gateway:
    def __init__(self, fail=False):
        self.sent, self.fail = [], fail

    async def send(self, to, text):
        if self.fail:
            raise RuntimeError("gateway down")
        self.sent.append((to, text))
        return "id"


class AcceptingWebhook:
    async def send(self, notification):
        return "accepted"


def make_menu(demo, now=SUNDAY_EVENING, transfer="", fail_sms=False, delivery="presenter"):
    """delivery: what the places do with a referral: "presenter" (nothing), "espace" (a console account),
    "lieu" (a channel that accepts it)."""
    clock = lambda: now  # noqa: E731
    settings = VoiceSettings(public_url="https://aiguillage.example.fr/webhooks/voice/webhook", auth_token="t",
                             transfer_number=transfer, hours="Mo-Fr 09:00-17:00; PH off")
    if delivery == "lieu":
        with session_scope(demo.factory) as session:
            for place_id in session.execute(select(Place.id)).scalars():
                set_place_channels(session, place_id, webhooks=[("https://lieu.example/hook", "secret")])
    orientation = Orientation(demo.factory, clock=clock,
                              place_has_console=lambda session, place_id: delivery == "espace",
                              dispatcher=Dispatcher(demo.factory, NotifySettings(),
                                                    senders={"webhook": AcceptingWebhook()}))
    return VoiceMenu(demo.factory, orientation, settings, send_sms=Gateway(fail_sms).send, clock=clock)


async def call(menu, keys, number="+33612345678", first=None) -> list[str]:
    """The call with these answers ("~words" is speech, "" silence); what was said at each step."""
    sid, said = uuid.uuid4().hex, []
    fields = [first or {}] + [({"speech": k[1:]} if k.startswith("~") else {"digits": k}) for k in keys]
    for turn, extra in enumerate(fields):
        root = ET.fromstring(await menu.answer(CallRequest(call_sid=sid, caller=number, turn=turn, **extra)))
        said.append(" ".join(e.text or "" for e in root.iter("Say")))
    return said


PATHS = [
    # (clock, transfer number, SMS fails, caller, answers[, what the place does with the referral])
    (SUNDAY_EVENING, "", False, "+33612345678", ["1", "1", "35000", "1", "1", "2", "1", "1"]),  # urgence, all yes
    (SUNDAY_EVENING, "", False, "+33612345678", ["1", "1", "35000", "1", "1", "2"], "espace"),  # a console
    (SUNDAY_EVENING, "", False, "+33612345678", ["1", "1", "35000", "1", "1", "2"], "lieu"),  # a channel took it
    # A deadline said aloud on Sunday evening; the place opens on Monday at 9 (the promise follows the dates).
    (SUNDAY_EVENING, "", False, "+33612345678", ["~je dois faire ma declaration caf avant vendredi", "35000", "1",
                                                 "3"]),  # before the deadline: vite
    (SUNDAY_EVENING, "", False, "+33612345678", ["~ma declaration caf est a faire avant demain", "35000", "1",
                                                 "3"]),  # on the deadline's day
    (SUNDAY_EVENING, "", False, "+33612345678", ["~ma declaration caf c'est pour ce soir", "35000", "1",
                                                 "3"]),  # after the deadline
    (SUNDAY_EVENING, "", False, "+33612345678", ["3", "3", "", "", "1", "", "", "1", "", "00000", "35000", "2",
                                                 "35000", "1", "3", "1", "2"]),  # inclusion, misses, SMS no ref
    (SUNDAY_EVENING, "", True, "+33612345678", ["7", "35000", "1", "3", "1"]),  # learning, the SMS fails
    (SUNDAY_EVENING, "", False, "+33612345678", ["", "", "", "1"]),  # no answer: the callback
    (SUNDAY_EVENING, "", False, "anonymous", ["", "8", "", "1"]),  # a hidden number: no callback possible
    (SUNDAY_EVENING, "", False, "+33612345678", ["1", "9", "", "", "1", "13001"]),  # 9, enjeu misses; far away
    (SUNDAY_EVENING, "", False, "+33612345678", ["1", "1", "13001", "1"]),  # nothing near
    (SUNDAY_EVENING, "", False, "+33612345678", ["~mon mari me frappe"]),  # a vital emergency said
    (SUNDAY_EVENING, "", False, "+33612345678", ["~aidez moi on me menace", "", "2"]),  # the safety question
    (SUNDAY_EVENING, "", False, "+33612345678", ["1", "1", "35500", "1", "3", "2", "2"]),  # remote help
    (MONDAY_MORNING, "", False, "+33299000000", ["1", "1", "35000", "1", "3"]),  # open now, a landline
    (MONDAY_MORNING, "+33299111111", False, "+33612345678", []),  # office hours: a person
]


async def test_every_prompt_is_said_in_some_call(demo, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(voice_words, "prompt", recorder)
    for now, transfer, fail, number, keys, *delivery in PATHS:
        await call(make_menu(demo, now, transfer, fail, *delivery), keys, number=number)
    unused = set(voice_prompts()) | set(WRITTEN)
    assert unused - recorder.used == set()
