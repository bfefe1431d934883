"""The statistics page plays against an attacker: nothing it publishes, page or CSV, alone or combined
with other periods and départements, may establish that 1 or 2 referrals have some attribute.

The attacker knows the publication rule (docs/mediateurs.md): every number is rounded to a multiple
of 5 in each ISO week and each département, then added up, so a published number is within 4 per
(week, département) of the truth. It reasons soundly (whatever it concludes holds in every dataset that
would publish the same numbers): a table's cells add up to its total, a longer period is a shorter
one plus the days in between, a département's figures are part of the national ones, and two
breakdowns of the same people cross (Fréchet bounds). A count is exposed when the attacker proves it
lies between 1 and 4 (the page promises that much; the threshold setting, 3, asks for 1 and 2 only).

Beyond these attacks, the "twin" property checks the reason it holds: another dataset, in which every
count of every combination of attributes is a multiple of 5, publishes exactly the same page and CSV,
so no computation on them can establish a count from 1 to 4.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import random
import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from sanic import Sanic
from sqlalchemy.pool import StaticPool

from bot.core.db import make_engine, session_factory, upgrade
from bot.handoff import stats
from bot.handoff.referrals import ReferralRequest, create_referral
from bot.ops.deploy.services import free_port
from connectors.stats_page import render_page, stats_blueprint
from tests.strategies import examples

BASE = 5          # published numbers are multiples of it, rounded per ISO week and département
THRESHOLD = 3     # AIGUILLAGE_STATS_MIN_COUNT (default): rounding to 5 covers it
SMALL = BASE - 1  # what the page promises: no count from 1 to 4 can be established (THRESHOLD - 1 = 2 included)
UNKNOWN = "non_renseigne"
UNK_DEP = "__sans_departement__"
INF = math.inf

# What the attacker knows could exist (generous: the whole universe of the test data).
COMMUNES = {"35238": ("Rennes", "35"), "35288": ("Saint-Malo", "35"), "35049": ("Cancale", "35"),
            "22278": ("Saint-Brieuc", "22"), UNKNOWN: (None, UNK_DEP)}
UNIVERSE = {
    "niveau": ("urgence", "inclusion", "montee_en_competence", "hors_champ"),
    "organisme": ("caf", "france_travail", "impots", "ants"),
    "demarche": ("rsa", "declaration", "permis"),
    "commune": tuple(COMMUNES),
    "canal": ("desk", "sms", "telegram", "helpline"),
    "statut": ("ouverte", "prise_en_charge", "cloturee"),
    "issue": ("fait", "reoriente", "injoignable"),
    "prise_en_charge": tuple(name for _, name in stats.DELAY_BANDS),
    "cloture": tuple(name for _, name in stats.DELAY_BANDS),
}
PARTITIONS = ("niveau", "organisme", "demarche", "commune", "canal", "statut")  # one value per referral
# A delay band's row adds cells of several statuses, outcomes and other bands, each rounded on its own:
# per (week, département) it may be off by 4 per cell (1 claimed + 3 outcomes x 6 closing bands).
BAND_CELLS = 1 + 3 * 6
DEPS = ("35", "22", UNK_DEP)
FIRST_DAY = date(2026, 3, 2)   # a Monday: three ISO weeks, W10 to W12
DAYS = [FIRST_DAY + timedelta(days=i) for i in range(21)]
TODAY = date(2026, 5, 4)       # every week of the data is over


# --- the data --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    day: date
    insee: str
    level: str = "urgence"
    channel: str = "desk"
    organisme: str = "caf"
    demarche: str = "rsa"
    status: str = "ouverte"
    outcome: str | None = None
    claim_minutes: int | None = None   # after the referral; set for claimed and closed ones
    close_minutes: int | None = None   # set for closed ones, never before the claim


# The one referral nobody else resembles: its commune, channel, level, body, procedure and outcome are
# all unique, on the last day of the first week (day 7) — what a one-day period used to show whole.
RARE = Person(date(2026, 3, 8), "35049", "hors_champ", "helpline", "ants", "permis", "cloturee", "injoignable",
              claim_minutes=5000, close_minutes=12000)


def dataset(seed: int = 12) -> list[Person]:
    rng = random.Random(seed)
    people = [RARE]
    for day in DAYS:
        for _ in range(rng.choice((2, 3, 4, 5))):
            insee = rng.choices(("35238", "35288", "22278", UNKNOWN), weights=(6, 3, 2, 1))[0]
            status = rng.choices(("ouverte", "prise_en_charge", "cloturee"), weights=(3, 2, 2))[0]
            claim = rng.choice((20, 50, 150, 600)) if status != "ouverte" else None
            people.append(Person(day, insee, rng.choice(("urgence", "urgence", "inclusion", "montee_en_competence")),
                                 rng.choice(("desk", "desk", "sms", "telegram")),
                                 rng.choice(("caf", "caf", "france_travail", "impots")),
                                 rng.choice(("rsa", "declaration")), status,
                                 rng.choice(("fait", "reoriente")) if status == "cloturee" else None,
                                 claim, claim + rng.choice((100, 1000, 3000)) if status == "cloturee" else None))
    # Small cells on purpose: one referral on day 8 (Monday of week 2) with a channel seen once that week.
    people.append(Person(date(2026, 3, 9), "35288", "inclusion", "helpline", "impots", "declaration"))
    return people


def store(factory, people: list[Person]) -> None:
    with factory() as session:
        for i, person in enumerate(people):
            facts = {"organisme": person.organisme, "demarche": person.demarche}
            if person.insee != UNKNOWN:
                facts.update(commune=COMMUNES[person.insee][0], commune_insee=person.insee)
            created = datetime.combine(person.day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(
                hours=9, minutes=i % 50)
            ref = create_referral(session, ReferralRequest(level=person.level, reasons=["r"], facts=facts,
                                                           place_id=None, channel=person.channel,
                                                           sender_id=f"personne-{i}"), now=created)
            ref.status, ref.outcome = person.status, person.outcome
            if person.claim_minutes is not None:
                ref.claimed_at = created + timedelta(minutes=person.claim_minutes)
            if person.close_minutes is not None:
                ref.closed_at = created + timedelta(minutes=person.close_minutes)
        session.commit()


# --- what the attacker sees --------------------------------------------------------------------------------

@dataclass
class Observation:
    """One published view: its period (as the page says it really is), its départements, its numbers."""
    days: list[date]
    deps: tuple[str, ...]
    total: str
    rows: dict = field(default_factory=dict)   # (dimension, value) -> published text
    detailed: bool = False


def effective_days(page: str, du: str, au: str) -> list[date]:
    """The period the page says it counted (whole weeks), else the one asked for."""
    block = re.search(r'id="periode".*?</p>', page, re.S)
    stamps = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})"', block.group(0)) if block else []
    first, last = (date.fromisoformat(s) for s in stamps[-2:]) if len(stamps) >= 2 else (
        (DAYS[0], date.fromisoformat(stamps[0])) if stamps else (date.fromisoformat(du), date.fromisoformat(au)))
    return [day for day in DAYS if first <= day <= last]


def parse_csv(text: str) -> tuple[str, dict]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    counts = rows[:rows.index([])] if [] in rows else rows
    total, cells = "0", {}
    for row in counts[1:]:
        if row[0] == "total":
            total = row[2]
        else:
            cells[(row[0], row[1])] = row[2]
    return total, cells


def page_numbers(page: str) -> dict:
    """The numbers of each table of the page, in order (the total first)."""
    numbers = {"total": re.findall(r'id="total"><strong>Orientations : ([^<]*)<', page)}
    for dim, section in re.findall(r'<section aria-labelledby="s-(\w+)">(.*?)</section>', page, re.S):
        numbers[dim] = re.findall(r"<td>([^<]*)</td>", section)
    return numbers


def csv_numbers(text: str) -> dict:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    numbers = defaultdict(list)
    for row in rows[1:rows.index([])] if [] in rows else rows[1:]:
        numbers[row[0]].append(row[2])
    return dict(numbers)


def observation(page: str, export: str, du: str, au: str, dep: str | None) -> Observation:
    assert page_numbers(page) == csv_numbers(export), "the CSV must show exactly the page's numbers"
    total, cells = parse_csv(export)
    return Observation(effective_days(page, du, au), (dep,) if dep else DEPS, total, cells,
                       detailed=any(dim == "niveau" for dim, _ in cells))


async def observe(client: httpx.AsyncClient, base: str, du: str, au: str, dep: str | None) -> Observation:
    params = {"du": du, "au": au, **({"departement": dep} if dep else {})}
    page = await client.get(base + "/", params=params)
    export = await client.get(base + "/export.csv", params=params)
    assert page.status_code == 200 and export.status_code == 200
    return observation(page.text, export.text, du, au, dep)


# --- the attacker --------------------------------------------------------------------------------------------

def interval(text: str, error: int) -> tuple[float, float]:
    """What a published cell says about the true count."""
    text = text.strip()
    if text.startswith("<"):          # "< 3": hidden small count
        return 1, int(text[1:].strip()) - 1
    if not text.lstrip("-").isdigit():  # "masqué" or anything else: unknown
        return 0, INF
    value = int(text)
    return max(0, value - error), value + error


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class Attacker:
    """Bounds on unknown counts x[day, département, dimension, value] (and x[day, département, total])."""

    def __init__(self):
        self.lo: dict = {}
        self.hi: dict = {}
        self.rules: list = []          # (((var, coef), ...), low, high): sum of coef * var within [low, high]
        self.sums: dict = {}           # frozenset(vars) -> [low, high], published or derived sums
        self.labels: dict = defaultdict(set)
        for day, dep in itertools.product(DAYS, DEPS):
            total = (day, dep, "total", "")
            self.lo[total], self.hi[total] = 0, INF
            for dim, values in UNIVERSE.items():
                for value in values:
                    var = (day, dep, dim, value)
                    self.lo[var], self.hi[var] = 0, INF
                    if dim == "commune" and COMMUNES[value][1] != dep:
                        self.hi[var] = 0   # a commune lies in its own département
            for dim in PARTITIONS:         # each referral has one value per dimension
                self.rule([((day, dep, dim, v), 1) for v in UNIVERSE[dim]] + [(total, -1)], 0, 0)
            # an outcome is given to every closed referral, and only to them; a claim delay to every
            # claimed or closed one, a closing delay to every closed one
            closed = ((day, dep, "statut", "cloturee"), -1)
            self.rule([((day, dep, "issue", v), 1) for v in UNIVERSE["issue"]] + [closed], 0, 0)
            self.rule([((day, dep, "cloture", v), 1) for v in UNIVERSE["cloture"]] + [closed], 0, 0)
            self.rule([((day, dep, "prise_en_charge", v), 1) for v in UNIVERSE["prise_en_charge"]]
                      + [closed, ((day, dep, "statut", "prise_en_charge"), -1)], 0, 0)

    def rule(self, terms, low, high):
        self.rules.append((tuple(terms), low, high))

    def publish(self, label, variables, low, high):
        key = frozenset(variables)
        known = self.sums.setdefault(key, [0, INF])
        known[0], known[1] = max(known[0], low), min(known[1], high)
        self.labels[label].add(key)
        self.rule([(v, 1) for v in key], low, high)

    def observe(self, obs: Observation):
        weeks = {week_of(day) for day in obs.days}
        error = (BASE - 1) * len(weeks) * len(obs.deps)
        cells = [(day, dep) for day in obs.days for dep in obs.deps]
        self.publish(("total",), [(d, p, "total", "") for d, p in cells], *interval(obs.total, error))
        if not obs.detailed:
            return  # no breakdown shown: nothing says its absent rows are zero
        for dim, values in UNIVERSE.items():
            for value in values:
                shown = obs.rows.get((dim, value), "0")
                slack = error * (BAND_CELLS if dim in stats.BANDED else 1)
                self.publish((dim, value), [(d, p, dim, value) for d, p in cells], *interval(shown, slack))
        for week in weeks:
            shown = obs.rows.get(("semaine", week), "0")
            self.publish(("total",), [(d, p, "total", "") for d, p in cells if week_of(d) == week],
                         *interval(shown, error))
        for dep in obs.deps:
            shown = obs.rows.get(("departement", UNKNOWN if dep == UNK_DEP else dep), "0")
            self.publish(("total",), [(d, dep, "total", "") for d in obs.days], *interval(shown, error))
        unexpected = {key for key in obs.rows if key[0] not in ("semaine", "departement")
                      and key[1] not in UNIVERSE.get(key[0], ())}
        assert not unexpected, f"the attacker's universe misses {unexpected}"

    def difference(self):
        """A longer period minus a shorter one, the nation minus a département: the rest, bounded."""
        for keys in self.labels.values():
            for small, big in itertools.permutations(sorted(keys, key=len), 2):
                if len(small) < len(big) and small < big:
                    rest = big - small
                    low = self.sums[big][0] - self.sums[small][1]
                    high = self.sums[big][1] - self.sums[small][0]
                    known = self.sums.setdefault(rest, [0, INF])
                    known[0], known[1] = max(known[0], low), min(known[1], high)
                    self.rule([(v, 1) for v in rest], max(low, 0), high)

    def propagate(self, rounds: int = 40):
        for _ in range(rounds):
            changed = False
            for terms, low, high in self.rules:
                mins, maxs = [], []
                for var, coef in terms:
                    a, b = (self.lo[var], self.hi[var]) if coef > 0 else (-self.hi[var], -self.lo[var])
                    mins.append(a)
                    maxs.append(b)
                min_fin, min_inf = sum(m for m in mins if m != -INF), sum(1 for m in mins if m == -INF)
                max_fin, max_inf = sum(m for m in maxs if m != INF), sum(1 for m in maxs if m == INF)
                for (var, coef), mn, mx in zip(terms, mins, maxs):
                    # the other terms' sum, without subtracting infinities from each other
                    others_max = INF if max_inf - (mx == INF) > 0 else max_fin - (0 if mx == INF else mx)
                    others_min = -INF if min_inf - (mn == -INF) > 0 else min_fin - (0 if mn == -INF else mn)
                    t_low = low - others_max
                    t_high = high - others_min
                    new_lo, new_hi = (t_low, t_high) if coef > 0 else (-t_high, -t_low)
                    new_lo = max(self.lo[var], math.ceil(new_lo) if new_lo != -INF else 0)
                    new_hi = min(self.hi[var], math.floor(new_hi) if new_hi != INF else INF)
                    assert new_lo <= new_hi, f"contradiction on {var}: the attacker's model is unsound"
                    if (new_lo, new_hi) != (self.lo[var], self.hi[var]):
                        self.lo[var], self.hi[var] = new_lo, new_hi
                        changed = True
            if not changed:
                return

    def bounds(self, variables) -> tuple[float, float]:
        key = frozenset(variables)
        low, high = sum(self.lo[v] for v in key), sum(self.hi[v] for v in key)
        if key in self.sums:
            low, high = max(low, self.sums[key][0]), min(high, self.sums[key][1])
        return low, high


def exposures(attacker: Attacker, observations: list[Observation]) -> list[str]:
    """Every count the attacker can pin between 1 and SMALL: published cells, single days and
    single (day, département) cells, and profiles crossing two or five breakdowns."""
    found = []

    def check(what, low, high):
        if 1 <= low and high <= SMALL:
            found.append(f"{what}: between {low} and {high}")

    scopes = [(f"{o.days[0]}..{o.days[-1]} {o.deps}", [(d, p) for d in o.days for p in o.deps]) for o in observations]
    scopes += [(f"jour {d}", [(d, p) for p in DEPS]) for d in DAYS]
    scopes += [(f"jour {d} {p}", [(d, p)]) for d in DAYS for p in DEPS]
    for name, cells in scopes:
        total = attacker.bounds([(d, p, "total", "") for d, p in cells])
        check(f"{name} total", *total)
        marginal = {}
        for dim, values in UNIVERSE.items():
            for value in values:
                marginal[dim, value] = attacker.bounds([(d, p, dim, value) for d, p in cells])
                check(f"{name} {dim}={value}", *marginal[dim, value])
        for (a, va), (b, vb) in itertools.combinations(marginal, 2):
            if a != b:
                (la, ha), (lb, hb) = marginal[a, va], marginal[b, vb]
                check(f"{name} {a}={va} & {b}={vb}", max(0, la + lb - total[1]), min(ha, hb))
        profile = [("commune", RARE.insee), ("canal", RARE.channel), ("niveau", RARE.level),
                   ("organisme", RARE.organisme), ("statut", RARE.status)]
        low = sum(marginal[k][0] for k in profile) - (len(profile) - 1) * total[1]
        check(f"{name} profil rare", max(0, low), min(marginal[k][1] for k in profile))
    return found


def attack(observations: list[Observation]) -> list[str]:
    attacker = Attacker()
    for obs in observations:
        attacker.observe(obs)
    attacker.propagate()
    attacker.difference()
    attacker.propagate()
    return exposures(attacker, observations)


# --- the page, served -------------------------------------------------------------------------------------------

@pytest.fixture()
async def published(tmp_path, monkeypatch):
    """The statistics page over the test data, as a coordinator reaches it."""
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-divulgation")
    monkeypatch.delenv("AIGUILLAGE_STATS_MIN_TOTAL", raising=False)  # the default minimum total, 20
    engine = make_engine(f"sqlite:///{tmp_path / 'aiguillage.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    store(factory, dataset())
    Sanic.test_mode = True
    app = Sanic(f"stats_disclosure_{uuid.uuid4().hex[:8]}")
    app.blueprint(stats_blueprint(factory, lambda request: True, min_count=THRESHOLD, today=lambda: TODAY),
                  url_prefix="/statistiques")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    try:
        async with httpx.AsyncClient(follow_redirects=True) as client:
            base = f"http://127.0.0.1:{port}/statistiques"

            async def views(periods, deps=(None,)):
                return [await observe(client, base, du, au, dep) for du, au in periods for dep in deps]

            views.client, views.base = client, base
            yield views
    finally:
        server.close()
        await server.wait_closed()
        engine.dispose()


WHOLE = ("2026-03-02", "2026-03-22")
DAY_7 = ("2026-03-08", "2026-03-08")                       # the rare referral's day
DAYS_1_7, DAYS_2_8 = ("2026-03-02", "2026-03-08"), ("2026-03-03", "2026-03-09")
WEEK_PLUS_DAY = ("2026-03-02", "2026-03-09")
WEEKS = [("2026-03-02", "2026-03-08"), ("2026-03-09", "2026-03-15"), ("2026-03-16", "2026-03-22")]


async def test_total_minus_visible_cells_recovers_nothing(published):
    observations = await published([WHOLE, *WEEKS], deps=(None, "35"))
    assert attack(observations) == []


async def test_departements_against_the_whole_recover_nothing(published):
    # The nation minus each département leaves the referrals without a commune: sums of hidden cells.
    observations = await published([WHOLE, *WEEKS], deps=(None, "35", "22"))
    assert attack(observations) == []


async def test_crossing_two_breakdowns_does_not_single_out_the_rare_profile(published):
    observations = await published([WEEKS[0], DAY_7], deps=(None, "35"))
    found = attack(observations)
    assert [line for line in found if "profil rare" in line or "&" in line] == []
    assert found == []


async def test_adjacent_and_overlapping_periods_recover_nothing(published):
    # Days 1-7 against 2-8, a week against the week and one more day, and the single day itself.
    observations = await published([DAYS_1_7, DAYS_2_8, WEEK_PLUS_DAY, DAY_7, ("2026-03-09", "2026-03-09"),
                                    *WEEKS, WHOLE], deps=(None, "35"))
    assert attack(observations) == []


async def test_a_one_day_period_is_widened_to_its_week_and_says_so(published):
    client, base = published.client, published.base
    day = await client.get(base + "/", params={"du": DAY_7[0], "au": DAY_7[1]})
    week = await client.get(base + "/", params={"du": DAYS_1_7[0], "au": DAYS_1_7[1]})
    assert "élargie à des semaines entières" in day.text and "élargie" not in week.text
    assert re.search(r'id="periode".*du <time datetime="2026-03-02">lundi 2 mars 2026</time> au '
                     r'<time datetime="2026-03-08">dimanche 8 mars 2026</time>', day.text)
    assert page_numbers(day.text) == page_numbers(week.text)  # the day alone is never shown
    export = await client.get(base + "/export.csv", params={"du": DAY_7[0], "au": DAY_7[1]})
    assert "2026-03-02_2026-03-08" in export.headers["content-disposition"]


async def test_the_week_in_progress_is_not_counted(published):
    client, base = published.client, published.base
    reply = await client.get(base + "/", params={"du": "2026-04-27", "au": "2026-05-06"})  # TODAY is 4 May
    assert "La semaine en cours n&#x27;est pas comptée" in reply.text
    assert '<time datetime="2026-05-03">dimanche 3 mai 2026</time>' in reply.text


async def test_a_period_under_the_minimum_total_shows_no_breakdown(published):
    client, base = published.client, published.base
    params = {"du": WEEKS[0][0], "au": WEEKS[0][1], "departement": "22"}  # a handful in Côtes-d'Armor
    page = await client.get(base + "/", params=params)
    export = await client.get(base + "/export.csv", params=params)
    assert 'id="sans-detail"' in page.text and "Moins de 20 orientations" in page.text
    assert "<svg" not in page.text and "Délai de" not in page.text
    total = re.search(r"Orientations : (\d+)", page.text).group(1)
    assert export.text[1:].splitlines() == ["dimension;valeur;nombre", f"total;ensemble;{total}"]
    whole = await client.get(base + "/", params={"du": WHOLE[0], "au": WHOLE[1]})
    assert 'id="sans-detail"' not in whole.text and "<svg" in whole.text


# --- properties over random datasets ------------------------------------------------------------------------

MINUTES = (10, 90, 300, 2000, 6000, 12000)  # one in each delay band


def consistent(person: Person) -> Person:
    """Only closed referrals have an outcome and a closing delay; claims come before closings."""
    claim, close = sorted((person.claim_minutes, person.close_minutes))
    if person.status == "ouverte":
        return Person(**{**person.__dict__, "outcome": None, "claim_minutes": None, "close_minutes": None})
    if person.status == "prise_en_charge":
        return Person(**{**person.__dict__, "outcome": None, "claim_minutes": claim, "close_minutes": None})
    return Person(**{**person.__dict__, "claim_minutes": claim, "close_minutes": close})


people = hs.lists(hs.builds(
    Person, day=hs.sampled_from(DAYS), insee=hs.sampled_from(tuple(COMMUNES)),
    level=hs.sampled_from(UNIVERSE["niveau"]), channel=hs.sampled_from(UNIVERSE["canal"]),
    organisme=hs.sampled_from(UNIVERSE["organisme"]), demarche=hs.sampled_from(UNIVERSE["demarche"]),
    status=hs.sampled_from(("ouverte", "prise_en_charge", "cloturee")), outcome=hs.sampled_from(UNIVERSE["issue"]),
    claim_minutes=hs.sampled_from(MINUTES), close_minutes=hs.sampled_from(MINUTES),
).map(consistent), max_size=45)

RULES = stats.Rules(min_count=THRESHOLD, min_total=0, key=b"cle-des-proprietes")  # every breakdown shown
QUERIES = [DAYS_1_7, DAYS_2_8, WEEK_PLUS_DAY, DAY_7, *WEEKS, WHOLE]


def memory_db(crowd: list[Person]):
    engine = make_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    upgrade(engine)
    factory = session_factory(engine)
    store(factory, crowd)
    return engine, factory


def views(factory, queries, deps=(None, "35")) -> list[tuple[str, str, tuple]]:
    """Page and CSV of each query, as the blueprint builds them."""
    out = []
    for (du, au), dep in itertools.product(queries, deps):
        window = stats.whole_weeks(stats.StatsFilter.parse(du, au, dep), TODAY)
        with factory() as session:
            numbers = stats.published_for(session, window, RULES)
        out.append((render_page(numbers, window), stats.to_csv(numbers), (du, au, dep)))
    return out


@settings(max_examples=examples(25))
@given(crowd=people)
def test_random_data_total_minus_cells_and_adjacent_periods_recover_nothing(crowd):
    engine, factory = memory_db(crowd)
    try:
        observations = [observation(page, export, *query) for page, export, query in views(factory, QUERIES)]
    finally:
        engine.dispose()
    assert attack(observations) == []


def twin(factory) -> list[Person]:
    """A dataset whose counts are the published ones: five identical referrals per block, built only
    from what the page shows for each (week, département)."""
    crowd = []
    for week_start in DAYS[::7]:
        week = (week_start.isoformat(), (week_start + timedelta(days=6)).isoformat())
        tables = {dep: csv_numbers_by_value(export)
                  for _, export, (_, _, dep) in views(factory, [week], (None, "35", "22"))}
        for dep in DEPS:
            if dep == UNK_DEP:  # no filter reaches it: the nation minus the départements
                table = {key: tables[None].get(key, 0) - tables["35"].get(key, 0) - tables["22"].get(key, 0)
                         for key in tables[None]}
            else:
                table = tables[dep]
            blocks = table.get(("total", "ensemble"), 0) // BASE
            columns = {}
            for dim in ("niveau", "organisme", "demarche", "commune", "canal"):
                columns[dim] = [v for (d, v), n in sorted(table.items()) if d == dim for _ in range(n // BASE)]
            # Statuses, outcomes and delays: closed ones take the closing delays in order and the
            # shortest claim delays in order (a claim never after its closing), claimed ones the rest.
            band = {name: MINUTES[i] for i, (_, name) in enumerate(stats.DELAY_BANDS)}
            lists = {dim: [v for v in UNIVERSE[dim] for _ in range(table.get((dim, v), 0) // BASE)]
                     for dim in ("statut", "issue", "prise_en_charge", "cloture")}
            closed = [("cloturee", outcome, band[claim], band[close]) for outcome, claim, close in
                      zip(lists["issue"], lists["prise_en_charge"], lists["cloture"])]
            claimed = [("prise_en_charge", None, band[claim], None)
                       for claim in lists["prise_en_charge"][len(closed):]]
            opened = [("ouverte", None, None, None)] * lists["statut"].count("ouverte")
            states = opened + claimed + closed
            assert lists["statut"].count("cloturee") == len(closed) == len(lists["cloture"])
            assert all(c[2] <= c[3] for c in closed), "a claim after its closing"
            assert all(len(column) == blocks for column in [*columns.values(), states]), "tables must add up"
            for i in range(blocks):
                crowd += [Person(week_start, columns["commune"][i], columns["niveau"][i], columns["canal"][i],
                                 columns["organisme"][i], columns["demarche"][i], *states[i])] * BASE
    return crowd


def csv_numbers_by_value(export: str) -> dict:
    total, cells = parse_csv(export)
    table = {("total", "ensemble"): int(total), **{key: int(n) for key, n in cells.items()}}
    return table


@settings(max_examples=examples(40))
@given(crowd=people)
def test_a_dataset_of_multiples_of_5_publishes_exactly_the_same(crowd):
    engine, factory = memory_db(crowd)
    try:
        double = twin(factory)
        original = views(factory, QUERIES + [("2026-03-02", "2026-03-02")], (None, "35", "22"))
    finally:
        engine.dispose()
    # In the twin every combination of attributes (the whole profile, any day) counts a multiple of 5...
    assert all(n % BASE == 0 for n in Counter(double).values())
    engine, factory = memory_db(double)
    try:
        # ...and every page and CSV is the same: nothing in them can tell the two datasets apart.
        assert views(factory, QUERIES + [("2026-03-02", "2026-03-02")], (None, "35", "22")) == original
    finally:
        engine.dispose()
