"""Anonymous statistics: aggregates, small-count suppression, CSV, and the coordinators' page."""

from __future__ import annotations

import re
import socket
import uuid
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from sanic import Sanic
from sqlalchemy import select

from bot import stats
from bot.db import create_schema, make_engine, session_factory
from bot.referrals import Referral, ReferralRequest, create_referral
from connectors.stats_page import render_page, stats_blueprint

UTC = timezone.utc


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture()
def factory(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-stats")
    engine = make_engine(f"sqlite:///{tmp_path / 'aiguillage.db'}")
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def add(factory, created, level="urgence", insee="35238", commune="Rennes", channel="desk", organisme="caf",
        claim_minutes=None, close_hours=None, sender=None):
    facts = {"organisme": organisme, "demarche": "rsa", "commune": commune, "commune_insee": insee}
    with factory() as session:
        ref = create_referral(session, ReferralRequest(level=level, reasons=["r"], facts=facts, place_id=None,
                                                       channel=channel, sender_id=sender or uuid.uuid4().hex),
                              now=created)
        if claim_minutes is not None:
            ref.claimed_at = created + timedelta(minutes=claim_minutes)
            ref.status = "prise_en_charge"
        if close_hours is not None:
            ref.closed_at = created + timedelta(hours=close_hours)
            ref.status, ref.outcome = "cloturee", "fait"
        session.commit()
        return ref


def compute(factory, flt=stats.StatsFilter()):
    with factory() as session:
        return stats.compute(session, flt)


# --- pure helpers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("insee, dep", [("35238", "35"), ("2A004", "2A"), ("2b033", "2B"), ("97411", "974"),
                                        ("97611", "976"), ("01001", "01"), ("", None), (None, None),
                                        ("3523", None), ("ABCDE", None)])
def test_departement_of(insee, dep):
    assert stats.departement_of(insee) == dep


def test_iso_week_uses_paris_time():
    # Sunday 23:30 UTC is already Monday in Paris: next ISO week.
    assert stats.iso_week(at(2026, 3, 1, 23, 30)) == "2026-W10"
    assert stats.iso_week(at(2026, 3, 1, 22, 30)) == "2026-W09"
    assert stats.iso_week(at(2027, 1, 1, 12)) == "2026-W53"


def test_percentile():
    assert stats.percentile([], 50) is None
    assert stats.percentile([5], 90) == 5
    assert stats.percentile([4, 1, 3, 2], 50) == 2.5
    assert stats.percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_small_counts_are_hidden_with_a_second_cell_when_needed():
    assert stats.shown(2, 3) == "< 3" and stats.shown(3, 3) == 3 and stats.shown(0, 3) == 0
    # One small cell alone would be recoverable from the total: the next smallest is hidden too.
    rows = stats.protected_rows([("a", 10), ("b", 5), ("c", 1)], 3)
    assert rows == [("a", 10), ("b", "masqué"), ("c", "< 3")]
    assert stats.protected_rows([("a", 10), ("b", 2), ("c", 1)], 3) == [("a", 10), ("b", "< 3"), ("c", "< 3")]
    assert stats.protected_rows([("a", 10), ("b", 5)], 3) == [("a", 10), ("b", 5)]


def test_filter_parsing_ignores_garbage():
    flt = stats.StatsFilter.parse("2026-03-31", "2026-03-01", "2a")
    assert flt == stats.StatsFilter(date(2026, 3, 1), date(2026, 3, 31), "2A")
    assert stats.StatsFilter.parse("hier", "", "<script>") == stats.StatsFilter()


def test_min_count_from_env(monkeypatch):
    monkeypatch.delenv("AIGUILLAGE_STATS_MIN_COUNT", raising=False)
    assert stats.min_count_from_env() == 3
    monkeypatch.setenv("AIGUILLAGE_STATS_MIN_COUNT", "5")
    assert stats.min_count_from_env() == 5
    monkeypatch.setenv("AIGUILLAGE_STATS_MIN_COUNT", "beaucoup")
    assert stats.min_count_from_env() == 3


# --- aggregation ---------------------------------------------------------------------------------------

def seed(factory):
    """Five urgent referrals in Rennes, four inclusion ones in Ajaccio, one in Saint-Pierre (974)."""
    for i in range(5):
        add(factory, at(2026, 3, 2 + i, 9, 17, 43), claim_minutes=10 * (i + 1), close_hours=24 * (i + 1),
            channel="sms")
    for i in range(4):
        add(factory, at(2026, 3, 16 + i, 14, 3, 11), level="inclusion", insee="2A004", commune="Ajaccio",
            channel="telegram", organisme="france_travail", claim_minutes=60)
    add(factory, at(2026, 3, 31, 22, 30), level="montee_en_competence", insee="97416", commune="Saint-Pierre")


def test_counts_by_dimension(factory):
    seed(factory)
    result = compute(factory)
    assert result.total == 10
    assert result.counts["niveau"] == {"urgence": 5, "inclusion": 4, "montee_en_competence": 1}
    assert result.counts["departement"] == {"35": 5, "2A": 4, "974": 1}
    assert result.counts["commune"]["2A004"] == 4
    assert result.counts["canal"] == {"sms": 5, "telegram": 4, "desk": 1}
    assert result.counts["organisme"] == {"caf": 6, "france_travail": 4}
    assert result.counts["semaine"] == {"2026-W10": 5, "2026-W12": 4, "2026-W14": 1}  # 31/03 22:30 UTC is 1/04
    assert result.departements == ["2A", "35", "974"]


