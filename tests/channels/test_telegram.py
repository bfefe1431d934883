"""Telegram channel: the real Sanic blueprint with a fake Rasa, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy
from rasa.core.channels.channel import UserMessage

from bot.channels.telegram.rendering import split_text, utf16_len
from bot.channels.telegram.settings import SECRET_HEADER, TelegramSettings
from bot.channels.telegram.setup import poll_updates
from bot.channels.telegram.stores import MAX_CALLBACK_BYTES, ButtonToken, ChoiceStore, UpdateStore
from bot.channels.telegram.updates import command_text
from bot.core import messages
from bot.ops import cli
from bot.ops.deploy.services import free_port
from connectors.telegram import TelegramInput, TelegramOutput, sender_for
from tests.connectors.test_rate_limits import BURST, DANGER, polite
from tests.fakes.channel_server import ChannelServer
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123:TEST"
SECRET = "s3cret_Token-42"
CHAT = 987654321
OTHER_CHAT = 123456789
REMOTE = '/choix{"valeur": "a_distance"}'
CAF = '/choix{"valeur": "caf"}'
LONG_PAYLOAD = '/choix{"valeur": "une_valeur_vraiment_tres_longue_pour_depasser_soixante_quatre_octets"}'


# --- harness -------------------------------------------------------------------------------------------

class FakeRasa:
    """Plays Rasa: records each UserMessage and writes scripted replies to its output channel."""

    def __init__(self):
        self.received: list[UserMessage] = []
        self.script = lambda text: [{"text": "Bonjour."}]
        self.fail = False

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("rasa down")
        for reply in self.script(message.text):
            await message.output_channel.send_response(message.sender_id, dict(reply))

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


class ServerThread(ChannelServer):
    """The channel's blueprint served by Sanic on a free loopback port, in its own thread and loop."""

    def __init__(self, channel: TelegramInput, rasa: FakeRasa):
        super().__init__(channel, rasa, "/webhooks/telegram")

    def start(self) -> "ServerThread":
        return self  # serving since construction

    @property
    def webhook(self) -> str:
        return f"{self.base}/webhook"


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "telegram-test-key")


@pytest.fixture()
def api():
    fake = FakeTelegramAPI(TOKEN).start()
    yield fake
    fake.stop()


def make_settings(api, **overrides) -> TelegramSettings:
    values = dict(token=TOKEN, secret=SECRET, api_url=api.url, backoff_base=0.01, max_attempts=3,
                  read_timeout=0.5, poll_timeout=0)
    values.update(overrides)
    return TelegramSettings(**values)


@pytest.fixture()
def rasa():
    return FakeRasa()


@pytest.fixture()
def server(api, factory, rasa):
    thread = ServerThread(TelegramInput(make_settings(api), factory=factory), rasa).start()
    yield thread
    thread.stop()


