"""Nearest-place search and import throughput on a national-size directory.

    .venv/bin/python -m bench.search_bench [--places 20000] [--queries 1000] [--profile]

1. generates a national-size directory (bench/national.py: places spread like the population),
2. imports it into a fresh SQLite file with the real importer (rows/s, MB/s; then a re-import
   of the same file, which only checks row hashes),
3. runs K searches from population-weighted points through the real path (`find_places`, the
   way bot/handoff/services.py calls it: one session per search, limit 3, radius 15 km), levels in
   turn and a share with a specific need, then the same searches with a naive full scan (all
   places read, haversine for each, every candidate scored and sorted) as the baseline,
4. prints p50/p95/p99 of both, the ratio, how often both give the same places, whether the
   p95 target is met, and rewrites its section of bench/REPORT.md.

Figures are measured in one run on one machine; compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import pstats
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import select

from bench.national import (
    DEFAULT_PLACES,
    DEFAULT_SEED,
    REFERENCE_DATE,
    GeneratedDirectory,
    PopulationSampler,
    generate_directory,
)
from bench.report import REPORT_PATH, percentile, publish, run_stamp, table
from bot.core.db import make_engine, session_factory, session_scope, upgrade
from bot.core.moments import PARIS, to_paris
from bot.directory.areas import NO_EXTRA_AREAS, RemoteAreas, place_departement
from bot.directory.importing.importer import import_places
from bot.directory.matching import (
    LEVELS,
    LIGHT_COLUMNS,
    haversine_km,
    matches_level,
    matches_remote,
    programme_bonus,
    specific_ok,
)
from bot.directory.search import (
    Need,
    PlaceMatch,
    SearchResult,
    _canonical_specific,
    _load_places,
    _make_match,
    _sort_key,
    find_places,
    find_remote,
)

SECTION = "search"
DEFAULT_QUERIES = 1_000
TARGET_P95_MS = 5.0
RADIUS_KM = 15.0  # Settings.search_radius_km default, what the bot searches first
LIMIT = 3  # places shown to the person (bot/handoff/services.py)
WARMUP_QUERIES = 20
# Tuesday mid-morning: most places are open or open soon, as on a typical working day.
BENCH_NOW = datetime(REFERENCE_DATE.year, REFERENCE_DATE.month, REFERENCE_DATE.day, 10, 30, tzinfo=PARIS)
# Share of searches with a specific need; "Langues étrangères" (unqualified) is what the bot asks.
SPECIFIC_SHARE = 0.1
SPECIFIC_NEEDS = ("Surdité", "Langues étrangères", "Handicaps moteurs", "Illettrisme")

SearchFn = Callable[..., SearchResult]


@dataclass(frozen=True)
class Query:
    latitude: float
    longitude: float
    need: Need
    departement: Optional[str] = None  # the person's, which remote places must serve

    @property
    def label(self) -> str:
        return self.need.level + (" + besoin spécifique" if self.need.specific else "")


@dataclass
class ImportMeasure:
    rows: int
    seconds: float
    bytes: int
    errors: int
    created: int
    unchanged: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else math.inf

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else math.inf


@dataclass
class Timings:
    search_s: List[float] = field(default_factory=list)  # the search function alone
    request_s: List[float] = field(default_factory=list)  # session open + search + close
    results: List[Tuple[Tuple[str, ...], Tuple[str, ...]]] = field(default_factory=list)  # (matches, remote) ids


@dataclass
class Agreement:
    queries: int
    top1: int
    top_list: int
    remote: int
    non_empty: int  # searches where the indexed path found at least one place nearby


@dataclass
class BenchResult:
    directory: GeneratedDirectory
    generate_s: float
    first_import: ImportMeasure
    reimport: ImportMeasure
    queries: List[Query]
    indexed: Timings
    naive: Timings
    remote: Timings  # find_remote alone, which the dialogue also calls on every search turn
    agreement: Agreement
    profile: Optional[str] = None


# --- Naive baseline -----------------------------------------------------------------------------


def naive_find_places(session, latitude: float, longitude: float, need: Need, *, radius_km: float = RADIUS_KM,
                      now: Optional[datetime] = None, limit: int = LIMIT, departement: Optional[str] = None,
                      remote_areas: RemoteAreas = NO_EXTRA_AREAS) -> SearchResult:
    """Same answer as `find_places`, without index, bounding box or early stop.

    Reads every place, computes every distance, scores every candidate within the radius, sorts.
    Scoring reuses the search module's helpers: the baseline measures the cost of brute force,
    and agreement checks the shortcuts, not a second implementation of the scoring.
    """
    now = to_paris(now)
    today = now.date()
    level = need.level
    wanted = _canonical_specific(need.specific)
    in_person: List[PlaceMatch] = []
    remote: List[Tuple[float, float, str, object, Optional[float]]] = []
    for row in session.execute(select(*LIGHT_COLUMNS)):
        if not specific_ok(row, wanted):
            continue
        located = row.latitude is not None and row.longitude is not None
        distance = haversine_km(latitude, longitude, row.latitude, row.longitude) if located else None
        if distance is not None and distance <= radius_km and matches_level(row, level):
            in_person.append(_make_match(row, distance, level, now, today))
        if matches_remote(row, level) and remote_areas.serves(
                row.id, place_departement(row.code_insee, row.code_postal), departement):
            bonus = programme_bonus(row, level)
            rank = math.inf if distance is None else distance - bonus
            remote.append((rank, -bonus, row.id, row, distance))
    in_person.sort(key=_sort_key)
    matches = _load_places(session, in_person[:limit])
    shown = {m.place.id for m in matches}
    remote.sort(key=lambda c: c[:3])
    picked = [c for c in remote if c[2] not in shown][:limit]
    remote_matches = [_make_match(row, distance, level, now, today) for _, _, _, row, distance in picked]
    return SearchResult(matches=matches, radius_km=radius_km, remote=_load_places(session, remote_matches))


def remote_only(session, latitude: float, longitude: float, need: Need, *, radius_km: float = RADIUS_KM,
                now: Optional[datetime] = None, limit: int = LIMIT, departement: Optional[str] = None) -> SearchResult:
    """`find_remote` as bot/handoff/services.py calls it, wrapped like a search for `run_queries`."""
    remote = find_remote(session, need, latitude=latitude, longitude=longitude, departement=departement, now=now,
                         limit=limit)
    return SearchResult(matches=[], radius_km=radius_km, remote=remote)


# --- Steps --------------------------------------------------------------------------------------


def make_queries(count: int, seed: int, sampler: Optional[PopulationSampler] = None,
                 specific_share: float = SPECIFIC_SHARE) -> List[Query]:
    """Searches from population-weighted points (bench.national.sample_points' draws, with the commune
    drawn, whose département the remote places must serve); levels in turn, some with a specific need."""
    sampler = sampler or PopulationSampler()
    points_rng = random.Random(seed)
    points = [sampler.point(points_rng) for _ in range(count)]
    rng = random.Random(seed + 1)
    queries = []
    for i, (commune, lat, lon) in enumerate(points):
        specific = frozenset({rng.choice(SPECIFIC_NEEDS)}) if rng.random() < specific_share else frozenset()
        queries.append(Query(lat, lon, Need(LEVELS[i % len(LEVELS)], specific), commune.departement))
    return queries


def open_database(path: Path):
    """A fresh SQLite file with the bot's schema; returns the session factory."""
    if path.exists():
        path.unlink()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return session_factory(engine)


