"""What a mediator does with a referral: see it, claim it, annotate it, hand it to another place, close it.

Every function takes the acting `Account` and enforces visibility: a mediator only reaches the
referrals of their own place; anything else is `NotFound` (the page answers 404, never 403, so the
existence of another place's referral does not leak). A coordinator reaches every referral.

Each consultation and change is written to the audit log (`journal_entries`). The log keeps codes
and place ids only: note texts live in `notes`, which disappears with the referral when the
person asks to be erased, while the audit rows stay.
Errors are `ConsoleError(code)`; the connector renders the French message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.console.accounts import Account
from bot.core.codes import DeliveryState
from bot.core.privacy import redact
from bot.core.references import normalise_reference
from bot.core.text import normalize
from bot.directory.areas import place_departement
from bot.directory.geo.communes import CommuneIndex, default_index
from bot.directory.matching import haversine_km
from bot.directory.models import Place
from bot.handoff import desk_contact, followup, helpline, takeover
from bot.handoff.journal import Action, JournalEntry, Note
from bot.handoff.notifications.outbox import OutboxMessage, delivery_status
from bot.handoff.recap import deadline_of
from bot.handoff.referrals import (
    ERASED_KEY,
    OUTCOMES,
    STATUS_CLAIMED,
    STATUS_CLOSED,
    STATUS_OPEN,
    STATUSES,
    Referral,
)
from bot.handoff.services import distance_text
from bot.handoff.takeover import NOT_OF_PLACE
from bot.triage.rules import URGENCE

# The stored strings, as plain str.
ACTION_VIEW = Action.VIEW.value
ACTION_CLAIM = Action.CLAIM.value
ACTION_NOTE = Action.NOTE.value
ACTION_REASSIGN = Action.REASSIGN.value
ACTION_CLOSE = Action.CLOSE.value
ACTION_LOGIN = Action.LOGIN.value
ACTION_LOGOUT = Action.LOGOUT.value
ACTION_LIVE_START = Action.LIVE_START.value
ACTION_LIVE_END = Action.LIVE_END.value
ACTION_CALLED_BACK = Action.CALLED_BACK.value
ACTION_CREATED = Action.CREATED.value
# What a mediator's request may record.
ACTIONS = (ACTION_VIEW, ACTION_CLAIM, ACTION_NOTE, ACTION_REASSIGN, ACTION_CLOSE, ACTION_LOGIN, ACTION_LOGOUT,
           ACTION_LIVE_START, ACTION_LIVE_END, ACTION_CALLED_BACK)
# Actions shown in a referral's history.
STATE_ACTIONS = (ACTION_CLAIM, ACTION_REASSIGN, ACTION_CLOSE, ACTION_LIVE_START, ACTION_LIVE_END,
                 Action.REOPENED.value)

MAX_NOTE_CHARS = 4000
LIST_LIMIT = 200


class ConsoleError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class NotFound(ConsoleError):
    def __init__(self):
        super().__init__("introuvable")


def _now(now: Optional[datetime]) -> datetime:
    return now or datetime.now(timezone.utc)


# --------------------------------------------------------------------------------------------------
# Visibility
# --------------------------------------------------------------------------------------------------

def _visible(account: Account):
    if account.is_coordinator:
        return Referral.conversation_key != ERASED_KEY  # an erasure's residue is for the statistics only
    if not account.place_id:
        return False  # a mediator whose place was removed sees nothing
    return Referral.place_id == account.place_id


def can_see(account: Account, referral: Referral) -> bool:
    if referral.conversation_key == ERASED_KEY:
        return False
    return account.is_coordinator or (bool(account.place_id) and referral.place_id == account.place_id)


def list_referrals(session: Session, account: Account, status: Optional[str] = None,
                   limit: int = LIST_LIMIT) -> list[Referral]:
    """Urgences not yet closed first, by deadline (the nearest first, those without one after), then the oldest
    first; then every other referral, newest first. `status` one of STATUSES or None for all."""
    query = select(Referral).where(_visible(account))
    if status in STATUSES:
        query = query.where(Referral.status == status)
    urgent = list(session.execute(query.where(Referral.level == URGENCE, Referral.status != STATUS_CLOSED))
                  .scalars())
    urgent.sort(key=lambda r: (deadline_of(r.facts) or date.max, r.created_at, r.id))
    first = {r.id for r in urgent}
    others = session.execute(query.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(limit)).scalars()
    return (urgent + [r for r in others if r.id not in first])[:max(limit, len(urgent))]


def place_names(session: Session, place_ids) -> dict:
    """Place id -> name, for the pages (a mediator reads names, never ids)."""
    ids = {pid for pid in place_ids if pid}
    if not ids:
        return {}
    return dict(session.execute(select(Place.id, Place.nom).where(Place.id.in_(ids))).all())


def get_referral(session: Session, account: Account, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or not can_see(account, referral):
        raise NotFound()
    return referral


def find_reference(session: Session, account: Account, text: str) -> Optional[Referral]:
    """The visible referral with that code, typed loosely ("k7m 4xpq"), else None."""
    code = normalise_reference(text or "")
    if code is None:
        return None
    referral = session.execute(select(Referral).where(Referral.reference == code)).scalar_one_or_none()
    return referral if referral is not None and can_see(account, referral) else None


# --------------------------------------------------------------------------------------------------
# Audit log
# --------------------------------------------------------------------------------------------------

def record(session: Session, account: Optional[Account], action: str, referral: Optional[Referral] = None,
           detail: Optional[str] = None, now: Optional[datetime] = None, place_id: Optional[str] = None) -> None:
    if action not in ACTIONS:
        raise ValueError(action)
    if place_id is None:
        place_id = referral.place_id if referral is not None else (account.place_id if account else None)
    session.add(JournalEntry(at=_now(now), account_id=account.id if account else None, action=action,
                             referral_id=referral.id if referral is not None else None, place_id=place_id,
                             detail=detail))


def journal(session: Session, account: Account, limit: int = 100) -> list[JournalEntry]:
    """Recent entries: for a mediator those about their place (or its referrals), for a coordinator all."""
    query = select(JournalEntry)
    if not account.is_coordinator:
        mine = select(Referral.id).where(Referral.place_id == account.place_id).scalar_subquery()
        query = query.where(or_(JournalEntry.place_id == account.place_id, JournalEntry.referral_id.in_(mine)))
    return list(session.execute(query.order_by(JournalEntry.at.desc(), JournalEntry.id.desc()).limit(limit))
                .scalars())


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    action: str       # ACTION_CREATED or one of STATE_ACTIONS
    account_id: Optional[int]
    detail: Optional[str]


@dataclass
class ReferralView:
    referral: Referral
    history: list = field(default_factory=list)   # HistoryItem, oldest first
    notes: list = field(default_factory=list)     # Note, oldest first
    accounts: dict = field(default_factory=dict)  # account id -> e-mail, for display
    notifications: list = field(default_factory=list)  # delivery to the place (bot.handoff.notifications.outbox)
    followups: list = field(default_factory=list)  # messages to the person (bot.handoff.followup.FollowupMessage)
    live: Optional["LiveState"] = None
    closed_by: Optional[int] = None  # the account that closed it (its last closure in the history), once closed
    contact: Optional[object] = None  # the number a desk left (bot.handoff.desk_contact.ContactView)


@dataclass
class LiveState:
    """The live takeover part of a referral page."""
    availability: object  # bot.handoff.takeover.Availability
    active: Optional[object] = None  # bot.handoff.takeover.Takeover in progress
    latest: Optional[object] = None  # the latest one, ended or not
    channel: Optional[str] = None  # the person's channel, when a contact was kept


def open_referral(session: Session, account: Account, referral_id: int, now: Optional[datetime] = None) -> ReferralView:
    """Everything the detail page shows; the consultation itself is logged."""
    referral = get_referral(session, account, referral_id)
    record(session, account, ACTION_VIEW, referral, now=now)
    entries = session.execute(select(JournalEntry).where(JournalEntry.referral_id == referral.id,
                                                         JournalEntry.action.in_(STATE_ACTIONS))
                              .order_by(JournalEntry.at, JournalEntry.id)).scalars().all()
    history = [HistoryItem(referral.created_at, ACTION_CREATED, None, referral.channel)]
    history += [HistoryItem(e.at, e.action, e.account_id, e.detail) for e in entries]
    notes = list(session.execute(select(Note).where(Note.referral_id == referral.id)
                                 .order_by(Note.at, Note.id)).scalars())
    live = live_state(session, referral, now)
    ids = {h.account_id for h in history} | {n.account_id for n in notes} | {referral.claimed_by}
    if live.active is not None:
        ids.add(live.active.account_id)
    ids.discard(None)
    accounts = dict(session.execute(select(Account.id, Account.email).where(Account.id.in_(ids))).all()) if ids else {}

    followups = list(session.execute(select(followup.FollowupMessage)
                                     .where(followup.FollowupMessage.referral_id == referral.id)
                                     .order_by(followup.FollowupMessage.id)).scalars())
    return ReferralView(referral=referral, history=history, notes=notes, accounts=accounts,
                        notifications=delivery_status(session, referral.reference), followups=followups, live=live,
                        closed_by=closer(referral, history),
                        contact=desk_contact.contact_view(session, referral))


def closer(referral: Referral, history: list) -> Optional[int]:
    """Who closed a closed referral: the account of its last closure in the audit log (None when the log's entry
    was purged, or the referral is not closed)."""
    if referral.status != STATUS_CLOSED:
        return None
    closures = [h for h in history if h.action == ACTION_CLOSE]
    return closures[-1].account_id if closures else None


# --------------------------------------------------------------------------------------------------
# The place's notification (bot.handoff.notifications.outbox)
# --------------------------------------------------------------------------------------------------

NOTIFICATION_FAILED = DeliveryState.FAILED.value
NOTIFICATION_PENDING = DeliveryState.PENDING.value
NOTIFICATION_SENT = DeliveryState.SENT.value


def notification_state(statuses) -> Optional[str]:
    """One state for the place's notification over its channels: a failure on any channel is a failure (the
    mediator must know one way did not work), else still pending, else sent; None when nothing was queued."""
    seen = set(statuses)
    for state in (NOTIFICATION_FAILED, NOTIFICATION_PENDING, NOTIFICATION_SENT):
        if state in seen:
            return state
    return None


def notification_states(session: Session, referral_ids) -> dict:
    """Referral id -> notification_state, for the referrals that had a notification queued (one query)."""
    ids = {rid for rid in referral_ids if rid is not None}
    if not ids:
        return {}
    statuses: dict = {}
    for referral_id, status in session.execute(select(OutboxMessage.referral_id, OutboxMessage.status)
                                               .where(OutboxMessage.referral_id.in_(ids)).distinct()):
        statuses.setdefault(referral_id, []).append(status)
    return {rid: notification_state(found) for rid, found in statuses.items()}


def live_state(session: Session, referral: Referral, now: Optional[datetime] = None) -> LiveState:
    contact = followup.contact_for(session, referral.id)
    return LiveState(availability=takeover.availability(session, referral, now),
                     active=takeover.active_for_referral(session, referral.id, now),
                     latest=takeover.latest_for_referral(session, referral.id),
                     channel=contact.channel if contact is not None else None)


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------

def _refused_transition(referral: Referral) -> ConsoleError:
    if referral.status == STATUS_CLOSED:
        return ConsoleError("deja_cloturee")
    if referral.status == STATUS_CLAIMED:
        return ConsoleError("deja_prise_en_charge")
    return ConsoleError("transition_invalide")


def _guarded_update(session: Session, referral: Referral, allowed: tuple, values: dict) -> None:
    # Conditional UPDATE: of two mediators clicking at once, exactly one wins.
    result = session.execute(update(Referral).where(Referral.id == referral.id, Referral.status.in_(allowed))
                             .values(**values).execution_options(synchronize_session=False))
    session.refresh(referral)
    if not result.rowcount:
        raise _refused_transition(referral)


def claim(session: Session, account: Account, referral_id: int, now: Optional[datetime] = None) -> Referral:
    now = _now(now)
    referral = get_referral(session, account, referral_id)
    if referral.status != STATUS_OPEN:
        raise _refused_transition(referral)
    _guarded_update(session, referral, (STATUS_OPEN,),
                    {"status": STATUS_CLAIMED, "claimed_at": now, "claimed_by": account.id, "updated_at": now})
    record(session, account, ACTION_CLAIM, referral, now=now)
    _tell_the_person(session, referral, now)
    return referral


def _clean_text(text: Optional[str]) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ConsoleError("note_vide")
    if len(text) > MAX_NOTE_CHARS:
        raise ConsoleError("note_trop_longue")

    # A mediator may paste what the person showed them: no password, NIR or card number is kept.
    return redact(text).text


def add_note(session: Session, account: Account, referral_id: int, text: str,
             now: Optional[datetime] = None) -> Note:
    now = _now(now)
    referral = get_referral(session, account, referral_id)
    note = Note(referral_id=referral.id, account_id=account.id, at=now, text=_clean_text(text))
    session.add(note)
    referral.updated_at = now
    record(session, account, ACTION_NOTE, referral, now=now)
    session.flush()
    return note


def reassign(session: Session, account: Account, referral_id: int, place_id: str, reason: str,
             now: Optional[datetime] = None) -> Referral:
    """Move the referral to another place, reopened there (the new place claims it); the reason becomes a note."""

    now = _now(now)
    referral = get_referral(session, account, referral_id)
    place_id = (place_id or "").strip()
    if not place_id or session.get(Place, place_id) is None:
        raise ConsoleError("lieu_inconnu")
    if place_id == referral.place_id:
        raise ConsoleError("meme_lieu")
    if referral.status == STATUS_CLOSED:
        raise ConsoleError("deja_cloturee")
    reason = _clean_text(reason) if (reason or "").strip() else None
    if reason is None:
        raise ConsoleError("motif_obligatoire")
    origin = referral.place_id
    _end_live_silently(session, referral, account, now)  # before the move: the notice names this place
    _guarded_update(session, referral, (STATUS_OPEN, STATUS_CLAIMED),
                    {"place_id": place_id, "status": STATUS_OPEN, "claimed_at": None, "claimed_by": None,
                     "updated_at": now})
    session.add(Note(referral_id=referral.id, account_id=account.id, at=now, text=reason))
    record(session, account, ACTION_REASSIGN, referral, detail=f"{origin or ''}->{place_id}", now=now,
           place_id=origin)
    session.flush()
    return referral


def close(session: Session, account: Account, referral_id: int, outcome: str,
          now: Optional[datetime] = None) -> Referral:
    now = _now(now)
    referral = get_referral(session, account, referral_id)
    if outcome not in OUTCOMES:
        raise ConsoleError("resultat_invalide")
    if referral.status == STATUS_CLOSED:
        raise ConsoleError("deja_cloturee")
    values = {"status": STATUS_CLOSED, "closed_at": now, "outcome": outcome, "updated_at": now}
    if referral.claimed_by is None:  # closed straight away: whoever closed it handled it
        values.update(claimed_at=now, claimed_by=account.id)
    _guarded_update(session, referral, (STATUS_OPEN, STATUS_CLAIMED), values)
    record(session, account, ACTION_CLOSE, referral, detail=outcome, now=now)
    _end_live_silently(session, referral, account, now)
    _tell_the_person(session, referral, now)
    return referral


def _end_live_silently(session: Session, referral: Referral, account: Account, now: datetime) -> None:
    # Closing or moving a referral ends its live conversation; the person is still told it ended.

    if takeover.release(session, referral, account.id, now, reason=takeover.END_REFERRAL_CLOSED) is not None:
        record(session, account, ACTION_LIVE_END, referral, now=now)


@dataclass(frozen=True)
class OtherPlace:
    """A place a referral can be handed to, as "Transmettre à un autre lieu" lists it."""
    id: str
    name: str
    area: str                     # "Vitré, Ille-et-Vilaine (35)": commune, département's name and code
    distance_km: Optional[float]  # from the referral's place (or the person's commune); None without a position
    approximate: bool             # one of the two positions is a commune's centre

    @property
    def distance(self) -> str:
        """"12,3" or "environ 12" (before " km", as the desk writes it); "" without a distance."""
        return distance_text(self.distance_km, self.approximate)


def other_places(session: Session, account: Account, referral: Referral,
                 communes: Optional[CommuneIndex] = None) -> list[OtherPlace]:
    """The places a referral can be handed to, nearest first: from the referral's place, or from the person's
    commune when the place has no position; the places without a position last, by name."""
    communes = communes if communes is not None else default_index()
    origin = _origin(session, referral, communes)
    # Only the columns listed: a national directory has tens of thousands of places.
    rows = session.execute(select(Place.id, Place.nom, Place.commune, Place.code_insee, Place.code_postal,
                                  Place.latitude, Place.longitude, Place.position_approx)
                           .where(Place.id != (referral.place_id or ""), Place.withdrawn_at.is_(None)))
    listed = []
    for pid, name, commune, insee, postcode, latitude, longitude, approx in rows:
        distance = None
        if origin is not None and latitude is not None and longitude is not None:
            distance = haversine_km(origin[0], origin[1], latitude, longitude)
        listed.append(OtherPlace(pid, name, place_area(commune, insee, postcode, communes), distance,
                                 distance is not None and (origin[2] or bool(approx))))
    return sorted(listed, key=lambda p: (p.distance_km is None, p.distance_km or 0.0, normalize(p.name), p.id))


def _origin(session: Session, referral: Referral, communes: CommuneIndex) -> Optional[tuple[float, float, bool]]:
    """(latitude, longitude, approximate) distances are counted from, or None."""
    place = session.get(Place, referral.place_id) if referral.place_id else None
    if place is not None and place.has_coordinates:
        return place.latitude, place.longitude, bool(place.position_approx)
    facts = referral.facts if isinstance(referral.facts, dict) else {}
    insee = facts.get("commune_insee")
    commune = communes.by_insee(insee) if isinstance(insee, str) else None
    if commune is None:
        return None
    return commune.latitude, commune.longitude, True  # a commune's centre, not the person's address


def place_area(commune: Optional[str], code_insee: Optional[str], code_postal: Optional[str],
               communes: CommuneIndex) -> str:
    """"Vitré, Ille-et-Vilaine (35)"; "Vitré (35)" when the département's name is unknown, what is known otherwise."""
    code = place_departement(code_insee, code_postal)
    name = communes.departement_name(code) if code else None
    if not code:
        return commune or ""
    if not name:
        return f"{commune} ({code})" if commune else code
    return ", ".join(part for part in (commune, f"{name} ({code})") if part)