def post(server, update, secret=SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return httpx.post(server.webhook, json=update, headers=headers, timeout=30)


USER = {"id": CHAT, "is_bot": False, "first_name": "Nadia", "language_code": "fr"}
CHAT_JSON = {"id": CHAT, "first_name": "Nadia", "type": "private"}


def message_update(update_id, **content):
    return {"update_id": update_id,
            "message": dict({"message_id": update_id, "from": USER, "chat": CHAT_JSON, "date": 1700000000},
                            **content)}


def callback_update(update_id, data, chat=CHAT):
    return {"update_id": update_id, "callback_query": {
        "id": f"cbq{update_id}", "from": dict(USER, id=chat), "chat_instance": "-1234", "data": data,
        "message": {"message_id": 5, "from": {"id": 4242, "is_bot": True, "first_name": "Aiguillage"},
                    "chat": dict(CHAT_JSON, id=chat), "date": 1700000000, "text": "Pour quelle démarche ?"}}}


def sent(api):
    return api.requests("sendMessage")


def markup(call):
    return json.loads(call["reply_markup"]) if call.get("reply_markup") else None


# --- webhook -------------------------------------------------------------------------------------------

def test_text_message_reaches_rasa_under_a_pseudonym_and_the_reply_is_sent(server, api, rasa):
    answer = post(server, message_update(1, text="Bonjour, j'ai un souci avec la CAF"))
    assert answer.status_code == 200
    assert rasa.texts == ["Bonjour, j'ai un souci avec la CAF"]
    sender = rasa.received[0].sender_id
    assert sender == sender_for(CHAT) and str(CHAT) not in sender
    assert "telegram" not in json.dumps(rasa.received[0].metadata).replace('"channel": "telegram"', "")
    assert [int(c["chat_id"]) for c in sent(api)] == [CHAT]
    assert sent(api)[0]["text"] == "Bonjour." and sent(api)[0]["parse_mode"] == "HTML"


def test_chat_id_is_not_stored_in_our_database(server, api, rasa, factory):
    rasa.script = lambda text: [{"text": "Pour quelle démarche ?", "buttons": [{"title": "CAF", "payload": CAF}]}]
    post(server, message_update(2, text="bonjour"))
    with factory() as session:
        rows = [list(map(str, row)) for table in ("telegram_updates", "telegram_button_tokens")
                for row in session.execute(sqlalchemy.text(f"select * from {table}"))]
    assert len(rows) == 2 and str(CHAT) not in json.dumps(rows)


def test_missing_or_wrong_secret_is_refused_and_nothing_reaches_rasa(server, api, rasa):
    assert post(server, message_update(3, text="bonjour"), secret=None).status_code == 403
    assert post(server, message_update(3, text="bonjour"), secret="wrong").status_code == 403
    assert post(server, message_update(3, text="bonjour"), secret=SECRET + "x").status_code == 403
    assert rasa.received == [] and sent(api) == []
    # The id was not consumed by the refused requests.
    assert post(server, message_update(3, text="bonjour")).status_code == 200
    assert rasa.texts == ["bonjour"]


def test_unconfigured_channel_answers_503_in_french(api, factory, rasa):
    thread = ServerThread(TelegramInput(TelegramSettings(api_url=api.url), factory=factory), rasa).start()
    try:
        answer = post(thread, message_update(4, text="bonjour"))
        assert answer.status_code == 503 and "non configuré" in answer.json()["erreur"]
        assert httpx.get(thread.webhook.rsplit("/", 1)[0] + "/").status_code == 503
    finally:
        thread.stop()
    assert rasa.received == []


def offer(rasa, server, api, update_id, payloads, chat=CHAT) -> list[str]:
    """The bot offers these buttons to the chat; returns their callback_data in order."""
    rasa.script = lambda text: [{"text": "Pour quelle démarche ?",
                                 "buttons": [{"title": f"choix {i}", "payload": p} for i, p in enumerate(payloads)]}]
    post(server, message_update(update_id, text="bonjour", chat=dict(CHAT_JSON, id=chat)))
    rasa.script = lambda text: [{"text": "Merci."}]
    return [row[0]["callback_data"] for row in markup(sent(api)[-1])["inline_keyboard"]]


def test_buttons_become_an_inline_keyboard_and_a_press_is_sent_as_its_payload(server, api, rasa):
    data = offer(rasa, server, api, 10, [CAF, LONG_PAYLOAD])
    assert [row[0]["text"] for row in markup(sent(api)[0])["inline_keyboard"]] == ["choix 0", "choix 1"]
    # Opaque tokens: the payload does not travel to the person's app.
    assert len(set(data)) == 2 and all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data)
    assert not any("choix" in d or "caf" in d for d in data)
    assert post(server, callback_update(11, data[0])).status_code == 200
    assert post(server, callback_update(12, data[1])).status_code == 200
    assert post(server, callback_update(13, data[0])).status_code == 200  # pressed again: still offered
    assert rasa.texts[1:] == [CAF, LONG_PAYLOAD, CAF]
    assert [c["callback_query_id"] for c in api.requests("answerCallbackQuery")] == ["cbq11", "cbq12", "cbq13"]


@pytest.mark.parametrize("forged", [CAF, '/choisir_lieu{"lieu": "demo-000000001"}', "/stop", "~doesnotexist",
                                    "A" * 22, "x" * 64])
def test_a_forged_callback_data_runs_nothing(server, api, rasa, forged):
    """The review: callback_data is whatever the person's app sends. Only a token this chat was
    offered maps to a payload; anything else is acknowledged (the spinner stops) and runs nothing."""
    offer(rasa, server, api, 13, [CAF])
    notices = len(sent(api))
    assert post(server, callback_update(14, forged)).status_code == 200
    assert rasa.texts == ["bonjour"]
    assert [c["callback_query_id"] for c in api.requests("answerCallbackQuery")] == ["cbq14"]
    assert [c["text"] for c in sent(api)[notices:]] == [messages.text("utter_telegram_bouton_expire")]