def measure_import(factory, csv_path: Path) -> ImportMeasure:
    gc.collect()
    started = time.perf_counter()
    report = import_places(factory, csv_path, now=BENCH_NOW)
    seconds = time.perf_counter() - started
    return ImportMeasure(rows=report.imported + report.rejected, seconds=seconds, bytes=csv_path.stat().st_size,
                         errors=len(report.errors), created=report.created, unchanged=report.unchanged)


def _ids(result: SearchResult) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    return tuple(m.place.id for m in result.matches), tuple(m.place.id for m in result.remote)


def run_queries(factory, queries: Sequence[Query], search: SearchFn, *, radius_km: float = RADIUS_KM,
                now: datetime = BENCH_NOW) -> Timings:
    """Time each search the way the bot runs it: one session per search."""
    timings = Timings()
    clock = time.perf_counter
    gc.collect()
    for q in queries:
        started = clock()
        with session_scope(factory) as session:
            before = clock()
            result = search(session, q.latitude, q.longitude, q.need, radius_km=radius_km, now=now, limit=LIMIT,
                            departement=q.departement)
            after = clock()
            ids = _ids(result)
        timings.request_s.append(clock() - started)
        timings.search_s.append(after - before)
        timings.results.append(ids)
    return timings


def compare(indexed: Timings, naive: Timings) -> Agreement:
    pairs = list(zip(indexed.results, naive.results))
    return Agreement(
        queries=len(pairs),
        top1=sum(a[0][:1] == b[0][:1] for a, b in pairs),
        top_list=sum(a[0] == b[0] for a, b in pairs),
        remote=sum(a[1] == b[1] for a, b in pairs),
        non_empty=sum(bool(a[0]) for a, _ in pairs),
    )


