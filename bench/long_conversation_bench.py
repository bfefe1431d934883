"""Cost of a turn along one long conversation, with and without the bounded load.

    .venv/bin/python -m bench.long_conversation_bench [--turns 1000] [--no-report]

One person writes `--turns` messages to the desk channel of a whole stack (Rasa, action server,
SQLite with the demo directory): the scripted requests of `stack_bench` one after the other, each
ending with a referral and followed by "recommencer". Baseline: the same stack loading the whole
session at every turn, as Rasa's SQL tracker store does (AIGUILLAGE_TRACKER_WINDOW set past the
conversation's length). Ours: the default window. Printed: the mean and median time of the first,
middle and last 100 turns, the ratio last / first for each, and whether the target (the last 100
cost no more than twice the first 100) is met.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from bench.report import publish, run_stamp, table
from bench.stack_bench import REQUEST_TIMEOUT_S, SCRIPTS, Stack, next_message, reference_in
from bot.ops.cli.model import ensure_model

SECTION = "long_conversation"
TARGET_RATIO = 2.0
SPAN = 100
RESTART = "recommencer"
WHOLE_SESSION = str(10 ** 9)  # a window no conversation reaches: every turn loads the whole session


@dataclass
class LongRun:
    label: str
    latencies: List[float] = field(default_factory=list)
    references: int = 0
    errors: int = 0
    server_cpu: float = 0.0

    def span(self, start: int) -> List[float]:
        return self.latencies[start:start + SPAN]

    @property
    def first(self) -> List[float]:
        return self.span(0)

    @property
    def last(self) -> List[float]:
        return self.latencies[-SPAN:]

    @property
    def ratio(self) -> float:
        return statistics.mean(self.last) / statistics.mean(self.first)


async def one_person(url: str, turns: int, sender: str) -> LongRun:
    """One person's `turns` messages, one after the other; the latency of each."""
    import httpx

    run = LongRun(sender)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        async def say(message: str) -> list:
            started = time.perf_counter()
            response = await client.post(url, json={"sender": sender, "message": message})
            run.latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                run.errors += 1
                return []
            return response.json()

        index = 0
        while len(run.latencies) < turns:
            script = SCRIPTS[index % len(SCRIPTS)]
            index += 1
            remaining = list(script.opening)
            message: Optional[str] = remaining.pop(0)
            while message is not None and len(run.latencies) < turns:
                replies = await say(message)
                if reference_in(replies):
                    run.references += 1
                    break
                message, _ = next_message(script, replies, remaining)
            if len(run.latencies) < turns:
                await say(RESTART)
    return run


def measure(model: Path, workdir: Path, turns: int, window: Optional[str], label: str, log=print) -> LongRun:
    stack = Stack(model, workdir, {"AIGUILLAGE_TRACKER_WINDOW": window} if window else None).start()
    try:
        asyncio.run(one_person(stack.url, 20, f"warm-{uuid.uuid4().hex[:6]}"))
        before = sum(stack.cpu().values())
        run = asyncio.run(one_person(stack.url, turns, f"long-{uuid.uuid4().hex[:6]}"))
        run.server_cpu = sum(stack.cpu().values()) - before
        run.label = label
    finally:
        stack.stop()
    log(f"  {label}: {turns} turns, first {SPAN} mean {_ms(statistics.mean(run.first))}, "
        f"last {SPAN} mean {_ms(statistics.mean(run.last))}, ratio {run.ratio:.2f}")
    return run


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def render(ours: LongRun, baseline: LongRun, turns: int, stamp: str) -> str:
    middle = max(0, turns // 2 - SPAN // 2)
    spans = ((f"turns 1-{SPAN}", 0), (f"turns {middle + 1}-{middle + SPAN}", middle),
             (f"turns {turns - SPAN + 1}-{turns}", turns - SPAN))
    rows = []
    for name, start in spans:
        base, mine = baseline.span(start), ours.span(start)
        rows.append([name, _ms(statistics.mean(base)), _ms(statistics.median(base)),
                     _ms(statistics.mean(mine)), _ms(statistics.median(mine)),
                     f"÷{statistics.mean(base) / statistics.mean(mine):.1f}"])
    rows.append(["last / first (mean)", f"×{baseline.ratio:.2f}", "", f"×{ours.ratio:.2f}", "", ""])
    met = ours.ratio <= TARGET_RATIO
    lines = [
        "## One long conversation: cost per turn (`long_conversation_bench.py`)", "",
        stamp, "",
        f"One person writes {turns} messages to the desk channel of a whole stack (SQLite, demo directory): "
        "the scripted requests of `stack_bench` one after the other, each ending with a referral, then "
        "« recommencer ». Baseline: every turn loads the whole session, as Rasa's SQL tracker store does. "
        "Ours: the latest session's last events only (the window, `AIGUILLAGE_TRACKER_WINDOW`, 200 by "
        "default) and the events that still set the state.", "",
        table(["", "baseline mean", "baseline median", "ours mean", "ours median", "baseline / ours"], rows), "",
        f"Server CPU for the {turns} turns (Rasa + actions): baseline {baseline.server_cpu:.0f} s, ours "
        f"{ours.server_cpu:.0f} s. Referrals reached: baseline {baseline.references}, ours {ours.references}; "
        f"errors: baseline {baseline.errors}, ours {ours.errors}.", "",
        f"Target: the last {SPAN} turns cost no more than ×{TARGET_RATIO:g} the first {SPAN}: "
        f"**{'met' if met else 'not met'}** (×{ours.ratio:.2f}; the baseline ×{baseline.ratio:.2f}).",
    ]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_conversation_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--no-report", action="store_true", help="print only, do not touch the report")
    args = parser.parse_args(argv)
    if args.turns < 3 * SPAN:
        parser.error(f"--turns must be at least {3 * SPAN}")

    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    model = ensure_model(quiet=True)
    with tempfile.TemporaryDirectory(prefix="long-bench-") as temp:
        ours = measure(model, Path(temp) / "ours", args.turns, None, "ours", log)
        baseline = measure(model, Path(temp) / "baseline", args.turns, WHOLE_SESSION, "baseline", log)
    publish(SECTION, render(ours, baseline, args.turns, run_stamp()), write=not args.no_report)
    return 0 if ours.errors == baseline.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
