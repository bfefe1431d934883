"""Property-based test of the mediators' console over real HTTP: hostile notes, place names, searched codes
and e-mails are shown exactly as typed, as text, on every page that shows them; never as markup."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from bot.console import service
from bot.console.throttle import LoginCounter
from bot.core.db import session_scope
from bot.core.privacy import redact
from bot.directory.models import Place
from tests.console_support import PASSWORD, T0, ConsoleServer, build_db
from tests.strategies import HTML_INJECTIONS, examples, hostile_text

# Every element the console draws; anything else in a page came from data.
CONSOLE_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "nav", "a", "span", "form", "input",
                "button", "main", "p", "h1", "h2", "div", "dl", "dt", "dd", "ul", "li", "label", "textarea",
                "fieldset", "legend", "select", "option", "table", "thead", "tbody", "tr", "th", "td", "strong", "br"}
VOID_TAGS = {"meta", "link", "input", "br"}

# Hostile markup, alone or inside ordinary text.
markup = st.one_of(st.sampled_from(HTML_INJECTIONS), st.tuples(
    hostile_text(200, allow_long=False), st.sampled_from(HTML_INJECTIONS), hostile_text(200, allow_long=False)
).map("".join))
notes = st.one_of(markup, hostile_text(max_size=4_500))


class Page(HTMLParser):
    """Elements, attributes, and the text inside elements of interest (by id or class)."""

    def __init__(self, html_text: str, capture: tuple = ()):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.capture = capture
        self.stack: list[list] = []  # [tag, key or None]
        self.texts: dict[str, list[str]] = {}
        self.feed(html_text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in VOID_TAGS:
            return
        key = None
        for wanted in self.capture:
            name, _, value = wanted.partition("=")
            if (tag == wanted) if not value else value in (attributes.get(name) or "").split():
                key = wanted
                self.texts.setdefault(key, []).append("")
        self.stack.append([tag, key])

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        for tag, key in self.stack:
            if key is not None:
                self.texts[key][-1] += data


def assert_no_markup_from_data(html_text: str) -> Page:
    page = Page(html_text)
    for tag, attributes in page.tags:
        assert tag in CONSOLE_TAGS, (tag, attributes)
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "action", "src"):
                assert (value or "").startswith(("/", "#")), (tag, name, value)
    return page


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    db = build_db(tmp_path_factory.mktemp("prop-console"), patch)
    clock = {"now": T0 + timedelta(hours=1)}
    server = ConsoleServer(db["factory"], lambda: clock["now"])

    def log_in(email):
        client = httpx.Client(base_url=server.base, follow_redirects=False, timeout=15)
        form = client.get("/connexion").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        reply = client.post("/connexion", data={"email": email, "mot_de_passe": PASSWORD, "csrf": token})
        assert reply.status_code == 303
        return client

    mediator, coordinator = log_in("med-a@example.org"), log_in("coord@example.org")
    try:
        yield dict(db, server=server, mediator=mediator, coordinator=coordinator)
    finally:
        mediator.close()
        coordinator.close()
        server.stop()
        from bot.console import accounts

        accounts._factory, accounts._clock = None, accounts._utcnow  # leave no global behind
        patch.undo()


def csrf_of(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


@settings(max_examples=examples(15))
@given(note=notes, name=markup)
@example(note='"><img src=x onerror=alert(1)><script>alert(2)</script>', name="<script>alert(1)</script>")
@example(note="1" * 120, name="Espace 35000")  # a digit run that looks like a card number: masked
def test_hostile_note_and_place_name_appear_only_as_text(console, note, name):
    with session_scope(console["factory"]) as session:
        session.execute(update(Place).where(Place.id.in_(["lieu-a", "lieu-b"])).values(nom=name))
    rid_a2 = console["referrals"]["a2"][0]
    rid_b1 = console["referrals"]["b1"][0]
    mediator, coordinator = console["mediator"], console["coordinator"]

    token = csrf_of(mediator, f"/orientations/{rid_a2}")
    reply = mediator.post(f"/orientations/{rid_a2}/note", data={"csrf": token, "texte": note})
    assert reply.status_code == 303
    detail = mediator.get(reply.headers["location"].removeprefix("/webhooks/console"))
    assert detail.status_code == 200
    assert_no_markup_from_data(detail.text)
    page = Page(detail.text, capture=("class=note", "id=lieu", "role=alert"))
    cleaned = note.replace("\r\n", "\n").strip()
    if not cleaned:
        assert page.texts["role=alert"] == [console_message("note_vide")]
    elif len(cleaned) > service.MAX_NOTE_CHARS:
        assert page.texts["role=alert"] == [console_message("note_trop_longue")]
    else:
        # Shown as typed, newest last, once the console's redaction has masked what looks like a card,
        # NIR or phone number (about 1 note in 1,000 here: long digit runs).
        assert page.texts["class=note"][-1] == redact(cleaned).text
    assert page.texts["id=lieu"][0].startswith(f"{name} (Rennes)")

    listing = mediator.get("/orientations")
    assert listing.status_code == 200
    assert_no_markup_from_data(listing.text)
    assert Page(listing.text, capture=("h1",)).texts["h1"] == [f"Orientations — {name} (Rennes)"]

    # The coordinator sees both places' names in the list of places to transfer to.
    other = coordinator.get(f"/orientations/{rid_b1}")
    assert other.status_code == 200
    assert f"{name} — Rennes, Ille-et-Vilaine (35)" in Page(other.text, capture=("option",)).texts["option"]
    journal = mediator.get("/journal")
    assert journal.status_code == 200
    assert_no_markup_from_data(journal.text)


def console_message(code: str) -> str:
    from connectors.console import MESSAGES

    return MESSAGES[code]


@settings(max_examples=examples(20))
@given(typed=st.one_of(markup, hostile_text(max_size=300, allow_long=False)))  # a URL stays under 8 KB
def test_a_searched_code_is_echoed_as_the_value_typed(console, typed):
    reply = console["mediator"].get("/orientations", params={"reference": typed})
    assert reply.status_code in (200, 303)
    if reply.status_code == 200:
        page = assert_no_markup_from_data(reply.text)
        values = [a.get("value") for t, a in page.tags if t == "input" and a.get("id") == "reference"]
        assert values == [typed.strip()]


@settings(max_examples=examples(8))
@given(email=markup)
def test_a_failed_login_echoes_the_email_as_the_value_typed(console, email):
    with session_scope(console["factory"]) as session:  # each example a first failure: the throttle
        session.execute(delete(LoginCounter))          # (tested in tests/console/) would answer 429
    client = httpx.Client(base_url=console["server"].base, follow_redirects=False, timeout=15)
    try:
        token = csrf_of(client, "/connexion")
        reply = client.post("/connexion", data={"email": email, "mot_de_passe": "pas le bon", "csrf": token})
        assert reply.status_code == 401
        page = assert_no_markup_from_data(reply.text)
        values = [a.get("value") for t, a in page.tags if t == "input" and a.get("id") == "email"]
        assert values == [email.strip()[:320]]
    finally:
        client.close()