def test_another_chats_token_runs_nothing_in_this_chat(server, api, rasa):
    theirs = offer(rasa, server, api, 15, [CAF], chat=OTHER_CHAT)[0]
    assert post(server, callback_update(16, theirs)).status_code == 200
    assert rasa.texts == ["bonjour"]
    # The same token works in the chat it was offered to.
    post(server, callback_update(17, theirs, chat=OTHER_CHAT))
    assert rasa.texts == ["bonjour", CAF] and rasa.received[-1].sender_id == sender_for(OTHER_CHAT)


def test_an_offered_button_still_works_after_a_restart(api, factory, rasa):
    first = ServerThread(TelegramInput(make_settings(api), factory=factory), rasa).start()
    try:
        token = offer(rasa, first, api, 18, [LONG_PAYLOAD])[0]
    finally:
        first.stop()
    # A new process (or the other Rasa instance): a new channel object on the same database.
    second = ServerThread(TelegramInput(make_settings(api), factory=factory), rasa).start()
    try:
        assert post(second, callback_update(19, token)).status_code == 200
    finally:
        second.stop()
    assert rasa.texts == ["bonjour", LONG_PAYLOAD]


def test_stop_erases_the_buttons_offered_to_the_chat(server, api, rasa, factory):
    caf, other = offer(rasa, server, api, 20, [CAF, LONG_PAYLOAD])
    theirs = offer(rasa, server, api, 21, [CAF], chat=OTHER_CHAT)[0]
    rasa.script = lambda text: [{"text": "Vos données sont effacées."}, {"custom": {"type": "effacer"}}]
    post(server, message_update(22, text="/stop"))
    rasa.script = lambda text: [{"text": "Merci."}]
    for update_id, token in ((23, caf), (24, other)):
        post(server, callback_update(update_id, token))
    assert rasa.texts == ["bonjour", "bonjour", "/stop"]
    with factory() as session:
        keys = session.execute(sqlalchemy.select(ButtonToken.conversation_key)).scalars().all()
    assert keys == [sender_for(OTHER_CHAT)]  # another chat's buttons stay
    post(server, callback_update(25, theirs, chat=OTHER_CHAT))
    assert rasa.texts[-1] == CAF


def test_only_the_last_offers_of_a_chat_and_not_expired_ones_are_kept(factory):
    store = ChoiceStore(factory, max_offers=3, lifetime=timedelta(hours=1))
    key = sender_for(CHAT)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    offers = [store.issue(key, [f'/choix{{"valeur": "{i}"}}'], now=start + timedelta(minutes=i))[0]
              for i in range(5)]
    now = start + timedelta(minutes=5)
    assert [store.redeem(key, t, now=now) for t in offers] == [None, None] + [f'/choix{{"valeur": "{i}"}}'
                                                                              for i in (2, 3, 4)]
    assert store.redeem(key, offers[-1], now=start + timedelta(minutes=4, hours=1, seconds=1)) is None
    # Issuing later deletes the expired rows of every chat, not only its own.
    store.issue(sender_for(OTHER_CHAT), [CAF], now=start + timedelta(hours=3))
    with factory() as session:
        keys = session.execute(sqlalchemy.select(ButtonToken.conversation_key)).scalars().all()
    assert keys == [sender_for(OTHER_CHAT)]


def test_town_question_offers_the_location_button_and_a_location_becomes_a_position_payload(server, api, rasa):
    rasa.script = lambda text: [{"text": messages.text("utter_ask_commune"),
                                 "buttons": [{"title": "Je préfère une aide à distance", "payload": REMOTE}]}]
    post(server, message_update(20, text="la caf me demande un papier"))
    calls = sent(api)
    assert "inline_keyboard" in markup(calls[0])
    location = markup(calls[-1])["keyboard"][0][0]
    assert location == {"text": "Partager ma position", "request_location": True}

    rasa.script = lambda text: [{"text": "Le lieu le plus proche : ..."}]
    post(server, message_update(21, location={"latitude": 48.117266, "longitude": -1.677793}))
    assert rasa.texts[-1] == '/position{"latitude": 48.117, "longitude": -1.678}'
    assert "48.117266" not in json.dumps(rasa.texts)
    # The next plain reply hides the location keyboard again.
    assert markup(sent(api)[-1]) == {"remove_keyboard": True}