def test_delays_median_and_90th_percentile(factory):
    seed(factory)
    result = compute(factory)
    urgent = result.claim_delays["urgence"]
    assert urgent.count == 5 and urgent.median == 30 * 60 and urgent.p90 == pytest.approx(46 * 60)
    assert result.close_delays["urgence"].median == 72 * 3600
    assert result.claim_delays["inclusion"].median == 3600
    assert result.claim_delays["ensemble"].count == 9
    assert "inclusion" not in result.close_delays


def test_filters_by_paris_dates_and_departement(factory):
    seed(factory)
    march = compute(factory, stats.StatsFilter(date(2026, 3, 1), date(2026, 3, 31)))
    assert march.total == 9  # 31/03 22:30 UTC is 1 April in Paris
    april = compute(factory, stats.StatsFilter(start=date(2026, 4, 1)))
    assert april.total == 1
    corsica = compute(factory, stats.StatsFilter(departement="2A"))
    assert corsica.total == 4 and corsica.counts["niveau"] == {"inclusion": 4}
    assert corsica.departements == ["2A", "35", "974"]  # the menu still offers every département


def test_csv_is_semicolon_utf8_bom_with_hidden_small_counts(factory):
    seed(factory)
    text = stats.to_csv(compute(factory), min_count=3, levels=("urgence", "inclusion"))
    assert text.startswith("\ufeffdimension;valeur;nombre\r\n")
    lines = text[1:].splitlines()
    assert "total;ensemble;10" in lines
    assert "niveau;urgence;5" in lines and "niveau;inclusion;masqué" in lines
    assert "niveau;montee_en_competence;< 3" in lines
    assert "departement;974;< 3" in lines
    assert "delai;niveau;nombre;mediane_heures;p90_heures" in lines
    assert "prise_en_charge;urgence;5;0,5;0,8" in lines
    assert "cloture;urgence;5;72,0;110,4" in lines
    # The whole CSV re-read by a spreadsheet-like parser: three columns in the first section.
    first = lines[:lines.index("")]
    assert all(len(line.split(";")) == 3 for line in first)


def test_delays_on_too_few_referrals_are_withheld(factory):
    add(factory, at(2026, 3, 2, 9), claim_minutes=17)
    add(factory, at(2026, 3, 2, 10), claim_minutes=23)
    text = stats.to_csv(compute(factory), min_count=3)
    assert "prise_en_charge;urgence;< 3;;" in text
    assert "0,3" not in text and "0,4" not in text


# --- page and export -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
async def server(factory):
    Sanic.test_mode = True
    allowed = {"ok": True}
    app = Sanic(f"stats_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(stats_blueprint(factory, lambda request: allowed["ok"], min_count=3),
                  url_prefix="/coordination/statistiques")
    port = free_port()
    srv = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await srv.startup()
    try:
        yield {"base": f"http://127.0.0.1:{port}/coordination/statistiques", "allowed": allowed}
    finally:
        srv.close()
        await srv.wait_closed()


def private_strings(factory) -> list[str]:
    """What must never reach a coordinator: codes, keys, exact times of single referrals."""
    out = []
    with factory() as session:
        for ref in session.execute(select(Referral)).scalars():
            created = ref.created_at.replace(tzinfo=UTC)
            out += [ref.reference, ref.reference.replace("-", ""), ref.conversation_key, created.isoformat(),
                    created.strftime("%H:%M"), created.astimezone(stats.PARIS).strftime("%H:%M")]
    return out


async def test_page_shows_only_aggregates(server, factory):
    seed(factory)
    add(factory, at(2026, 3, 3, 8, 41, 7), insee="35001", commune="<script>alert(1)</script>")
    async with httpx.AsyncClient() as client:
        reply = await client.get(server["base"] + "/")
        export = await client.get(server["base"] + "/export.csv")
    assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
    page = reply.text
    assert "<svg" in page and "<table>" in page and "<title" in page
    assert "Orientations : 11" in page
    assert "< 3" not in page and "&lt; 3" in page  # Saint-Pierre alone is hidden
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")
    for secret in private_strings(factory):
        assert secret not in page, secret
        assert secret not in export.text, secret


async def test_filters_and_export_link_follow_the_form(server, factory):
    seed(factory)
    async with httpx.AsyncClient(follow_redirects=True) as client:
        reply = await client.get(server["base"], params={"du": "2026-03-01", "au": "2026-03-31",
                                                         "departement": "2A"})
        assert str(reply.url).startswith(server["base"] + "/?")  # trailing slash for relative links
        href = re.search(r'href="(export\.csv[^"]*)"', reply.text).group(1).replace("&amp;", "&")
        export = await client.get(server["base"] + "/" + href)
    assert "Orientations : 4" in reply.text
    assert '<option value="2A" selected>' in reply.text
    assert "total;ensemble;4" in export.text
    assert "2026-03-01_2026-03-31-2A" in export.headers["content-disposition"]


async def test_refused_without_authorisation(server, factory):
    seed(factory)
    server["allowed"]["ok"] = False
    async with httpx.AsyncClient() as client:
        page = await client.get(server["base"] + "/")
        export = await client.get(server["base"] + "/export.csv")
    assert page.status_code == 403 and export.status_code == 403
    assert "urgence" not in export.text
    assert 'href="/webhooks/console/orientations"' in page.text  # a refused mediator finds the way back


def test_empty_period_renders():
    html = render_page(stats.Stats(), stats.StatsFilter(), 3)
    assert "Aucune orientation" in html and "Orientations : 0" in html