def profile_queries(factory, queries: Sequence[Query], *, radius_km: float = RADIUS_KM, top: int = 25) -> str:
    """cProfile of the indexed searches, heaviest cumulative first."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_queries(factory, queries, find_places, radius_km=radius_km)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def run(places: int = DEFAULT_PLACES, queries: int = DEFAULT_QUERIES, seed: int = DEFAULT_SEED,
        workdir: Optional[Path] = None, radius_km: float = RADIUS_KM, profile: bool = False,
        sampler: Optional[PopulationSampler] = None, log: Callable[[str], None] = lambda _: None) -> BenchResult:
    """Whole bench in `workdir` (a temporary directory if None)."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="aiguillage-bench-") as tmp:
            return run(places, queries, seed, Path(tmp), radius_km, profile, sampler, log)
    workdir = Path(workdir)
    sampler = sampler or PopulationSampler()

    log(f"generating {places} places…")
    started = time.perf_counter()
    directory = generate_directory(workdir / "lieux-national.csv", places, seed, sampler)
    generate_s = time.perf_counter() - started

    factory = open_database(workdir / "bench.sqlite")
    log("importing…")
    first = measure_import(factory, directory.path)
    log("re-importing the same file…")
    again = measure_import(factory, directory.path)

    batch = make_queries(queries + WARMUP_QUERIES, seed + 7, sampler)
    warmup, batch = batch[:WARMUP_QUERIES], batch[WARMUP_QUERIES:]
    run_queries(factory, warmup, find_places, radius_km=radius_km)  # hours parser cache, SQLite pages
    run_queries(factory, warmup, naive_find_places, radius_km=radius_km)
    log(f"{len(batch)} searches through find_places…")
    indexed = run_queries(factory, batch, find_places, radius_km=radius_km)
    log(f"{len(batch)} remote lists through find_remote…")
    remote = run_queries(factory, batch, remote_only, radius_km=radius_km)
    log(f"{len(batch)} searches by naive full scan…")
    naive = run_queries(factory, batch, naive_find_places, radius_km=radius_km)
    profile_text = profile_queries(factory, batch, radius_km=radius_km) if profile else None
    return BenchResult(directory, generate_s, first, again, batch, indexed, naive, remote, compare(indexed, naive),
                       profile_text)


# --- Output -------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _stats(values: Sequence[float]) -> Dict[str, float]:
    ordered = sorted(values)
    return {"p50": percentile(ordered, 50), "p95": percentile(ordered, 95), "p99": percentile(ordered, 99),
            "mean": sum(ordered) / len(ordered) if ordered else math.nan, "max": ordered[-1] if ordered else math.nan}


def _ratio(naive: float, indexed: float) -> str:
    return f"×{naive / indexed:.1f}" if indexed > 0 else "–"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "–"


def target_met(result: BenchResult) -> bool:
    return _stats(result.indexed.search_s)["p95"] * 1000 < TARGET_P95_MS