@pytest.mark.parametrize("content, key", [
    ({"voice": {"file_id": "v1", "file_unique_id": "u1", "duration": 3, "mime_type": "audio/ogg"}},
     "utter_telegram_vocal"),
    ({"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}], "caption": "ma carte"},
     "utter_telegram_image"),
    ({"sticker": {"file_id": "s1", "file_unique_id": "u3", "type": "regular", "width": 512, "height": 512,
                  "is_animated": False, "is_video": False}}, "utter_telegram_autre"),
    ({"contact": {"phone_number": "+33612345678", "first_name": "Nadia"}}, "utter_telegram_contact"),
])
def test_media_get_a_kind_reply_and_never_reach_rasa(server, api, rasa, content, key):
    assert post(server, message_update(30, **content)).status_code == 200
    assert rasa.received == []
    call = sent(api)[0]
    assert call["text"] == messages.text(key)
    assert markup(call)["keyboard"][0][0]["request_location"] is True


def test_edited_messages_are_ignored(server, api, rasa):
    edited = {"update_id": 40, "edited_message": {"message_id": 1, "from": USER, "chat": CHAT_JSON,
                                                   "date": 1700000000, "edit_date": 1700000100, "text": "corrigé"}}
    assert post(server, edited).status_code == 200
    assert rasa.received == [] and sent(api) == []


def test_duplicate_update_id_is_processed_once(server, api, rasa):
    update = message_update(50, text="bonjour")
    assert post(server, update).status_code == 200
    assert post(server, update).status_code == 200
    assert rasa.texts == ["bonjour"] and len(sent(api)) == 1


def test_duplicates_are_shared_between_instances(api, factory, rasa):
    first = ServerThread(TelegramInput(make_settings(api), factory=factory), rasa).start()
    second = ServerThread(TelegramInput(make_settings(api), factory=factory), rasa).start()
    try:
        post(first, message_update(51, text="bonjour"))
        post(second, message_update(51, text="bonjour"))
    finally:
        first.stop()
        second.stop()
    assert rasa.texts == ["bonjour"]


def test_failed_rasa_turn_lets_telegram_redeliver(server, api, rasa):
    rasa.fail = True
    assert post(server, message_update(52, text="bonjour")).status_code == 500
    rasa.fail = False
    assert post(server, message_update(52, text="bonjour")).status_code == 200
    assert len(sent(api)) == 1


def test_long_reply_is_split_in_order_and_escaped(server, api, rasa):
    paragraphs = [f"Paragraphe {i} : " + ("mot " * 150).strip() for i in range(12)]
    rasa.script = lambda text: [{"text": "\n\n".join(paragraphs)}]
    post(server, message_update(60, text="bonjour"))
    parts = [c["text"] for c in sent(api)]
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)  # nothing lost, nothing reordered, cut between paragraphs


def test_formatting_characters_are_escaped_and_the_reference_is_bold(server, api, rasa):
    from bot.core.references import new_reference

    reference = new_reference()
    rasa.script = lambda text: [{"text": f"Votre numéro : {reference}. 3 < 5 & *pas gras* _pas italique_ <b>x</b>"}]
    post(server, message_update(61, text="bonjour"))
    text = sent(api)[0]["text"]
    assert f"<b>{reference}</b>" in text
    assert "3 &lt; 5 &amp; *pas gras* _pas italique_ &lt;b&gt;x&lt;/b&gt;" in text


def test_result_card_and_emergency_number_are_rendered(server, api, rasa):
    card = {"type": "resultat", "reference": "K7M-4XPQ", "lieu": {
        "nom": "Espace <Numérique> & Co", "adresse": "2 rue de la Paix", "code_postal": "35000",
        "commune": "Rennes", "prochaine_ouverture": "Ouvert demain à 9 h", "telephone": "02 99 00 00 00",
        "latitude": 48.11, "longitude": -1.68}}
    rasa.script = lambda text: [{"text": "Le lieu le plus proche.", "custom": card},
                                {"text": "Appelez le 115.", "custom": {"type": "urgence_vitale", "numero": "115"}}]
    post(server, message_update(62, text="bonjour"))
    texts = [c["text"] for c in sent(api)]
    block = texts[1]
    assert "<b>Espace &lt;Numérique&gt; &amp; Co</b>" in block
    assert "2 rue de la Paix\n35000 Rennes\nOuvert demain à 9 h" in block
    assert "02 99 00 00 00" in block and "<b>K7M-4XPQ</b>" in block
    assert 'href="https://www.openstreetmap.org/?mlat=48.11000&amp;mlon=-1.68000' in block
    assert texts[2:] == ["Appelez le 115.", "<b>115</b>"]


