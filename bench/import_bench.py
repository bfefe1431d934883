"""Import of a national-size directory: the current format against an earlier version of the standard.

The same generated places (bench/national.py) are written twice: in the current v1.0 CSV, and as a
regional hub exported them under v0.1 (renamed columns, `;` between list items, the older services
and publics, `code_insee` missing on most rows, communes in capitals). Each file is imported into a
fresh SQLite database, one after the other, `--repeat` times; the fastest run of each counts. The
target: the legacy file takes no more than twice as long (issue 14).
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bench.national import DEFAULT_PLACES, DEFAULT_SEED, generate_directory
from bench.report import REPORT_PATH, publish, run_stamp
from bot.core.db import make_engine, session_factory, upgrade
from bot.directory.importing.importer import import_places
from bot.directory.importing.standard_versions import LEGACY_FIELDS, LEGACY_VALUE_TABLE, VERSIONS
from bot.directory.models import MULTI_SEPARATOR

SECTION = "import-legacy"
TARGET_RATIO = 2.0
LEGACY_LABEL = "0.1"
MISSING_INSEE_SHARE = 0.9  # real v0.1 exports: Hub du Sud had it on 23 of 792 rows, Charente on 11 of 188


def _legacy_columns() -> Dict[str, str]:
    """Current column -> the v0.1 column that held it."""
    fields = next(version.fields for version in VERSIONS if version.label == LEGACY_LABEL)
    out: Dict[str, str] = {}
    for legacy in fields:
        for current in LEGACY_FIELDS.get(legacy, (legacy,)):
            out.setdefault(current, legacy)
    return out


def _legacy_spellings() -> Dict[str, str]:
    """Current value -> an earlier spelling of it (the first the table gives)."""
    out: Dict[str, str] = {}
    for rows in LEGACY_VALUE_TABLE.values():
        for row in rows:
            if len(row.current) == 1:
                out.setdefault(row.current[0], row.legacy)
    return out


def write_legacy(current_csv: Path, legacy_csv: Path, seed: int) -> int:
    """Rewrite a current-format CSV as a v0.1 export; returns the number of rows."""
    columns = _legacy_columns()
    spellings = _legacy_spellings()
    header = list(dict.fromkeys(columns[name] for name in columns))
    rng = random.Random(seed)
    rows = 0
    with open(current_csv, encoding="utf-8", newline="") as source, \
            open(legacy_csv, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        for row in csv.DictReader(source):
            legacy: Dict[str, List[str]] = {}
            for name, value in row.items():
                target = columns.get(name)
                if target is None or not value:
                    continue
                items = [spellings.get(item, item) for item in value.split(MULTI_SEPARATOR)]
                legacy.setdefault(target, []).extend(items)
            cells = {name: ";".join(items) for name, items in legacy.items()}
            cells["commune"] = cells.get("commune", "").upper()
            if rng.random() < MISSING_INSEE_SHARE:
                cells["code_insee"] = "MISSING" if rng.random() < 0.2 else ""
            writer.writerow(cells)
            rows += 1
    return rows


@dataclass
class Measure:
    label: str
    rows: int
    kept: int
    warnings: int
    seconds: float


def measure(path: Path, db_path: Path, label: str) -> Measure:
    if db_path.exists():
        db_path.unlink()
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    gc.collect()
    started = time.perf_counter()
    report = import_places(session_factory(engine), path)
    seconds = time.perf_counter() - started
    engine.dispose()
    warnings = sum(count for count in getattr(report, "warning_counts", {}).values())
    return Measure(label, report.imported + report.rejected, report.imported, warnings, seconds)


def run(places: int, seed: int, repeat: int, workdir: Optional[Path], log=print) -> List[Measure]:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="aiguillage-import-bench-"))
    current, legacy = workdir / "national-v1.csv", workdir / "national-v0.1.csv"
    generate_directory(current, places=places, seed=seed)
    write_legacy(current, legacy, seed)
    log(f"{places} places written in both formats under {workdir}")
    best: Dict[str, Measure] = {}
    for attempt in range(repeat):
        for label, path in (("v1.0 (current)", current), ("v0.1 (legacy)", legacy)):
            result = measure(path, workdir / "bench.db", label)
            log(f"run {attempt + 1}: {label} {result.seconds:.2f} s, {result.kept}/{result.rows} kept")
            if label not in best or result.seconds < best[label].seconds:
                best[label] = result
    return list(best.values())


def render(results: Sequence[Measure], places: int) -> str:
    current, legacy = results
    ratio = legacy.seconds / current.seconds
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    lines = [
        "## Import of a legacy export (`bench/import_bench.py`)", "",
        run_stamp(), "",
        f"{places:,} generated places (bench/national.py), imported into a fresh SQLite file; "
        "the fastest of the runs of each format.", "",
        "| format | rows | kept | warnings | time | rows/s |", "| :-- | --: | --: | --: | --: | --: |",
    ]
    for m in results:
        lines.append(f"| {m.label} | {m.rows:,} | {m.kept:,} | {m.warnings:,} | {m.seconds:.2f} s | "
                     f"{m.rows / m.seconds:,.0f} |")
    lines += ["", f"Ratio legacy / current: ×{ratio:.2f}; target ≤ ×{TARGET_RATIO:.0f}: {verdict}."]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--places", type=int, default=DEFAULT_PLACES, help="directory size (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=2, help="imports of each file (default %(default)s)")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="report to update (default bench/REPORT.md)")
    parser.add_argument("--no-report", action="store_true", help="print only, do not touch the report")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[import_bench] {message}", file=sys.stderr, flush=True)

    results = run(args.places, args.seed, args.repeat, args.workdir, log=log)
    publish(SECTION, render(results, args.places), args.report, write=not args.no_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
