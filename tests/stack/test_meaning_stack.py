"""Issue 10 through the real stack, on the desk page's webhook and by SMS: the safety check, a correction
in mid-conversation, an answer that does not fit, and "pas urgent"."""

from __future__ import annotations

import pytest

from bot.channels.sms import choices as sms_choices
from bot.channels.sms.encoding import gsm7_encodable, prepare, segments_of
from bot.core import messages
from tests.conftest import Conversation
from tests.stack.test_channels_stack import new_mobile, post_sms, sms_to, stack_logs, wait_for

INDIRECT = "je serai plus là le mois prochain, c'est pas la peine de me rappeler"


def buttons(replies) -> list[dict]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def sms_after(stack, number, count, predicate=lambda t: True):
    return wait_for(lambda: [t for t in sms_to(stack, number)[count:] if predicate(t)],
                    context=lambda: stack_logs(stack))


def sms_exchange(stack, prefix, first, answer, predicate=lambda t: True):
    """A new person sends `first`, waits for the reply, then sends `answer`: (first replies, replies after)."""
    number = new_mobile(prefix)
    post_sms(stack, number, first)
    replies = wait_for(lambda: sms_to(stack, number), context=lambda: stack_logs(stack))
    count = len(sms_to(stack, number))
    post_sms(stack, number, answer)
    return replies, sms_after(stack, number, count, predicate)


# --- the safety check ---------------------------------------------------------------------------------

def test_desk_possible_danger_gets_3114_and_the_check_before_any_question(stack, conversation):
    replies = conversation.say(INDIRECT)
    said = Conversation.texts(replies)
    assert "3114" in said and "112" in said and "danger" in said
    assert "ville" not in said.lower() and "démarche" not in said  # nothing else is asked
    banner = [r["custom"] for r in replies if (r.get("custom") or {}).get("type") == "urgence_vitale"]
    assert banner and banner[0]["numero"] == "3114" and banner[0]["verification"] is True
    titles = [b["title"] for b in buttons(replies)]
    assert titles == ["Oui, il y a un danger", "Non, tout va bien"]
    safe = buttons(replies)[1]["payload"]
    replies = conversation.say(safe)
    said = Conversation.texts(replies)
    assert "Merci" in said and "3114" in said
    assert messages.text("utter_ask_demarche") in said  # the triage goes on


def test_desk_in_danger_gets_the_number_at_once(stack, conversation):
    replies = conversation.say("j'ai mis les cachets de côté pour ce soir, je veux juste que ça s'arrête")
    replies = conversation.say(buttons(replies)[0]["payload"])
    assert "3114" in Conversation.texts(replies)
    assert Conversation.card(replies) is None


def test_sms_possible_danger_gets_the_check_in_at_most_three_segments_and_2_goes_on(stack):
    first, after = sms_exchange(stack, "+3365", INDIRECT, "2", lambda t: "Merci" in t or "démarche" in t)
    check = first[0]
    assert "3114" in check and "1." in check and "2." in check
    assert gsm7_encodable(check) and segments_of(check) <= 3
    assert any("3114" in t for t in after)


def test_sms_1_means_in_danger(stack):
    _, after = sms_exchange(stack, "+3366", "j'ai plus envie de me réveiller le matin", "1")
    assert "3114" in after[0] and "Appelez" in after[0]


# --- a correction in mid-conversation -------------------------------------------------------------------

def test_desk_correction_while_the_town_question_waits(stack, conversation):
    replies = conversation.say("je dois faire ma declaration caf avant vendredi")
    assert "ville" in Conversation.texts(replies).lower()
    replies = conversation.say("non y a pas de date")
    said = Conversation.texts(replies)
    assert "corrigé" in said and "ville" in said.lower()
    replies = conversation.say("rennes")
    card = Conversation.card(replies)
    if card is None:  # questions the new facts need (device, wish) come first
        while Conversation.card(replies) is None and buttons(replies):
            replies = conversation.say(buttons(replies)[0]["payload"])
        card = Conversation.card(replies)
    assert card is not None and messages.reason_text("delai_proche") not in card["raisons"]


def test_sms_correction_while_the_town_question_waits(stack):
    _, after = sms_exchange(stack, "+3367", "je dois faire ma declaration caf avant vendredi", "non y a pas de date",
                            lambda t: "ville" in t.lower() or "corrig" in t)
    assert any("corrig" in t for t in after)


# --- an answer that does not fit -----------------------------------------------------------------------

def test_desk_off_topic_answer_brings_the_question_back_with_its_buttons(stack, conversation):
    replies = conversation.say("je dois faire un dossier pour la caf")
    asked = buttons(replies)
    assert messages.text("utter_ask_enjeu") in Conversation.texts(replies)
    replies = conversation.say("il fait beau aujourd'hui")
    said = Conversation.texts(replies)
    assert messages.text("utter_redemander_enjeu") in said
    assert [b["payload"] for b in buttons(replies)] == [b["payload"] for b in asked]
    assert "urgence" not in said.lower()


def test_sms_off_topic_answer_brings_the_question_back_with_numbered_choices(stack):
    _, after = sms_exchange(stack, "+3368", "je dois faire un dossier pour la caf", "bus 12")
    expected = sms_choices.render(messages.text("utter_redemander_enjeu"),
                                  sms_choices.choices_from_buttons(messages.catalogue().buttons("utter_ask_enjeu")))
    assert after[0].split("\n")[0] == prepare(expected).split("\n")[0]  # as the SMS channel sends it
    assert "1." in after[0]


# --- "pas urgent" ---------------------------------------------------------------------------------------

NOT_URGENT = "c'est pas urgent du tout mais je voudrais qu'on m'aide pour mon compte ameli"


def test_desk_not_urgent_is_not_an_urgence(stack, conversation):
    replies = conversation.say(NOT_URGENT)
    for _ in range(6):
        if Conversation.card(replies) is not None:
            break
        # The town when asked: "une aide à distance" without one now finds only national services (issue 14).
        if "ville" in Conversation.texts(replies).lower():
            replies = conversation.say("rennes")
        elif buttons(replies):
            replies = conversation.say(buttons(replies)[0]["payload"])
        else:
            break
    card = Conversation.card(replies)
    assert card is not None and card["niveau"] != "urgence"
    assert messages.reason_text("delai_proche") not in card["raisons"]


@pytest.mark.parametrize("text", [NOT_URGENT, "c pas urgent, c'est pour ma carte vitale"])
def test_sms_not_urgent_is_not_an_urgence(stack, text):
    number = new_mobile("+3369")
    post_sms(stack, number, text)
    first = wait_for(lambda: sms_to(stack, number), context=lambda: stack_logs(stack))[0]
    assert "urgence" not in first.lower() and "date limite proche" not in first


@pytest.mark.parametrize("text, number", [("mi esposo me pega", "3919"), ("my child is not breathing", "15")])
def test_desk_an_emergency_in_another_language_gets_its_number_at_once(stack, conversation, text, number):
    # "mi esposo me pega" used to get "Je n'ai pas bien compris" and the menu.
    replies = conversation.say(text)
    banner = [r["custom"] for r in replies if (r.get("custom") or {}).get("type") == "urgence_vitale"]
    assert banner and banner[0]["numero"] == number
    assert number in Conversation.texts(replies)
    assert "Je n'ai pas bien compris" not in Conversation.texts(replies)
