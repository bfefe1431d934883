"""Services the conversation needs: locating the person, finding places, recording a referral."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.core import messages
from bot.core.codes import Channel
from bot.core.db import session_scope
from bot.core.phone import national
from bot.core.settings import Settings, get_settings
from bot.directory.areas import RemoteAreas, departement_of_insee, remote_areas
from bot.directory.geo.communes import CommuneIndex, default_index
from bot.directory.geo.nearest import nearest_commune
from bot.directory.hours import format_day, format_opening, format_opening_date
from bot.directory.models import MODALITE_DISTANCE
from bot.directory.search import Need, find_places, find_remote
from bot.handoff.notifications.outbox import Dispatcher, enqueue_for_referral
from bot.handoff.recap import DESK_FACT, EMERGENCY_FACT, recap_of_referral
from bot.handoff.referrals import ReferralRequest, create_referral, find_by_reference
from bot.triage.dialogue import DELIVERED, IN_CONSOLE, PRESENT_CODE

# The recap's lines printed on the person's slip (the flags and the rest are for the mediator only); the
# contact line tells the place whether it can call (a desk may leave the number after the slip is shown).
SLIP_LINES = ("organisme", "demarche", "enjeu", "echeance", "contact")


def distance_text(distance_km: Optional[float], approximate: bool) -> str:
    """The distance as the templates show it before " km": "3,2", or "environ 3" when the place is at its
    commune's position (a kilometre at least: the place may be anywhere in the commune)."""
    if distance_km is None:
        return ""
    if approximate:
        return messages.text("utter_distance_environ", distance=max(1, round(distance_km)))
    return f"{distance_km:.1f}".replace(".", ",")


