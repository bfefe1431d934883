"""Anonymous statistics: aggregates, rounding, whole weeks, CSV, and the coordinators' page.
What an attacker can deduce from them is tested in tests/handoff/test_stats_disclosure.py."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from sanic import Sanic
from sqlalchemy import select

from bot.handoff import stats
from bot.handoff.referrals import Referral, ReferralRequest, create_referral
from bot.ops.deploy.services import free_port
from connectors.stats_page import render_page, stats_blueprint

UTC = timezone.utc
TODAY = date(2026, 6, 1)  # every week of the test data is over
EXACT = stats.Rules(min_count=1, min_total=0)  # protection off: the aggregation itself is checked


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture()
def factory(database, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-stats")
    return database.factory


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

def test_iso_week_uses_paris_time():
    # Sunday 23:30 UTC is already Monday in Paris: next ISO week.
    assert stats.iso_week(at(2026, 3, 1, 23, 30)) == "2026-W10"
    assert stats.iso_week(at(2026, 3, 1, 22, 30)) == "2026-W09"
    assert stats.iso_week(at(2027, 1, 1, 12)) == "2026-W53"


def test_rounded_counts_are_multiples_of_5_adding_up_to_the_rounded_total():
    counts = Counter({"a": 12, "b": 7, "c": 1, "d": 2, "e": 4})  # 26
    for i in range(100):
        draw = 5 * i / 100
        rounded = stats.round_counts(counts, draw, 5)
        assert sum(rounded.values()) == stats.round_total(26, draw, 5) in (25, 30)
        assert all(n % 5 == 0 and abs(n - counts[k]) < 5 for k, n in rounded.items())
    # Nothing to round, nothing changes; with the protection off every count is exact.
    assert stats.round_counts(Counter({"a": 10, "b": 5}), 4.9, 5) == {"a": 10, "b": 5}
    assert stats.round_counts(counts, 0.3, 1) == counts


def test_rounding_is_right_on_average():
    counts = Counter({"a": 1, "b": 2, "c": 8, "d": 14})
    draws = [5 * (i + 0.5) / 1000 for i in range(1000)]
    means = {k: sum(stats.round_counts(counts, d, 5)[k] for d in draws) / len(draws) for k in counts}
    assert means == pytest.approx(dict(counts), abs=0.01)
    assert sum(stats.round_total(3, d, 5) for d in draws) / len(draws) == pytest.approx(3, abs=0.01)


def test_rounding_base_follows_the_threshold():
    assert [stats.Rules(min_count=n).base for n in (1, 2, 3, 5, 6, 10, 11)] == [1, 5, 5, 5, 10, 10, 15]


def test_periods_are_whole_weeks_that_are_over():
    today = date(2026, 3, 25)  # a Wednesday: the last week over ended on Sunday 22 March
    one_day = stats.whole_weeks(stats.StatsFilter(date(2026, 3, 8), date(2026, 3, 8)), today)
    assert one_day.filter == stats.StatsFilter(date(2026, 3, 2), date(2026, 3, 8))
    assert one_day.widened and not one_day.cut and not one_day.empty
    weeks = stats.whole_weeks(stats.StatsFilter(date(2026, 3, 2), date(2026, 3, 15), "35"), today)
    assert weeks.filter == stats.StatsFilter(date(2026, 3, 2), date(2026, 3, 15), "35") and not weeks.widened
    running = stats.whole_weeks(stats.StatsFilter(date(2026, 3, 16), date(2026, 3, 24)), today)
    assert running.filter.end == date(2026, 3, 22) and running.cut and not running.widened
    assert stats.whole_weeks(stats.StatsFilter(start=date(2026, 3, 23)), today).empty
    everything = stats.whole_weeks(stats.StatsFilter(), today)
    assert everything.filter == stats.StatsFilter(None, date(2026, 3, 22)) and not everything.widened


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


def test_min_total_from_env(monkeypatch):
    monkeypatch.delenv("AIGUILLAGE_STATS_MIN_TOTAL", raising=False)
    assert stats.min_total_from_env() == 20
    monkeypatch.setenv("AIGUILLAGE_STATS_MIN_TOTAL", "50")
    assert stats.min_total_from_env() == 50


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


def test_filters_by_paris_dates_and_departement(factory):
    seed(factory)
    march = compute(factory, stats.StatsFilter(date(2026, 3, 1), date(2026, 3, 31)))
    assert march.total == 9  # 31/03 22:30 UTC is 1 April in Paris
    april = compute(factory, stats.StatsFilter(start=date(2026, 4, 1)))
    assert april.total == 1
    corsica = compute(factory, stats.StatsFilter(departement="2A"))
    assert corsica.total == 4 and corsica.counts["niveau"] == {"inclusion": 4}
    assert corsica.departements == ["2A", "35", "974"]  # the menu still offers every département


def test_csv_is_semicolon_utf8_bom(factory):
    seed(factory)
    text = stats.to_csv(stats.publish(compute(factory), EXACT))
    assert text.startswith("\ufeffdimension;valeur;nombre\r\ntotal;ensemble;10\r\n")
    lines = text[1:].splitlines()
    assert "niveau;urgence;5" in lines and "niveau;montee_en_competence;1" in lines
    # Delays in bands: claims after 10 to 60 minutes and after one hour; closings after 1 to 5 days.
    assert "prise_en_charge;moins_1h;5" in lines and "prise_en_charge;1h_4h;4" in lines
    assert ["cloture;1j_3j;2", "cloture;3j_7j;3"] == [line for line in lines if line.startswith("cloture;")]
    # The whole CSV re-read by a spreadsheet-like parser: three columns everywhere.
    assert all(len(line.split(";")) == 3 for line in lines)


def test_published_numbers_are_multiples_of_5_and_each_table_adds_up(factory):
    seed(factory)  # ten referrals in three (week, département) groups
    text = stats.to_csv(stats.publish(compute(factory), stats.Rules(min_count=3, min_total=0, key=b"cle")))
    rows = [line.split(";") for line in text[1:].splitlines()][1:]
    total = int(rows[0][2])
    assert total % 5 == 0 and abs(total - 10) < 3 * 5
    assert all(int(n) % 5 == 0 for _, _, n in rows)
    assert "<" not in text and "masqué" not in text
    def added(dimension):
        return sum(int(n) for dim, _, n in rows if dim == dimension)

    for dimension in ("niveau", "organisme", "demarche", "departement", "commune", "canal", "semaine", "statut"):
        assert added(dimension) == total, dimension
    closed = sum(int(n) for dim, value, n in rows if (dim, value) == ("statut", "cloturee"))
    claimed = sum(int(n) for dim, value, n in rows if dim == "statut" and value != "ouverte")
    assert added("issue") == added("cloture") == closed and added("prise_en_charge") == claimed


def test_no_breakdown_below_the_minimum_total(factory):
    seed(factory)
    published = stats.publish(compute(factory), stats.Rules(min_count=1, min_total=11))
    assert not published.detailed and published.total == 10
    assert stats.to_csv(published)[1:].splitlines() == ["dimension;valeur;nombre", "total;ensemble;10"]
    assert stats.publish(compute(factory), stats.Rules(min_count=1, min_total=10)).detailed


def test_delays_are_counted_in_bands(factory):
    created = at(2026, 3, 2, 9)
    for claim in (17, 59, 60, 239, 240, 60 * 24 * 8):
        add(factory, created, claim_minutes=claim)
    add(factory, created, claim_minutes=-5)  # a clock gone wrong: no band rather than a wrong one
    result = compute(factory)
    assert result.counts["prise_en_charge"] == {"moins_1h": 2, "1h_4h": 2, "4h_24h": 1, "plus_7j": 1}
    assert [value for value, _ in result.rows("prise_en_charge")] == ["moins_1h", "1h_4h", "4h_24h", "plus_7j"]


# --- page and export -----------------------------------------------------------------------------------

@pytest.fixture()
async def server(factory):
    Sanic.test_mode = True
    allowed = {"ok": True}
    app = Sanic(f"stats_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(stats_blueprint(factory, lambda request: allowed["ok"], min_count=3, min_total=0,
                                  today=lambda: TODAY),
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
    for day in range(3, 8):  # five in one week: a count of 5 is shown as it is
        add(factory, at(2026, 3, day, 8, 41, 7), insee="35001", commune="<script>alert(1)</script>")
    async with httpx.AsyncClient() as client:
        reply = await client.get(server["base"] + "/")
        export = await client.get(server["base"] + "/export.csv")
    assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
    page = reply.text
    assert "<svg" in page and "<table>" in page and "<title" in page
    total = int(re.search(r"Orientations : (\d+)", page).group(1))
    assert total % 5 == 0 and abs(total - 15) < 3 * 5 and f"total;ensemble;{total}\r\n" in export.text
    assert "&lt; 3" not in page and "masqué" not in page  # nothing hidden: rounded instead
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
    # March 2026 starts on a Sunday and ends on a Tuesday: whole weeks, said on the page and in the file name.
    assert 'datetime="2026-02-23"' in reply.text and 'datetime="2026-04-05"' in reply.text
    assert "élargie à des semaines entières" in reply.text and 'value="2026-02-23"' in reply.text
    total = re.search(r"Orientations : (\d+)", reply.text).group(1)
    assert total in ("0", "5") and f"total;ensemble;{total}\r\n" in export.text  # four in Ajaccio, rounded
    assert '<option value="2A" selected>' in reply.text
    assert "2026-02-23_2026-04-05-2A" in export.headers["content-disposition"]


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
    window = stats.whole_weeks(stats.StatsFilter(), TODAY)
    html = render_page(stats.publish(stats.Stats(filter=window.filter), stats.Rules()), window)
    assert "Aucune orientation" in html and "Orientations : 0" in html
    future = stats.whole_weeks(stats.StatsFilter(start=TODAY), TODAY)
    assert "aucune semaine terminée" in render_page(stats.publish(stats.Stats(), stats.Rules()), future)


# --- words, not codes; the way back to the console (issue 15, section 5) --------------------------------

def test_bodies_and_procedures_are_shown_with_the_recaps_words():
    from connectors.stats_page import value_label

    assert value_label("organisme", "caf") == "Caisse d'allocations familiales (CAF)"
    assert value_label("organisme", "prefecture") == "Préfecture (titres de séjour, ANEF)"
    assert value_label("organisme", "ants").startswith("Agence nationale des titres sécurisés (ANTS)")
    assert value_label("demarche", "declaration_trimestrielle") == "La déclaration trimestrielle de ressources"
    assert value_label("demarche", "code_plus_recent") == "code plus recent"  # no label yet: no underscore at least


async def test_the_coordinators_page_reads_in_words_and_links_back_to_the_console(server, factory):
    for day in range(3, 8):
        add(factory, at(2026, 3, day, 9), organisme="prefecture")
    async with httpx.AsyncClient() as client:
        page = (await client.get(server["base"] + "/")).text
    rows = re.findall(r'<th scope="row">([^<]*)</th>', page)
    assert "Préfecture (titres de séjour, ANEF)" in rows and "Le RSA (revenu de solidarité active)" in rows
    assert "prefecture" not in rows and "rsa" not in rows
    assert re.search(r'<header><nav[^>]*><a href="/webhooks/console/orientations"[^>]*>Retour à la console', page)


async def test_a_refused_mediator_gets_the_consoles_page_with_the_way_back(server, factory):
    server["allowed"]["ok"] = False
    async with httpx.AsyncClient() as client:
        reply = await client.get(server["base"] + "/")
    assert reply.status_code == 403
    assert '<link rel="stylesheet" href="/webhooks/console/static/console.css">' in reply.text
    assert "<h1>Statistiques réservées à la coordination</h1>" in reply.text
    assert "Accès réservé aux coordinateurs" in reply.text
    assert '<a href="/webhooks/console/orientations">Retour à la liste</a>' in reply.text
