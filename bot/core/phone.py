"""Phone numbers (phonenumbers): stored and sent in E.164, shown in the French national form."""

from __future__ import annotations

from typing import Optional

import phonenumbers

_SMS_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def to_e164(raw: str, region: str = "FR") -> Optional[str]:
    """"+33612345678" for "06 12 34 56 78" (read in `region` when it has no country code); None when
    it is not a valid number."""
    try:
        parsed = phonenumbers.parse((raw or "").strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def can_receive_sms(e164: str) -> bool:
    """A mobile number (or one that may be): an SMS can reach it; a landline cannot."""
    return phonenumbers.number_type(phonenumbers.parse(e164)) in _SMS_TYPES


def national(number: Optional[str]) -> str:
    """"02 99 00 00 00" for people to read or dial; the text as given when it is not a number."""
    if not number:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(number, "FR"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return number