def due_callbacks_for(session: Session, account: Account, now: Optional[datetime] = None):
    """Callbacks now due (bot.handoff.helpline.DueCallback): a mediator sees those of their place (the helpline
    run by it, AIGUILLAGE_HELPLINE_PLACE_ID), listed from the place's next opening; a coordinator all."""

    if account.is_coordinator:
        return helpline.due_callbacks(session, now)
    if not account.place_id:
        return []
    return helpline.due_callbacks(session, now, place_id=account.place_id)


def mark_called_back(session: Session, account: Account, callback_id: int, now: Optional[datetime] = None) -> None:
    scope = helpline.ALL_PLACES if account.is_coordinator else account.place_id
    if not account.is_coordinator and not account.place_id:
        raise NotFound()
    if not helpline.mark_called_back(session, callback_id, account.id, scope, _now(now)):
        raise NotFound()
    record(session, account, ACTION_CALLED_BACK, detail=str(callback_id), now=now)


def _tell_the_person(session: Session, referral: Referral, now: Optional[datetime]) -> None:
    # Queued in this transaction; sent later by the follow-up worker, only if a contact was kept.

    followup.on_status_change(session, referral, now)


# --------------------------------------------------------------------------------------------------
# Live takeover (bot.handoff.takeover); the HTTP layer sends the recorded messages after the commit
# --------------------------------------------------------------------------------------------------

