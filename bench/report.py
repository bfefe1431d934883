"""bench/REPORT.md: each bench script rewrites only its own section.

A section sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; everything else in the
file (other benches' sections, hand-written notes) is kept as is. A section not yet in the file is
appended at the end.
"""

from __future__ import annotations

import math
import os
import platform
import re
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Sequence

REPORT_PATH = Path(__file__).resolve().parent / "REPORT.md"
HEADER = (
    "# Aiguillage benchmarks\n\n"
    "Figures written by the scripts in `bench/` (see `bench/README.md`); each script rewrites only "
    "its own section, so re-run a script rather than editing its figures by hand. Ratios are "
    "measured within one run, on one machine.\n"
)


def _markers(name: str):
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def update_section(name: str, body: str, path: Optional[Path] = None) -> Path:
    """Replace (or append) the section `name` of the report with `body`; return the file's path."""
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise ValueError(f"section name {name!r}: lowercase letters, digits, '-' and '_' only")
    path = Path(path) if path else REPORT_PATH
    start, end = _markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def publish(name: str, body: str, path: Optional[Path] = None, write: bool = True) -> None:
    """Print a bench's section and, unless `write` is false (--no-report), write it to the report."""
    print(body)
    if write:
        written = update_section(name, body, path)
        print(f"section `{name}` written to {written}", file=sys.stderr, flush=True)


def read_section(name: str, path: Optional[Path] = None) -> Optional[str]:
    """Body of the section `name`, or None if the report or the section does not exist."""
    path = Path(path) if path else REPORT_PATH
    if not path.exists():
        return None
    start, end = _markers(name)
    match = re.search(re.escape(start) + r"\n?(.*?)\n?" + re.escape(end), path.read_text(encoding="utf-8"), re.DOTALL)
    return match.group(1) if match else None


def run_stamp() -> str:
    """Date and machine of the run, one Markdown line."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    return (
        f"Run {when} on {platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} CPU, "
        f"Python {platform.python_version()} ({sys.implementation.name}), SQLite {sqlite3.sqlite_version}{_load()}."
    )


def _load() -> str:
    # Other processes on the machine inflate absolute times (ratios suffer less): say so.
    try:
        return ", load average {:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    except (AttributeError, OSError):
        return ""


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (p in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A small Markdown table (first column left-aligned, the others right-aligned)."""
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join([":--"] + ["--:"] * (len(header) - 1)) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
