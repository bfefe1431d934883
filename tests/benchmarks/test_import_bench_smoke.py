"""Smoke test of bench/import_bench.py at a tiny size: the legacy file really is a v0.1 export, and both
files import whole. No timing assertion."""

from __future__ import annotations

import csv

from bench.import_bench import main, run, write_legacy
from bench.national import generate_directory
from bench.report import read_section
from bot.directory.importing.standard_versions import detect_version


def test_the_legacy_file_is_a_v0_1_export_of_the_same_places(tmp_path):
    current, legacy = tmp_path / "v1.csv", tmp_path / "v01.csv"
    generate_directory(current, places=50, seed=3)
    assert write_legacy(current, legacy, seed=3) == 50
    with open(legacy, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    header = list(rows[0])
    assert detect_version(header).version.label == "0.1"
    assert {"courriel", "labels_nationaux", "publics_accueillis", "conditions_acces"} <= set(header)
    assert sum(1 for r in rows if r["code_insee"] not in ("", "MISSING")) < 20  # mostly missing, as in real files
    assert all(r["commune"] == r["commune"].upper() for r in rows)
    assert any("Devenir autonome dans les démarches administratives" in r["services"] for r in rows)


def test_both_formats_import_every_place(tmp_path):
    results = run(places=120, seed=5, repeat=1, workdir=tmp_path, log=lambda _m: None)
    assert [(m.rows, m.kept) for m in results] == [(120, 120), (120, 120)]
    assert results[0].warnings == 0 and results[1].warnings > 0  # the legacy file's derived INSEE codes


def test_the_report_section_is_written(tmp_path):
    report = tmp_path / "REPORT.md"
    assert main(["--places", "60", "--repeat", "1", "--report", str(report), "--workdir", str(tmp_path)]) == 0
    section = read_section("import-legacy", report)
    assert "Ratio legacy / current" in section and "60 generated places" in section
