"""Does one sender's flood slow the others down? With and without the rate limits.

    .venv/bin/python -m bench.flood_bench [--flood 1000] [--people 10] [--no-report]

A whole stack (Rasa, action server, SQLite with the demo directory) serves `--people` people, each
writing a scripted request of `stack_bench` to the desk channel, first alone ("quiet"), then while one
more sender posts `--flood` messages as fast as 50 connections allow ("flood"), from a separate
process at the lowest CPU priority (a remote sender's machine does not share the server's CPU). Baseline: the same
stack with the per-sender limit out of reach (AIGUILLAGE_RATE_PER_SENDER very high). Ours: the default
limit. Printed: the others' median and 95th-percentile turn time, quiet and during the flood, the
ratio flood / quiet, and how many flood messages reached Rasa. All senders share 127.0.0.1, so the
per-address limit is out of reach in both runs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
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
from connectors.admission import DEFAULT_SENDER_RATE

SECTION = "flood"
FLOOD_CONNECTIONS = 50
NO_LIMIT = str(10 ** 9)


@dataclass
class FloodRun:
    label: str
    quiet: List[float] = field(default_factory=list)
    flooded: List[float] = field(default_factory=list)
    flood_answered: int = 0   # flood messages Rasa answered (200)
    flood_refused: int = 0    # answered at once with 429
    flood_errors: int = 0
    flood_seconds: float = 0.0


async def one_request(client, url: str, sender: str, script, latencies: List[float]) -> None:
    """One scripted request until its referral (or the script runs out)."""
    remaining = list(script.opening)
    message: Optional[str] = remaining.pop(0)
    while message is not None:
        started = time.perf_counter()
        response = await client.post(url, json={"sender": sender, "message": message})
        latencies.append(time.perf_counter() - started)
        replies = response.json() if response.status_code == 200 else []
        if reference_in(replies):
            return
        message, _ = next_message(script, replies, remaining)


async def people(url: str, count: int, latencies: List[float]) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        await asyncio.gather(*(one_request(client, url, f"person-{uuid.uuid4().hex[:8]}",
                                           SCRIPTS[i % len(SCRIPTS)], latencies) for i in range(count)))


async def flood(url: str, messages: int, run: FloodRun) -> None:
    import httpx

    sender = f"flood-{uuid.uuid4().hex[:8]}"
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(messages):
        queue.put_nowait(f"allo allo {i}")
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S,
                                 limits=httpx.Limits(max_connections=FLOOD_CONNECTIONS)) as client:
        async def worker():
            while not queue.empty():
                text = queue.get_nowait()
                try:
                    response = await client.post(url, json={"sender": sender, "message": text})
                except httpx.HTTPError:
                    run.flood_errors += 1
                    continue
                if response.status_code == 200:
                    run.flood_answered += 1
                elif response.status_code == 429:
                    run.flood_refused += 1
                else:
                    run.flood_errors += 1

        await asyncio.gather(*(worker() for _ in range(FLOOD_CONNECTIONS)))
    run.flood_seconds = time.perf_counter() - started


def flood_process(url: str, messages: int, results) -> None:
    """The flooder in its own process at the lowest priority: on this one machine it would otherwise
    take CPU from the server and from the measuring client, which a remote sender's machine does not."""
    os.nice(19)
    run = FloodRun("flood")
    asyncio.run(flood(url, messages, run))
    results.put((run.flood_answered, run.flood_refused, run.flood_errors, run.flood_seconds))


async def flooded(url: str, count: int, messages: int, run: FloodRun) -> None:
    results = multiprocessing.Queue()
    flooder = multiprocessing.Process(target=flood_process, args=(url, messages, results))
    flooder.start()
    await asyncio.sleep(2.0)  # the flood is under way when the others write
    await people(url, count, run.flooded)
    run.flood_answered, run.flood_refused, run.flood_errors, run.flood_seconds = \
        await asyncio.to_thread(results.get)
    await asyncio.to_thread(flooder.join)


def measure(model: Path, workdir: Path, label: str, per_sender: str, count: int, messages: int,
            log=print) -> FloodRun:
    # Stack raises both limits by default: the per-sender one is set here for each run.
    stack = Stack(model, workdir, {"AIGUILLAGE_RATE_PER_ADDRESS": NO_LIMIT,
                                   "AIGUILLAGE_RATE_PER_SENDER": per_sender}).start()
    run = FloodRun(label)
    try:
        asyncio.run(people(stack.url, 3, []))  # warm-up
        asyncio.run(people(stack.url, count, run.quiet))
        asyncio.run(flooded(stack.url, count, messages, run))
    finally:
        stack.stop()
    log(f"  {label}: others quiet p50 {_ms(_p(run.quiet, 50))}, during the flood p50 {_ms(_p(run.flooded, 50))}; "
        f"flood answered by Rasa {run.flood_answered}, refused {run.flood_refused}, errors {run.flood_errors}")
    return run


def _p(values: List[float], percentile: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percentile / 100 * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def render(ours: FloodRun, baseline: FloodRun, count: int, messages: int, stamp: str) -> str:
    rows = []
    for run in (baseline, ours):
        rows.append([run.label, _ms(_p(run.quiet, 50)), _ms(_p(run.flooded, 50)),
                     f"×{_p(run.flooded, 50) / _p(run.quiet, 50):.2f}", _ms(_p(run.quiet, 95)),
                     _ms(_p(run.flooded, 95)), f"×{_p(run.flooded, 95) / _p(run.quiet, 95):.2f}",
                     f"{run.flood_answered} / {messages}", f"{run.flood_seconds:.1f} s"])
    return "\n".join([
        "## One sender's flood and everyone else (`flood_bench.py`)", "",
        stamp, "",
        f"{count} people each write a scripted request to the desk (turn times below), alone, then while one "
        f"more sender posts {messages} messages through {FLOOD_CONNECTIONS} connections, from a process of the "
        "lowest priority (on this one machine, as a remote sender's CPU is not the server's). Baseline: no "
        "per-sender limit. Ours: the default limit (`AIGUILLAGE_RATE_PER_SENDER`, 10 a minute, burst 10); "
        "the flood past it is answered at once with 429 and never reaches Rasa.", "",
        table(["", "others p50 quiet", "p50 flood", "flood / quiet", "p95 quiet", "p95 flood", "flood / quiet",
               "flood messages run by Rasa", "flood lasted"], rows), "",
        f"Flood errors (neither 200 nor 429): baseline {baseline.flood_errors}, ours {ours.flood_errors}.",
    ])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=1000)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--no-report", action="store_true", help="print only, do not touch the report")
    args = parser.parse_args(argv)

    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    model = ensure_model(quiet=True)
    with tempfile.TemporaryDirectory(prefix="flood-bench-") as temp:
        ours = measure(model, Path(temp) / "ours", "ours", str(DEFAULT_SENDER_RATE.per_minute), args.people,
                       args.flood, log)
        baseline = measure(model, Path(temp) / "baseline", "baseline", NO_LIMIT, args.people, args.flood, log)
    publish(SECTION, render(ours, baseline, args.people, args.flood, run_stamp()), write=not args.no_report)
    return 0 if ours.flood_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
