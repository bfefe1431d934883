"""One call to the voice menu through the real stack: the Rasa server with our channels (credentials.yml),
the trained NLU reading a spoken answer, the demo directory, the referral in the database and the SMS recap
on the fake gateway."""

from __future__ import annotations

import random
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.sms.providers import twilio_signature
from bot.handoff.recap import recap_of_referral
from bot.handoff.referrals import Referral
from tests.conftest import VOICE_TOKEN


def test_a_call_by_speech_and_keypad_ends_with_a_referral_and_an_sms(stack):
    url = f"{stack['base']}/webhooks/voice/webhook"
    number = f"+3361{random.randint(0, 9_999_999):07d}"
    sid, step = "CA" + uuid.uuid4().hex, 0

    def post(**fields) -> ET.Element:
        nonlocal step
        signed_url = url if step == 0 else f"{url}?n={step}"
        params = {"CallSid": sid, "From": number, "To": "+33100000000", "CallStatus": "in-progress", **fields}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": twilio_signature(VOICE_TOKEN, signed_url, sorted(params.items()))}
        reply = httpx.post(signed_url, content=urlencode(params).encode(), headers=headers, timeout=60)
        assert reply.status_code == 200, reply.text
        root = ET.fromstring(reply.text)
        gather = root.find("Gather")
        if gather is not None:
            step = int(parse_qs(urlsplit(gather.get("action")).query)["n"][0])
        return root

    def said(root) -> str:
        return " ".join(e.text or "" for e in root.iter("Say"))

    assert httpx.post(url, content=b"CallSid=x", timeout=30).status_code == 403  # unsigned
    first = post()
    assert "appelez le cent douze" in said(first)
    where = post(SpeechResult="la caf m'a coupé mes allocations", Confidence="0.8")  # through the real NLU
    assert "code postal" in said(where)
    check = post(Digits="35000")
    assert "trente-cinq, zéro zéro zéro" in said(check)
    place = post(Digits="1")
    assert "C'est urgent" in said(place) and "Leur téléphone : zéro deux" in said(place)
    sent = post(Digits="2")
    assert "Votre numéro de demande" in said(sent)
    texted = post(Digits="1")
    assert "Le SMS est parti" in said(texted)
    goodbye = post(Digits="2")
    assert goodbye.find("Hangup") is not None

    with Session(stack["engine"]) as session:
        referral = session.execute(select(Referral).where(Referral.channel == "voice")
                                   .order_by(Referral.id.desc())).scalars().first()
        assert referral is not None and referral.level == "urgence"
        assert referral.facts.get("organisme") == "caf"
        assert "appel téléphonique" in recap_of_referral(referral).referrer
        reference = referral.reference
    gateway = stack["sms_gateway"]
    texts = [text for to, text in zip(gateway.recipients(), gateway.texts()) if to == number]
    assert len(texts) == 1 and reference in texts[0]
