"""Conversations through the desk channel, the trained model and the real action server."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.conftest import Conversation

REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b")


def events_text(stack, sender: str) -> str:
    with stack["engine"].connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s"), {"s": sender}).all()
    return "\n".join(row[0] for row in rows)


def referrals(stack, reference: str | None = None):
    query = "SELECT reference, level, place_id, channel, facts FROM referrals"
    with stack["engine"].connect() as connection:
        rows = connection.execute(text(query)).all()
    return [r for r in rows if reference is None or r[0] == reference]


def test_acceptance_urgence_gets_reasons_a_nearby_place_and_a_reference(stack, conversation):
    replies = conversation.say("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
                               "jai pas dordi, jsuis a rennes")
    said = Conversation.texts(replies)
    assert "urgence" in said.lower()
    assert "date limite" in said  # a reason, in plain words
    card = Conversation.card(replies)
    assert card["niveau"] == "urgence" and card["raisons"]
    place = card["lieu"]
    assert place["commune"] and place["prochaine_ouverture"] and place["telephone"]
    assert place["distance_km"] < 15
    assert replies[-1]["buttons"][0]["title"].startswith("Oui")
    replies = conversation.say(replies[-1]["buttons"][0]["payload"])
    said = Conversation.texts(replies)
    reference = REFERENCE.search(said).group(0)
    assert Conversation.card(replies)["reference"] == reference
    stored = referrals(stack, reference)
    assert len(stored) == 1 and stored[0][1] == "urgence" and stored[0][2] == place["id"]
    assert stored[0][3] == "desk"


def test_learning_wish_gets_montee_en_competence_and_a_workshop(stack, conversation):
    replies = conversation.say("je voudrais apprendre a faire des visios avec mes petits enfants")
    assert "ville" in Conversation.texts(replies).lower()
    replies = conversation.say("rennes")
    card = Conversation.card(replies)
    assert card["niveau"] == "montee_en_competence"
    with stack["engine"].connect() as connection:
        modalities = connection.execute(text("SELECT modalites_accompagnement FROM places WHERE id = :i"),
                                        {"i": card["lieu"]["id"]}).scalar_one()
    assert "atelier collectif" in modalities


def test_vital_emergency_gets_the_number_at_once(stack, conversation):
    replies = conversation.say("je suis a la rue ce soir")
    assert "115" in Conversation.texts(replies)
    assert any((r.get("custom") or {}).get("numero") == "115" for r in replies)
    assert Conversation.card(replies) is None  # no triage before the number


def test_inclusion_after_questions_answered_in_free_text(stack, conversation):
    replies = conversation.say("jarrive pas a me connecter sur ameli, jai oublie mon identifiant")
    assert "date limite" in Conversation.texts(replies)
    replies = conversation.say("non pas de date")
    replies = conversation.say("un telephone avec internet") if "avec quoi" in Conversation.texts(replies) else replies
    if "préférez" in Conversation.texts(replies):
        replies = conversation.say("quelqu'un qui m'aide souvent")
    if "ville" in Conversation.texts(replies).lower():
        replies = conversation.say("35000")
    assert Conversation.card(replies)["niveau"] == "inclusion"


def test_stop_erases_the_conversation_and_the_referral(stack, conversation):
    replies = conversation.say("je voudrais apprendre a faire des visios avec mes petits enfants")
    replies = conversation.say("rennes")
    replies = conversation.say('/choix{"valeur": "oui"}')
    reference = REFERENCE.search(Conversation.texts(replies)).group(0)
    assert referrals(stack, reference)
    replies = conversation.say("stop")
    assert "effacé" in Conversation.texts(replies)
    # The action's internal signal is consumed by the channel; the desk then tells its page, once, at the
    # end, with nothing else in it (the page clears its screen: tests/browser/test_desk_real_stack.py).
    signals = [r for r in replies if (r.get("custom") or {}).get("type") == "effacer"]
    assert signals == [replies[-1]] == [{"custom": {"type": "effacer"}}]
    assert referrals(stack, reference) == []
    assert events_text(stack, conversation.conversation_id) == ""


def test_asking_for_a_human_gives_a_phone_number(stack, conversation):
    replies = conversation.say("je veux parler a un vrai conseiller")
    assert re.search(r"\d\d[ .]?\d\d", Conversation.texts(replies))


def test_unclear_message_falls_back_to_choices(stack, conversation):
    replies = conversation.say("zkqx wvbn plof")
    assert replies and replies[-1].get("buttons")
    assert "compris" in Conversation.texts(replies) or "numérique" in Conversation.texts(replies)


def test_sensitive_data_is_redacted_before_storage_and_the_person_is_warned(stack, conversation):
    replies = conversation.say("mon mot de passe caf c'est Soleil2024 et mon iban FR76 3000 6000 0112 3456 7890 189")
    assert "mot de passe" in Conversation.texts(replies)
    stored = events_text(stack, conversation.conversation_id)
    assert stored  # the conversation itself is kept...
    assert "Soleil2024" not in stored and "3000 6000" not in stored  # ...without the secrets


def test_bad_requests_get_a_clear_message(stack):
    import httpx

    reply = httpx.post(f"{stack['base']}/webhooks/desk/webhook", json={"message": "bonjour"})
    assert reply.status_code == 400 and "sender" in reply.json()["erreur"]


def test_the_desk_page_forbids_foreign_scripts_and_framing(stack):
    import httpx

    page = httpx.get(f"{stack['base']}/webhooks/desk/", timeout=30)
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    script = httpx.get(f"{stack['base']}/webhooks/desk/static/desk.js", timeout=30)
    assert script.status_code == 200 and script.headers["x-content-type-options"] == "nosniff"


def test_a_body_past_64_kb_is_refused_before_it_is_read_and_the_server_goes_on(stack):
    import httpx

    huge = b'{"sender": "gros", "message": "' + b"a" * (70 * 1024) + b'"}'
    reply = httpx.post(f"{stack['base']}/webhooks/desk/webhook", content=huge,
                       headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 413
    assert Conversation(stack["base"]).say("bonjour")  # the next person is served as usual
