"""Telegram and SMS through the real Rasa server and action server, against fake provider servers."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx

from bot.channels.sms.providers import signed_headers
from tests.conftest import SMS_SECRET, TELEGRAM_SECRET

# In the help command's answer (utter_aide), plain ASCII so that SMS encoding leaves it as is.
HELP_MARK = "quelques questions sur votre"
ERASED_MARK = "vos données sont effacées"  # the SMS channel's own STOP confirmation


def wait_for(predicate, timeout=120.0, context=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out; so far: {context()}")


def telegram_update(update_id: int, chat_id: int, **content) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "fr"}
    return {"update_id": update_id, "message": dict({"message_id": update_id, "from": user,
                                                     "chat": {"id": chat_id, "type": "private"},
                                                     "date": int(time.time())}, **content)}


def post_telegram(stack, update):
    reply = httpx.post(f"{stack['base']}/webhooks/telegram/webhook", json=update,
                       headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, timeout=60)
    assert reply.status_code == 200, reply.text


def telegram_texts(stack, chat_id: int, after: int = 0) -> list[dict]:
    return [c for c in stack["telegram_api"].requests("sendMessage")[after:] if str(c.get("chat_id")) == str(chat_id)]


def test_telegram_location_goes_straight_to_the_nearest_workshop(stack):
    chat = 7000000 + uuid.uuid4().int % 100000
    post_telegram(stack, telegram_update(1, chat,
                                         text="je voudrais apprendre a faire des visios avec mes petits enfants"))
    asked = telegram_texts(stack, chat)
    keyboard = json.loads(asked[-1]["reply_markup"])["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    before = len(stack["telegram_api"].requests("sendMessage"))
    post_telegram(stack, telegram_update(2, chat, location={"latitude": 48.1173, "longitude": -1.6778}))
    answer = "\n".join(c["text"] for c in telegram_texts(stack, chat, before))
    assert "atelier" in answer.lower()
    assert "Tél" in answer
    # The exact position never reached the tracker store.
    with stack["engine"].connect() as connection:
        rows = connection.exec_driver_sql("SELECT data FROM events WHERE data LIKE '%position%'").all()
    assert rows and all("48.1173" not in row[0] for row in rows)


def test_telegram_duplicate_update_is_answered_once(stack):
    chat = 7100000 + uuid.uuid4().int % 100000
    update = telegram_update(99, chat, text="bonjour")
    post_telegram(stack, update)
    post_telegram(stack, update)
    assert len([c for c in telegram_texts(stack, chat) if "Aiguillage" in c["text"]]) == 1


def stack_logs(stack, chars: int = 4000) -> str:
    """End of the Rasa and action server logs: what a timed-out wait needs to be understood."""
    workdir = stack["workdir"]
    return "\n".join(f"--- {name}:\n" + (workdir / name).read_text(errors="replace")[-chars:]
                     for name in ("rasa.log", "actions.log") if (workdir / name).exists())


def post_sms(stack, number: str, text: str, message_id: str | None = None) -> None:
    body = json.dumps({"id": message_id or uuid.uuid4().hex, "from": number, "to": "+33900000000", "text": text,
                       "received_at": "2026-11-26T10:00:00+01:00"}).encode()
    reply = httpx.post(f"{stack['base']}/webhooks/sms/webhook", content=body, timeout=60,
                       headers=dict(signed_headers(SMS_SECRET, body), **{"Content-Type": "application/json"}))
    assert reply.status_code == 200, reply.text


def sms_to(stack, number: str) -> list[str]:
    gateway = stack["sms_gateway"]
    return [r.json()["text"] for r in list(gateway.requests) if r.json()["to"] == number]


def new_mobile(prefix: str) -> str:
    """A fresh French mobile number starting with `prefix` that the SMS channel accepts (some
    ranges, e.g. part of 063x, are not assigned: the channel ignores such senders)."""
    from bot.core.phone import to_e164

    while True:
        number = f"{prefix}{uuid.uuid4().int % 10 ** (12 - len(prefix)):0{12 - len(prefix)}d}"
        if to_e164(number) == number:
            return number


def sms_before_next_answer(stack, number: str) -> list[str]:
    """Sends a distinct message (the help command) and waits for its answer: the channel handles one
    person's messages in order, so whatever the earlier ones caused has happened by then. Returns the
    SMS this person received before that answer."""
    def help_index():
        return next((i for i, t in enumerate(sms_to(stack, number)) if HELP_MARK in t), None)

    post_sms(stack, number, "/aide")
    wait_for(lambda: help_index() is not None, context=lambda: sms_to(stack, number))
    return sms_to(stack, number)[:help_index()]


def sms_until_consent(stack, number: str) -> int:
    """A person asks by SMS to learn, gives the town and is offered to send the request (numbered
    choices); returns how many SMS they have received so far."""
    post_sms(stack, number, "je voudrais apprendre a utiliser internet")
    wait_for(lambda: sms_to(stack, number), context=lambda: stack_logs(stack))
    post_sms(stack, number, "Rennes")
    wait_for(lambda: [t for t in sms_to(stack, number) if "Répondez 1 ou 2" in t])
    return len(sms_to(stack, number))


def test_sms_numbered_choice_gives_a_reference(stack):
    number = new_mobile("+3361")
    post_sms(stack, number, "je voudrais apprendre a utiliser internet")
    wait_for(lambda: sms_to(stack, number))
    post_sms(stack, number, "Rennes")
    consent = wait_for(lambda: [t for t in sms_to(stack, number) if "Répondez 1 ou 2" in t])
    assert "1. Oui" in consent[-1]
    count = len(sms_to(stack, number))
    post_sms(stack, number, "1")
    recap = wait_for(lambda: [t for t in sms_to(stack, number)[count:] if "numéro" in t or "numero" in t],
                     context=lambda: sms_to(stack, number))
    # The reference code itself (the place's phone, which used to share this SMS, moved to the next step's).
    assert re.search(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b", recap[0]), recap[0]


def test_sms_stop_erases_and_confirms_once(stack):
    number = new_mobile("+3362")
    post_sms(stack, number, "je suis a la rue ce soir")
    assert "115" in wait_for(lambda: sms_to(stack, number))[0]
    post_sms(stack, number, "STOP")
    # Wait for the confirmation itself: the 115 answer may take several SMS (the CCAS and a question follow).
    wait_for(lambda: any(ERASED_MARK in t for t in sms_to(stack, number)), context=lambda: sms_to(stack, number))
    from bot.core.pseudonyms import pseudonymise

    with stack["engine"].connect() as connection:
        left = connection.exec_driver_sql("SELECT count(*) FROM events WHERE sender_id = ?",
                                          (pseudonymise("sms:" + number),)).scalar_one()
    assert left == 0
    before_help = sms_before_next_answer(stack, number)
    assert before_help[-1].count(ERASED_MARK) == 1  # the confirmation came last, once: no other answer
    assert sum(ERASED_MARK in t for t in before_help) == 1


def referrals_of(stack, sender_id: str) -> int:
    from bot.core.pseudonyms import pseudonymise

    with stack["engine"].connect() as connection:
        return connection.exec_driver_sql("SELECT count(*) FROM referrals WHERE conversation_key = ?",
                                          (pseudonymise(sender_id),)).scalar_one()


def test_a_telegram_consent_delivered_twice_makes_one_referral(stack):
    from connectors.telegram import sender_for

    chat = 7200000 + uuid.uuid4().int % 100000
    first = 500000 + uuid.uuid4().int % 10**9
    post_telegram(stack, telegram_update(first, chat, text="je voudrais apprendre a utiliser internet"))
    post_telegram(stack, telegram_update(first + 1, chat, text="Rennes"))
    consent = telegram_update(first + 2, chat, text="oui")
    post_telegram(stack, consent)
    post_telegram(stack, consent)  # Telegram redelivers when it did not see our answer in time
    assert referrals_of(stack, sender_for(chat)) == 1


def test_an_sms_consent_delivered_twice_makes_one_referral(stack):
    from bot.channels.sms.store import number_key

    number = new_mobile("+3364")
    count = sms_until_consent(stack, number)
    message_id = uuid.uuid4().hex
    post_sms(stack, number, "1", message_id=message_id)
    post_sms(stack, number, "1", message_id=message_id)  # the gateway retried its webhook
    assert len(sms_before_next_answer(stack, number)) > count  # the consent was answered
    assert referrals_of(stack, number_key(number)) == 1


def test_an_sms_person_asks_for_a_human_and_is_called_back_at_the_place_opening(stack):
    from bot.handoff import helpline

    number = new_mobile("+3365")
    count = sms_until_consent(stack, number)
    post_sms(stack, number, "je veux parler a quelqu'un")
    offer = wait_for(lambda: [t for t in sms_to(stack, number)[count:] if "vous rappelle" in t],
                     context=lambda: sms_to(stack, number)[count:])
    assert "1. Oui, rappelez-moi" in offer[0]
    count = len(sms_to(stack, number))
    post_sms(stack, number, "1")
    wait_for(lambda: [t for t in sms_to(stack, number)[count:] if "vous rappellera" in t],
             context=lambda: sms_to(stack, number)[count:])
    with stack["engine"].connect() as connection:
        rows = connection.exec_driver_sql("SELECT place_id, reason FROM callbacks WHERE caller_pseudonym = ?",
                                          (helpline.caller_pseudonym(number),)).all()
    assert len(rows) == 1 and rows[0][1] == "demande" and rows[0][0]


def test_a_desk_stop_naming_an_sms_conversation_erases_nothing_of_it(stack):
    """The desk page chooses its sender id: sent with an SMS person's conversation id (their number's
    keyed hash), "stop" erases only a desk conversation of that name, never the SMS person's referral."""
    from sqlalchemy import text

    from bot.channels.sms.store import number_key
    from bot.core.pseudonyms import pseudonymise
    from tests.conftest import Conversation

    number = new_mobile("+3367")
    count = sms_until_consent(stack, number)
    post_sms(stack, number, "1")
    wait_for(lambda: len(sms_to(stack, number)) > count, context=lambda: sms_to(stack, number))
    key = number_key(number)

    def stored():
        with stack["engine"].connect() as connection:
            events = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": key}).scalar()
            referrals = connection.execute(text("SELECT count(*) FROM referrals WHERE conversation_key = :k"),
                                           {"k": pseudonymise(key)}).scalar()
        return events, referrals

    before = stored()
    assert before[0] > 0 and before[1] == 1
    assert Conversation(stack["base"], sender=key).say("stop")
    assert stored() == before
