"""What people must never leave with us: typed on any channel, secrets and contact details are found
nowhere on disk afterwards, not in the database file, not in its write-ahead log, not in the logs.

The messages are generated (tests/strategies.py): valid and mistyped NIR, card numbers and IBANs,
passwords and codes after a cue, phone numbers and e-mail addresses, with the separators and typos
people use. The files are read as `strings` reads them (runs of printable characters), and each
run is compared with separators removed, so "06 12 34 56 78" is found stored as "0612345678" too."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Conversation
from tests.stack.test_channels_stack import (
    new_mobile,
    post_sms,
    post_telegram,
    sms_to,
    stack_logs,
    telegram_texts,
    telegram_update,
    wait_for,
)
from tests.strategies import examples, secrets_

_PRINTABLE_RUN = re.compile(r"[^\x00-\x1f\x7f-\x9f\ufffd]{4,}")


def stored_runs(stack) -> list[str]:
    """What `strings` would print from the database, its WAL and the servers' logs."""
    workdir: Path = stack["workdir"]
    database = Path(stack["database_url"][len("sqlite:///"):])
    files = [database, Path(f"{database}-wal"), *workdir.glob("*.log")]
    runs = []
    for path in files:
        if path.exists():
            text = path.read_bytes().decode("utf-8", errors="replace")
            runs += _PRINTABLE_RUN.findall(text)
    return runs


def found_on_disk(stack, secrets) -> list:
    runs = stored_runs(stack)
    return [s for s in secrets if any(s.found_in(run) for run in runs)]


def message_of(secrets) -> str:
    return "bonjour. " + ". ".join(s.sentence for s in secrets) + ". merci"


_messages = st.lists(secrets_(), min_size=1, max_size=3)


@settings(max_examples=examples(8), deadline=None)
@given(st.sampled_from(["desk", "sms", "telegram"]), _messages)
def test_what_people_type_on_any_channel_is_stored_nowhere(stack, channel, secrets):
    text = message_of(secrets)
    if channel == "desk":
        assert Conversation(stack["base"]).say(text)
    elif channel == "sms":
        number = new_mobile("+3365")
        post_sms(stack, number, text)
        wait_for(lambda: sms_to(stack, number), context=lambda: stack_logs(stack))
    else:
        chat = 7300000 + uuid.uuid4().int % 100000
        post_telegram(stack, telegram_update(uuid.uuid4().int % 10 ** 9, chat, text=text))
        wait_for(lambda: telegram_texts(stack, chat), context=lambda: stack_logs(stack))
    assert found_on_disk(stack, secrets) == [], text
