"""The triage action sees a vital emergency that Rasa's own rule answered, so the referral can flag it."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.triage_actions import emergency_answered, with_emergency
from bot.triage.dialogue import VITAL_EMERGENCY


def tracker(*events) -> Tracker:
    return Tracker("desk:abc", {}, {}, list(events), False, None, {}, "action_listen")


def user(intent: str) -> dict:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


def test_a_vital_emergency_of_the_current_session_is_seen():
    assert emergency_answered(tracker(user("urgence_vitale"), {"event": "bot"}, user("demarche")))
    assert not emergency_answered(tracker(user("demarche")))
    # an earlier session (expired, restarted) does not count
    assert not emergency_answered(tracker(user("urgence_vitale"), {"event": "session_started"}, user("demarche")))


def test_the_flag_joins_the_state_without_changing_the_rest():
    assert with_emergency(None)[VITAL_EMERGENCY] is True
    state = with_emergency({"facts": {"organisme": "caf"}, "pending": "commune"})
    assert state["facts"] == {"organisme": "caf"} and state["pending"] == "commune" and state[VITAL_EMERGENCY]