def _live_referral(session: Session, account: Account, referral_id: int) -> Referral:
    referral = get_referral(session, account, referral_id)
    if account.place_id is None or account.place_id != referral.place_id:
        raise ConsoleError(NOT_OF_PLACE)  # only the place's own mediators talk to the person
    return referral


def start_live(session: Session, account: Account, referral_id: int, now: Optional[datetime] = None) -> Referral:
    now = _now(now)
    referral = _live_referral(session, account, referral_id)
    try:
        takeover.start(session, referral, account.id, now)
    except takeover.TakeoverError as exc:
        raise ConsoleError(exc.code) from None
    record(session, account, ACTION_LIVE_START, referral, now=now)
    return referral


def post_live(session: Session, account: Account, referral_id: int, text: str, now: Optional[datetime] = None
              ) -> tuple[int, str]:
    """Records the mediator's message; returns its id and the text to send."""

    now = _now(now)
    referral = _live_referral(session, account, referral_id)
    try:
        message, outgoing = takeover.post(session, referral, account.id, text, now)
    except takeover.TakeoverError as exc:
        raise ConsoleError(exc.code) from None
    return message.id, outgoing


def end_live(session: Session, account: Account, referral_id: int, now: Optional[datetime] = None) -> Referral:
    now = _now(now)
    referral = _live_referral(session, account, referral_id)
    if takeover.release(session, referral, account.id, now) is None:
        raise ConsoleError(takeover.NOT_LIVE)
    record(session, account, ACTION_LIVE_END, referral, now=now)
    return referral


@dataclass
class LiveView:
    referral: Referral
    takeover: Optional[object]  # the latest takeover (active or ended), None if there never was one
    active: bool
    messages: list
    accounts: dict


def live_view(session: Session, account: Account, referral_id: int, after_id: int = 0,
              now: Optional[datetime] = None) -> LiveView:
    """The live conversation page (any account that sees the referral may read it)."""

    now = _now(now)
    referral = get_referral(session, account, referral_id)
    takeover.end_expired(session, referral, now)  # the place closed: the person is told (sent by the caller)
    latest = takeover.latest_for_referral(session, referral.id)
    messages = takeover.messages_of(session, latest.id, after_id) if latest is not None else []
    ids = ({m.account_id for m in messages if m.account_id}
           | ({latest.account_id} if latest and latest.account_id else set()))
    accounts = dict(session.execute(select(Account.id, Account.email).where(Account.id.in_(ids))).all()) if ids else {}
    active = latest is not None and takeover.active_for_referral(session, referral.id, now) is not None
    return LiveView(referral, latest, active, messages, accounts)