def render(result: BenchResult, radius_km: float = RADIUS_KM) -> str:
    """Markdown body of the report section (also printed)."""
    d, first, again, agree = result.directory, result.first_import, result.reimport, result.agreement
    idx_search, naive_search = _stats(result.indexed.search_s), _stats(result.naive.search_s)
    idx_request, naive_request = _stats(result.indexed.request_s), _stats(result.naive.request_s)
    remote_search = _stats(result.remote.search_s)
    met = target_met(result)
    lines = [
        "## Nearest-place search and import (`bench/search_bench.py`)",
        "",
        run_stamp(),
        "",
        f"Directory: {d.places:,} generated places (seed {d.seed}) spread like the population over "
        f"{d.communes:,} communes and {len(d.departements)} départements; CSV {d.bytes / 1e6:.1f} MB, "
        f"generated in {result.generate_s:.1f} s.",
        "",
        "### Import (SQLite file, `import_places`)",
        "",
        table(["", "rows", "errors", "time", "rows/s", "MB/s"], [
            ["first import (all created)", f"{first.rows:,}", first.errors, f"{first.seconds:.2f} s",
             f"{first.rows_per_s:,.0f}", f"{first.mb_per_s:.2f}"],
            ["re-import (all unchanged)", f"{again.rows:,}", again.errors, f"{again.seconds:.2f} s",
             f"{again.rows_per_s:,.0f}", f"{again.mb_per_s:.2f}"],
        ]),
        "",
        f"### Search ({len(result.queries):,} searches, radius {radius_km:g} km, limit {LIMIT}, "
        f"now = {BENCH_NOW:%Y-%m-%d %H:%M} Paris)",
        "",
        "Population-weighted points; levels in turn, "
        f"{sum(1 for q in result.queries if q.need.specific)} searches with a specific need. "
        "Latency in ms of the search function; \"per request\" adds opening and closing the session "
        "as `bot/handoff/services.py` does.",
        "",
        table(["", "p50", "p95", "p99", "mean", "max"], [
            ["find_places (in-memory index)"] + [_ms(idx_search[k]) for k in ("p50", "p95", "p99", "mean", "max")],
            ["naive full scan"] + [_ms(naive_search[k]) for k in ("p50", "p95", "p99", "mean", "max")],
            ["ratio naive / find_places"] + [_ratio(naive_search[k], idx_search[k])
                                             for k in ("p50", "p95", "p99", "mean", "max")],
            ["find_remote alone"] + [_ms(remote_search[k]) for k in ("p50", "p95", "p99", "mean", "max")],
            ["find_places per request"] + [_ms(idx_request[k]) for k in ("p50", "p95", "p99", "mean", "max")],
            ["naive per request"] + [_ms(naive_request[k]) for k in ("p50", "p95", "p99", "mean", "max")],
        ]),
        "",
        f"The remote list (\"À distance\" places, from the same index) costs "
        f"{_ms(remote_search['mean'])} ms on average when measured alone with `find_remote`, against "
        f"{_ms(idx_search['mean'])} ms for the whole find_places; the dialogue calls both on every search turn.",
        "",
        "By kind of search (p95, ms):",
        "",
        table(["kind", "searches", "find_places p95", "naive p95", "ratio"], _by_kind(result)),
        "",
        f"Agreement with the naive scan: same nearest place {_pct(agree.top1, agree.queries)}, same "
        f"{LIMIT} places in the same order {_pct(agree.top_list, agree.queries)}, same remote list "
        f"{_pct(agree.remote, agree.queries)}; at least one place within {radius_km:g} km in "
        f"{_pct(agree.non_empty, agree.queries)} of searches.",
        "",
        f"**Target p95 < {TARGET_P95_MS:g} ms: {'met' if met else 'NOT met'}** "
        f"(find_places p95 = {_ms(idx_search['p95'])} ms, {_ratio(naive_search['p95'], idx_search['p95'])} "
        "faster than the naive scan at p95).",
    ]
    return "\n".join(lines)


def _by_kind(result: BenchResult) -> List[List[object]]:
    groups: Dict[str, List[int]] = {}
    for i, q in enumerate(result.queries):
        groups.setdefault(q.label, []).append(i)
    rows = []
    for label in sorted(groups):
        idx = _stats([result.indexed.search_s[i] for i in groups[label]])["p95"]
        naive = _stats([result.naive.search_s[i] for i in groups[label]])["p95"]
        rows.append([label, len(groups[label]), _ms(idx), _ms(naive), _ratio(naive, idx)])
    return rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--places", type=int, default=DEFAULT_PLACES, help="directory size (default %(default)s)")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="searches (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--radius", type=float, default=RADIUS_KM, help="search radius in km (default %(default)s)")
    parser.add_argument("--workdir", type=Path, help="keep the CSV and SQLite file here (default: a temp dir)")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="report to update (default bench/REPORT.md)")
    parser.add_argument("--no-report", action="store_true", help="print only, do not touch the report")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the indexed searches")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[search_bench] {message}", file=sys.stderr, flush=True)

    result = run(args.places, args.queries, args.seed, args.workdir, args.radius, args.profile, log=log)
    publish(SECTION, render(result, args.radius), args.report, write=not args.no_report)
    if result.profile:
        print("\n--- cProfile of find_places (cumulative) ---\n" + result.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