def test_transient_502_is_retried(server, api, rasa):
    api.fail("sendMessage", 502, "Bad Gateway")
    post(server, message_update(70, text="bonjour"))
    assert len(sent(api)) == 2


def test_timeout_is_retried(server, api, rasa):
    api.slow("sendMessage", 1.5)
    post(server, message_update(71, text="bonjour"))
    assert len(sent(api)) == 2


def test_retry_after_is_honoured(server, api, rasa):
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    post(server, message_update(72, text="bonjour"))
    assert len(sent(api)) == 2 and time.monotonic() - started >= 1.0


def test_400_and_403_are_not_retried(server, api, rasa):
    api.fail("sendMessage", 400, "Bad Request: can't parse entities")
    assert post(server, message_update(73, text="bonjour")).status_code == 200
    assert len(sent(api)) == 1
    api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert post(server, message_update(74, text="bonjour")).status_code == 200
    assert len(sent(api)) == 2


async def test_output_channel_sends_to_an_explicit_chat_id(api, factory):
    channel = TelegramInput(make_settings(api), factory=factory)
    output = channel.get_output_channel()
    assert isinstance(output, TelegramOutput)
    await output.send_text_message(str(CHAT), "Rappel : votre rendez-vous est demain.")
    await channel.close()
    assert int(sent(api)[0]["chat_id"]) == CHAT
    assert TelegramInput(TelegramSettings()).get_output_channel() is None


# --- plain helpers -------------------------------------------------------------------------------------

def test_split_prefers_line_then_word_boundaries():
    assert split_text("aaa bbb\nccc ddd", limit=9) == ["aaa bbb", "ccc ddd"]
    assert split_text("aaaa bbbb cccc", limit=9) == ["aaaa bbbb", "cccc"]
    assert split_text("x" * 20, limit=8) == ["x" * 8, "x" * 8, "x" * 4]
    assert all(utf16_len(c) <= 4 for c in split_text("😀😀😀 😀😀", limit=4))


def test_update_store_prunes_old_ids(factory):
    from datetime import datetime, timedelta, timezone

    store = UpdateStore(factory, retention=timedelta(hours=48))
    old = datetime.now(timezone.utc) - timedelta(days=3)
    assert store.claim(1, now=old) and not store.claim(1, now=old)
    assert store.prune() == 1
    assert store.claim(1)


def test_commands_are_mapped_and_typed_payloads_are_defused():
    assert command_text("/start") == "/saluer"
    assert command_text("/start@aiguillage_bot abc") == "/saluer"
    assert command_text('/position{"latitude": 1, "longitude": 2}').startswith("position")


# --- commands ------------------------------------------------------------------------------------------

def test_telegram_webhook_command_registers_url_and_secret(api, monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_SECRET", SECRET)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_API_URL", api.url)
    url = "https://aiguillage.example.org/webhooks/telegram/webhook"
    assert cli.main(["telegram-webhook", "--url", url, "--drop-pending"]) == 0
    hook = api.webhook
    assert hook["url"] == url and hook["secret_token"] == SECRET
    assert json.loads(hook["allowed_updates"]) == ["message", "callback_query"]
    assert hook["drop_pending_updates"] in ("true", "True", True)
    assert "aiguillage_test_bot" in capsys.readouterr().out


def test_telegram_webhook_command_without_configuration_says_what_is_missing(api, monkeypatch, capsys):
    monkeypatch.delenv("AIGUILLAGE_TELEGRAM_TOKEN", raising=False)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_API_URL", api.url)
    assert cli.main(["telegram-webhook", "--url", "https://x.example/webhooks/telegram/webhook"]) == 2
    assert "AIGUILLAGE_TELEGRAM_TOKEN" in capsys.readouterr().err
    assert api.calls == []


def test_telegram_poll_forwards_updates_to_the_webhook(api, server, rasa, factory, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_SECRET", SECRET)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_API_URL", api.url)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_FORWARD_URL", server.webhook)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_POLL_TIMEOUT", "0")
    token = ChoiceStore(factory).issue(sender_for(CHAT), [CAF])[0]  # offered by an earlier reply
    api.queue_updates(message_update(80, text="bonjour"), callback_update(81, token))
    assert cli.main(["telegram-poll", "--max-iterations", "2"]) == 0
    assert api.requests("deleteWebhook")
    assert rasa.texts == ["bonjour", '/choix{"valeur": "caf"}']
    assert api.requests("answerCallbackQuery") and len(sent(api)) == 2
    # Both updates acknowledged: the last getUpdates asks past them.
    assert int(api.requests("getUpdates")[-1]["offset"]) == 82