class Orientation:
    """The concrete services behind bot.triage.dialogue.Services, on a database and the commune index."""

    def __init__(self, factory: sessionmaker, settings: Optional[Settings] = None,
                 communes: Optional[CommuneIndex] = None, clock=None,
                 place_has_console: Optional[Callable[[Session, str], bool]] = None,
                 dispatcher: Optional[Dispatcher] = None):
        self.factory = factory
        self.settings = settings or get_settings()
        self._communes = communes
        self._clock = clock or (lambda: datetime.now(ZoneInfo(self.settings.timezone)))
        # Whether a mediator of the place can see its referrals in the console (bot/console, a layer above:
        # given by whoever builds this); unknown counts as no, so the person is never told a false "espace".
        self._place_has_console = place_has_console or (lambda session, place_id: False)
        self._dispatcher = dispatcher

    @property
    def communes(self) -> CommuneIndex:
        if self._communes is None:
            self._communes = default_index()
        return self._communes

    def locate(self, text: str, whole_answer: bool):
        return self.communes.lookup(text) if whole_answer else self.communes.find_in_text(text)

    def commune(self, insee: str):
        return self.communes.by_insee(insee)

    def commune_label(self, commune) -> str:
        """"Saint-Denis (La Réunion)": homonyms told apart by their département's name."""
        area = self.communes.departement_name(commune.departement) or commune.departement
        return f"{commune.name} ({area})"

    def radius(self, wide: bool) -> float:
        return self.settings.wide_radius_km if wide else self.settings.search_radius_km

    @property
    def remote_areas(self) -> RemoteAreas:
        return remote_areas(self.settings.remote_areas)

    def departement(self, latitude=None, longitude=None, insee=None) -> Optional[str]:
        """The person's département: their commune's, else that of the commune nearest to their shared position."""
        departement = departement_of_insee(insee)
        if departement is None and latitude is not None and longitude is not None:
            commune = nearest_commune(self.communes, latitude, longitude)
            departement = commune.departement if commune else None
        return departement

    def search(self, latitude, longitude, level, needs, radius_km, insee=None):
        with session_scope(self.factory) as session:
            result = find_places(session, latitude, longitude, Need(level, frozenset(needs or ())),
                                 radius_km=radius_km, now=self._clock(), limit=3,
                                 departement=self.departement(latitude, longitude, insee),
                                 remote_areas=self.remote_areas)
            for match in result.matches + result.remote:
                session.expunge(match.place)
            return result

    def remote(self, level, needs, latitude=None, longitude=None, insee=None) -> list:
        """Remote help that serves the person's département (bot/directory/areas.py); without a town or a
        position, only the places serving the whole country."""
        with session_scope(self.factory) as session:
            matches = find_remote(session, Need(level, frozenset(needs or ())), latitude=latitude,
                                  longitude=longitude, departement=self.departement(latitude, longitude, insee),
                                  remote_areas=self.remote_areas, now=self._clock(), limit=3)
            for match in matches:
                session.expunge(match.place)
            return matches

    def present(self, match) -> dict:
        place = match.place
        now = self._clock()
        opening = format_opening(match.opening, now) or messages.text("utter_horaire_inconnu")
        opens = match.opening.next_opening if match.opening is not None else None
        remote = MODALITE_DISTANCE in (place.modalites_accompagnement or "")
        return {
            "id": place.id,
            "nom": place.nom,
            # A place imported without them (bot/directory/importing/importer.py keeps it): empty, never "None".
            "adresse": place.adresse or "",
            "code_postal": place.code_postal or "",
            "commune": place.commune or "",
            "telephone": national(place.telephone),
            "distance": distance_text(match.distance_km, bool(place.position_approx)),
            "distance_km": round(match.distance_km, 1) if match.distance_km is not None else None,
            # The place is at its commune's position (the directory had no usable coordinates).
            "position_approximative": bool(place.position_approx),
            "ouverture": opening,
            # For what is read later (the slip, the next step): a date, never "demain".
            "prochaine_ouverture": format_opening_date(match.opening, now) or opening,
            # The day it next opens (ISO, in France), to compare with a deadline; None when unknown.
            "ouvre_le": opens.date().isoformat() if opens is not None else None,
            "ouvert_maintenant": bool(match.opening is not None and match.opening.open_now),
            "horaires": place.horaires or "",
            "horaires_a_confirmer": bool(match.hours_stale),
            "latitude": place.latitude,
            "longitude": place.longitude,
            "demo": bool(place.is_demo),
            "date_maj": place.date_maj.isoformat() if place.date_maj else None,
            "modalite": MODALITE_DISTANCE if remote else "Sur place",
            # Help by phone or video only: the next step says "appelez", not "allez à".
            "a_distance": remote,
        }

    def create_referral(self, state: dict, channel: str, sender_id: str) -> str:
        place = state.get("place") or {}
        facts = dict(state["facts"])
        if state.get(EMERGENCY_FACT):
            facts[EMERGENCY_FACT] = True  # a vital-emergency number was given earlier in this conversation
        if channel == Channel.DESK and self.settings.desk_name:
            facts[DESK_FACT] = self.settings.desk_name
        request = ReferralRequest(level=state["level"], reasons=list(state["reasons"]), facts=facts,
                                  place_id=place.get("id"), channel=channel, sender_id=sender_id)
        with session_scope(self.factory) as session:
            referral = create_referral(session, request)
            # Same transaction: the place is notified if and only if the referral is saved.
            enqueue_for_referral(session, referral)
            return referral.reference

    def delivery(self, reference: str) -> str:
        """What the person may be told of a new referral: DELIVERED when a channel of the place accepted its
        notification now (within AIGUILLAGE_NOTIFY_NOW_TIMEOUT), IN_CONSOLE when a mediator of the place will
        see it in the console, else PRESENT_CODE (the person shows the code at the place)."""
        with session_scope(self.factory) as session:
            referral = find_by_reference(session, reference)
            if referral is None or not referral.place_id:
                return PRESENT_CODE
            referral_id, place_id = referral.id, referral.place_id
            console = self._place_has_console(session, place_id)
        if self._accepted_now(referral_id):
            return DELIVERED
        return IN_CONSOLE if console else PRESENT_CODE

    def _accepted_now(self, referral_id: int) -> bool:
        dispatcher = self._dispatcher or Dispatcher(self.factory)
        timeout = dispatcher.settings.now_timeout
        if timeout <= 0:
            return False
        try:
            asyncio.get_running_loop()
            return False  # called from a coroutine (not through the action's thread): the worker sends
        except RuntimeError:
            pass
        return asyncio.run(dispatcher.deliver_referral(referral_id, timeout)) > 0

    def slip_lines(self, reference: str) -> list:
        """What the person's slip says of their request, from the stored referral through the mediators' recap
        (bot/handoff/recap.py): the body, the procedure, what is at stake, the deadline; never a code."""
        with session_scope(self.factory) as session:
            referral = find_by_reference(session, reference)
            if referral is None:
                return []
            told = recap_of_referral(referral, now=self._clock())
        return [{"cle": line.key, "libelle": line.label, "texte": line.text}
                for line in told.lines if line.key in SLIP_LINES]

    def date_text(self, iso_day: str) -> str:
        """"vendredi 11 décembre", for a deadline kept as an ISO date."""
        return format_day(date.fromisoformat(iso_day), self._clock().date())

    def helpline(self) -> dict:
        return {"ligne_nom": self.settings.helpline_name, "ligne_telephone": self.settings.helpline_phone}
