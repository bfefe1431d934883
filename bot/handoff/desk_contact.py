"""A way back to a person referred at a desk: the phone number (and a first name) the desk leaves with the
referral, after the person's own consent, separate from the referral's.

The number is sealed like an SMS contact (bot/handoff/followup.py's `Contact`, `seal`), and so is the first
name. A mobile number gets the claim and closure notices and the "est-ce réglé ?" follow-up by SMS, exactly as
an SMS referral (its channel is `sms`; the keyed pseudonym of its SMS conversation lets a reply find the desk
referral). A landline can only be called (`appel`). "Rappelez-moi" books the helpline's callback at the place's
next opening (bot/handoff/helpline.py), tied to the referral. Everything hangs off the referral: "stop" or
"effacer" and the purge remove it with the referral.

The referral's facts only say that a contact was left, and which kind (`contact`: "sms" or "appel"): the
recap's line for the console, the notifications and the slip. The number itself is never in a fact, a
notification, the statistics or a log; the console shows it to the place's mediators, masked until claimed.
Errors are `ContactError(code, field)`; the desk page says them in French (connectors/static/desk/desk.js).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.codes import Channel
from bot.core.moments import utc
from bot.core.phone import national
from bot.core.references import normalise_reference
from bot.handoff import followup, helpline
from bot.handoff.notifications.outbox import refresh_pending_facts
from bot.handoff.recap import CONTACT_FACT, RecapLine, recap_of_referral
from bot.handoff.recap_labels import DeskContact
from bot.handoff.referrals import STATUS_OPEN, Referral

# Numbers of metropolitan France and the overseas départements and collectivités on the French plan.
FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
# A landline, or a box's 09 number (VOIP for phonenumbers): it can be called, not sent an SMS.
_CALL_ONLY = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.VOIP)
MAX_FIRST_NAME_CHARS = 40
MAX_PHONE_CHARS = 40
MASK = "••"

# Error codes (the desk page has their French text).
NO_CONSENT = "consentement_manquant"
NO_PHONE = "telephone_manquant"
BAD_PHONE = "telephone_invalide"
BAD_FIRST_NAME = "prenom_invalide"
NOT_FOUND = "introuvable"
NO_PLACE_TO_CALL = "rappel_sans_lieu"


class ContactError(ValueError):
    def __init__(self, code: str, field: Optional[str] = None):
        super().__init__(code)
        self.code = code
        self.field = field  # the form field to correct, if one


@dataclass(frozen=True)
class Phone:
    e164: str
    mobile: bool  # an SMS can reach it


def parse_phone(raw: Optional[str]) -> Phone:
    """A French mobile or landline, as typed at a desk ("06 12 34 56 78", "+33 6…", "0033…", "02.99…")."""
    text = (raw or "").strip()
    if not text:
        raise ContactError(NO_PHONE, "telephone")
    if len(text) > MAX_PHONE_CHARS:
        raise ContactError(BAD_PHONE, "telephone")
    try:
        parsed = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        raise ContactError(BAD_PHONE, "telephone") from None
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.region_code_for_number(parsed) not in FRENCH_REGIONS:
        raise ContactError(BAD_PHONE, "telephone")
    kind = phonenumbers.number_type(parsed)
    if kind not in _MOBILE + _CALL_ONLY:  # premium, shared-cost, toll-free lines: not a person's number
        raise ContactError(BAD_PHONE, "telephone")
    return Phone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), kind in _MOBILE)


def clean_first_name(raw: Optional[str]) -> Optional[str]:
    """The first name as given, on one line; None when none was given."""
    text = " ".join("".join(c for c in (raw or "") if unicodedata.category(c)[0] != "C").split())
    if not text:
        return None
    if len(text) > MAX_FIRST_NAME_CHARS or any(c.isdigit() for c in text):
        raise ContactError(BAD_FIRST_NAME, "prenom")
    return text


def desk_referral(session: Session, conversation_key: str, reference: Optional[str]) -> Referral:
    """The desk referral of that reference, if this desk conversation made it (else NOT_FOUND, the same
    answer whether the code exists or not)."""
    code = normalise_reference(reference or "")
    referral = session.execute(select(Referral).where(Referral.reference == code,
                                                      Referral.conversation_key == conversation_key)
                               ).scalar_one_or_none() if code else None
    if referral is None or referral.channel != Channel.DESK:
        raise ContactError(NOT_FOUND)
    return referral


@dataclass(frozen=True)
class Left:
    reference: str
    mobile: bool
    callback_due: Optional[datetime]  # when the place will call, if "Rappelez-moi" was ticked
    line: RecapLine                   # the recap's contact line, for the slip


def leave_contact(session: Session, conversation_key: str, reference: Optional[str], phone: Optional[str],
                  first_name: Optional[str] = None, consent: bool = False, callback: bool = False,
                  now: Optional[datetime] = None) -> Left:
    """Keep the number (and first name) for the desk referral `reference` of the conversation `conversation_key`
    (`pseudonymise(<desk sender id>)`). Idempotent: a repeat replaces the number and name, books the callback
    once, and cancels it when "Rappelez-moi" is no longer ticked. Nothing is kept on any error."""
    now = utc(now)
    if not consent:
        raise ContactError(NO_CONSENT, "consentement")
    referral = desk_referral(session, conversation_key, reference)
    number = parse_phone(phone)
    name = clean_first_name(first_name)
    if callback and not referral.place_id:
        raise ContactError(NO_PLACE_TO_CALL, "rappel")

    channel = followup.CHANNEL_SMS if number.mobile else followup.CHANNEL_CALL
    values = {"channel": channel, "sealed_address": followup.seal(number.e164),
              "sealed_first_name": followup.seal(name) if name else None,
              "address_key": helpline.caller_pseudonym(number.e164) if number.mobile else None}
    contact = followup.contact_for(session, referral.id)
    could_text = contact is not None and contact.channel == followup.CHANNEL_SMS
    if contact is None:
        session.add(followup.Contact(referral_id=referral.id, created_at=now, **values))
    else:
        for key, value in values.items():
            setattr(contact, key, value)
    kind = DeskContact.SMS if number.mobile else DeskContact.CALL
    referral.facts = {**(referral.facts or {}), CONTACT_FACT: kind.value}  # a new dict: the JSON column sees it
    referral.updated_at = now
    session.flush()
    refresh_pending_facts(session, referral)
    if not number.mobile:
        followup.cancel_pending(session, referral.id)  # no SMS can reach a landline
    elif not could_text and referral.status != STATUS_OPEN:
        followup.on_status_change(session, referral, now)  # claimed before the number came: the person hears it

    due = None
    if callback:
        due = helpline.book_callback(session, number.e164, referral.place_id, now, referral_id=referral.id)
    else:
        helpline.cancel_desk_callback(session, referral.id)
    line = next(line for line in recap_of_referral(referral, now=now).lines if line.key == CONTACT_FACT)
    return Left(reference=referral.reference, mobile=number.mobile, callback_due=due, line=line)


# --------------------------------------------------------------------------------------------------
# What the console shows
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactView:
    phone: str                 # "06 12 34 56 78", or "06 •• •• •• 78" until the referral is claimed
    masked: bool
    sms: bool                  # a mobile: notices go by SMS
    first_name: Optional[str]  # only once claimed
    callback_due: Optional[datetime]


def mask(e164: str) -> str:
    """"06 •• •• •• 78": the first and last groups of the national form, the rest hidden."""
    groups = national(e164).split()
    if len(groups) < 3:
        return MASK
    return " ".join([groups[0]] + [MASK] * (len(groups) - 2) + [groups[-1]])


def contact_view(session: Session, referral: Referral) -> Optional[ContactView]:
    """The number left at the desk for this referral, as the place's mediator may see it now; None without one
    (and for SMS or Telegram referrals, whose channel is the way back)."""
    if referral.channel != Channel.DESK:
        return None
    contact = followup.contact_for(session, referral.id)
    if contact is None:
        return None
    number = followup.unseal(contact.sealed_address)
    masked = referral.status == STATUS_OPEN
    callback = session.execute(select(helpline.Callback.due_at)
                               .where(helpline.Callback.referral_id == referral.id,
                                      helpline.Callback.status == helpline.STATUS_TO_CALL)).scalar()
    first_name = None
    if not masked and contact.sealed_first_name:
        first_name = followup.unseal(contact.sealed_first_name)
    return ContactView(phone=mask(number) if masked else national(number), masked=masked,
                       sms=contact.channel == followup.CHANNEL_SMS, first_name=first_name, callback_due=callback)