async def test_poll_keeps_updates_when_the_webhook_is_down(api):
    settings = make_settings(api, forward_url=f"http://127.0.0.1:{free_port()}/webhooks/telegram/webhook")
    api.queue_updates(message_update(90, text="bonjour"))
    report = await poll_updates(settings, max_iterations=2)
    assert report.forwarded == 0 and report.failed_forwards == 2
    assert all(call.get("offset") in (None, "90") for call in api.requests("getUpdates"))


async def test_poll_stops_on_request(api):
    stop = asyncio.Event()
    stop.set()
    report = await poll_updates(make_settings(api, forward_url="http://127.0.0.1:9/x"), stop=stop)
    assert report.iterations == 0


# --- follow-up and live takeover on Telegram -------------------------------------------------------------

def test_consent_turn_keeps_the_chat_for_the_follow_up_and_a_live_mediator_takes_the_messages(server, api, rasa,
                                                                                              factory):
    from datetime import date, datetime, timezone

    from bot.channels.outbound import TelegramSender
    from bot.directory.models import Place
    from bot.handoff import followup, takeover
    from bot.handoff.referrals import Referral, ReferralRequest, create_referral

    with factory() as session, session.begin():
        session.add(Place(id="p1", pivot="00000000000000", nom="Espace Bréquigny", commune="Rennes",
                          code_postal="35200", adresse="1 rue", horaires="24/7", date_maj=date(2026, 1, 1)))
        session.flush()
        referral = create_referral(session, ReferralRequest(level="urgence", reasons=[], facts={}, place_id="p1",
                                                            channel="telegram", sender_id=sender_for(CHAT)))
        referral_id, reference = referral.id, referral.reference
    rasa.script = lambda text: [{"text": f"C'est envoyé. Votre numéro : {reference}",
                                 "custom": {"type": "resultat", "reference": reference}}]
    post(server, message_update(30, text="oui"))
    with factory() as session:
        contact = followup.contact_for(session, referral_id)
        assert contact.channel == "telegram" and followup.unseal(contact.sealed_address) == str(CHAT)
        assert str(CHAT) not in contact.sealed_address
        session.commit()

    with factory() as session, session.begin():
        takeover.start(session, session.get(Referral, referral_id), None, datetime.now(timezone.utc))
    post(server, message_update(31, text="vous etes la ?"))
    post(server, callback_update(32, ChoiceStore(factory).issue(sender_for(CHAT), [REMOTE])[0]))
    assert rasa.texts == ["oui"]  # the live messages never reached Rasa
    with factory() as session:
        live = takeover.latest_for_referral(session, referral_id)
        relayed = [m.text for m in takeover.messages_of(session, live.id) if m.direction == "personne"]
    assert relayed == ["vous etes la ?", "(a appuyé sur le bouton « a_distance »)"]

    calls = len(sent(api))
    asyncio.run(TelegramSender(make_settings(api)).send(str(CHAT), f"Espace <Bréquigny> : code {reference}"))
    last = sent(api)[calls]
    assert int(last["chat_id"]) == CHAT and last["text"] == f"Espace &lt;Bréquigny&gt; : code <b>{reference}</b>"


# --- rate limits (connectors/admission.py; the desk and the buckets: tests/connectors/test_rate_limits.py) ---------
# Past a sender's limit: no Rasa turn, one polite message (not one per message), a danger still answered
# with its number, and the provider is never asked to redeliver the flood.

def test_a_telegram_flood_runs_its_burst_and_is_told_once(server, api, rasa, stopped_rate_clock):
    for i in range(BURST + 5):
        assert post(server, message_update(100 + i, text="allo")).status_code == 200
    assert len(rasa.received) == BURST
    assert [c["text"] for c in sent(api)].count(polite()) == 1


def test_a_danger_on_telegram_past_the_limit_gets_its_number(server, api, rasa, stopped_rate_clock):
    for i in range(BURST + 1):
        post(server, message_update(200 + i, text="allo"))
    post(server, message_update(300, text=DANGER))
    assert len(rasa.received) == BURST
    assert "3114" in sent(api)[-1]["text"]
