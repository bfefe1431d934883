"""Smoke test of the benchmark scripts at a tiny size: behaviour only, no timing assertion."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bench.national import PopulationSampler, generate_directory
from bench.report import read_section, update_section
from bench.search_bench import (
    compare,
    main,
    make_queries,
    measure_import,
    naive_find_places,
    open_database,
    run_queries,
)
from bot.core.db import session_scope
from bot.directory.areas import departement_of_insee
from bot.directory.models import Place
from bot.directory.search import find_places

PLACES = 300
QUERIES = 30


@pytest.fixture(scope="module")
def sampler():
    return PopulationSampler()


@pytest.fixture(scope="module")
def imported(tmp_path_factory, sampler):
    workdir = tmp_path_factory.mktemp("bench")
    directory = generate_directory(workdir / "lieux.csv", PLACES, seed=7, sampler=sampler)
    factory = open_database(workdir / "bench.sqlite")
    return directory, factory, measure_import(factory, directory.path)


def test_generated_directory_imports_without_error(imported):
    _, factory, measure = imported
    assert measure.errors == 0
    assert measure.created == PLACES
    with session_scope(factory) as session:
        assert len(session.execute(select(Place.id)).all()) == PLACES


def test_places_are_spread_like_the_population(imported):
    _, factory, _ = imported
    with session_scope(factory) as session:
        insee = [code for (code,) in session.execute(select(Place.code_insee))]
    by_dep = Counter(departement_of_insee(code) for code in insee)
    assert len(by_dep) >= 30  # all over France, not one cluster
    assert max(by_dep.values()) <= PLACES // 10
    assert by_dep["75"] > by_dep["48"]  # Paris outweighs Lozère


def test_generation_is_deterministic(tmp_path, sampler, imported):
    directory, _, _ = imported
    again = generate_directory(tmp_path / "again.csv", PLACES, seed=7, sampler=sampler)
    other = generate_directory(tmp_path / "other.csv", PLACES, seed=8, sampler=sampler)
    assert again.path.read_bytes() == directory.path.read_bytes()
    assert other.path.read_bytes() != directory.path.read_bytes()


def test_indexed_search_and_naive_scan_agree(imported, sampler):
    _, factory, _ = imported
    queries = make_queries(QUERIES, seed=11, sampler=sampler)
    assert {q.need.level for q in queries} == {"urgence", "inclusion", "montee_en_competence"}
    indexed = run_queries(factory, queries, find_places)
    naive = run_queries(factory, queries, naive_find_places)
    agreement = compare(indexed, naive)
    assert agreement.non_empty >= 5  # some answers to compare, not only empty ones
    assert agreement.top1 == QUERIES
    assert agreement.top_list == QUERIES
    assert agreement.remote == QUERIES


def test_cli_writes_only_its_own_section(tmp_path):
    report = tmp_path / "REPORT.md"
    update_section("throughput", "## Full stack\nfigures of another bench", report)
    assert main(["--places", "200", "--queries", "9", "--report", str(report), "--workdir", str(tmp_path)]) == 0
    first = read_section("search", report)
    assert "Target p95 < 5 ms" in first and "200 generated places" in first
    assert read_section("throughput", report) == "## Full stack\nfigures of another bench"

    update_section("search", "newer figures", report)  # a re-run replaces the section in place
    text = report.read_text(encoding="utf-8")
    assert text.count("<!-- bench:search -->") == 1 and "Target p95" not in text
    assert read_section("search", report) == "newer figures"
    assert text.index("bench:throughput") < text.index("bench:search")


def test_safety_bench_measures_both_paths_and_reports_the_target():
    from bench.safety_bench import report, run

    result = run(repeat=1, texts=["je veux mourir", "aide pour la caf", "il fait beau"])
    assert result["messages"] == 3 and result["calls"] == 3
    assert set(result["baseline"]) == set(result["ours"]) == {50, 95, 99}
    text = report(result)
    assert "Target p95 < 2 ms" in text and "cost ratio" in text
