"""Custom actions: read the turn from the tracker, call bot/, send the replies back."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.console.accounts import place_has_console
from bot.core.db import checkpoint, session_scope, shared_factory
from bot.core.settings import get_settings
from bot.handoff.erasure import Erased, erase_conversation_data
from bot.handoff.services import Orientation
from bot.triage.dialogue import VITAL_EMERGENCY, Reply, Turn, after_emergency, handle, new_state

logger = logging.getLogger(__name__)

ERASE_SIGNAL = {"type": "effacer"}


@functools.lru_cache(maxsize=1)
def services() -> Orientation:
    settings = get_settings()
    return Orientation(shared_factory(settings.database_url), settings, place_has_console=place_has_console)


def _entity(tracker: Tracker, name: str) -> Optional[Any]:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


def _float(value: Any) -> Optional[float]:
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is None or math.isfinite(number) else None


def _text(value: Any) -> Optional[str]:
    # '/choix{"valeur": 123}' can be typed by anyone: a choice is a button's string or nothing.
    return value if isinstance(value, str) else None


def turn_from(tracker: Tracker) -> Turn:
    latest = tracker.latest_message or {}
    return Turn(
        text=latest.get("text") or "",
        intent=(latest.get("intent") or {}).get("name"),
        choice=_text(_entity(tracker, "valeur")),
        latitude=_float(_entity(tracker, "latitude")),
        longitude=_float(_entity(tracker, "longitude")),
        channel=tracker.get_latest_input_channel() or "desk",
        sender_id=tracker.sender_id,
    )


def emergency_answered(tracker: Tracker) -> bool:
    """Whether a message of this conversation's current session was a vital emergency (answered with its number
    by Rasa's rule, before and outside the triage)."""
    found = False
    for event in tracker.events or []:
        if event.get("event") == "session_started":
            found = False
        elif event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            found = found or intent == "urgence_vitale"
    return found


def with_emergency(state: Optional[dict]) -> dict:
    return dict(state or new_state(), **{VITAL_EMERGENCY: True})


def send(dispatcher: CollectingDispatcher, replies: List[Reply]) -> None:
    for reply in replies:
        if reply.buttons is None:
            dispatcher.utter_message(response=reply.key, **reply.values)
        else:
            dispatcher.utter_message(text=reply.text(), buttons=reply.buttons)
        if reply.custom:
            dispatcher.utter_message(json_message=reply.custom)


class ActionAiguiller(Action):
    def name(self) -> Text:
        return "action_aiguiller"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        turn = turn_from(tracker)
        state = tracker.get_slot("etat")
        if emergency_answered(tracker) and not (state or {}).get(VITAL_EMERGENCY):
            # Rasa's own rule answered a vital emergency (utter_urgence_vitale): the referral will say so.
            state = with_emergency(state)
        # Database work is blocking: keep it off the action server's event loop.
        replies, new_state = await asyncio.to_thread(handle, state, turn, services())
        send(dispatcher, replies)
        return [SlotSet("etat", new_state), SlotSet("attente", new_state.get("pending") is not None)]


class ActionApresUrgenceVitale(Action):
    """Right after Rasa's rule gave a vital emergency's number: what may follow it (after the 115, the social
    services and the procedure question); nothing for the other emergencies."""

    def name(self) -> Text:
        return "action_apres_urgence_vitale"

    async def run(self, dispatcher, tracker, domain):
        replies, state = after_emergency(tracker.get_slot("etat"), tracker.get_slot("urgence_type") or "")
        if not replies:
            return []
        send(dispatcher, replies)
        return [SlotSet("etat", state), SlotSet("attente", state.get("pending") is not None)]


class ActionRecommencer(Action):
    def name(self) -> Text:
        return "action_recommencer"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(response="utter_recommencer")
        dispatcher.utter_message(response="utter_ask_demarche")
        state = dict(new_state(), asked=["demarche"], pending="demarche")
        return [SlotSet("etat", state), SlotSet("attente", True)]


class ActionHumain(Action):
    def name(self) -> Text:
        return "action_humain"

    async def run(self, dispatcher, tracker, domain):
        state = tracker.get_slot("etat") or {}
        place = state.get("place")
        if place and place.get("telephone"):
            dispatcher.utter_message(response="utter_humain_lieu", **place)
            if tracker.get_latest_input_channel() == "sms" and place.get("id"):
                # The SMS channel knows the number: the place can call back at its next opening.
                dispatcher.utter_message(response="utter_proposer_rappel", **place)
        else:
            dispatcher.utter_message(response="utter_humain_ligne", **services().helpline())
        return []


class ActionEffacer(Action):
    """Erase what our tables hold of this conversation now; the channel then deletes its events."""

    def name(self) -> Text:
        return "action_effacer"

    async def run(self, dispatcher, tracker, domain):
        def erase() -> Erased:
            with session_scope(services().factory) as session:
                erased = erase_conversation_data(session, tracker.sender_id)
            checkpoint(services().factory)
            return erased

        erased = await asyncio.to_thread(erase)
        logger.info("erased %s referral(s) and %s callback(s) on request", erased.referrals, erased.callbacks)
        desk = tracker.get_latest_input_channel() == "desk"
        dispatcher.utter_message(response="utter_efface_accueil" if desk else "utter_efface")
        dispatcher.utter_message(json_message=ERASE_SIGNAL)
        return [AllSlotsReset()]
