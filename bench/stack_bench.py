"""Full stack (desk channel -> Rasa -> action server -> database) against Rasa's default pipeline.

    .venv/bin/python -m bench.stack_bench [--quick] [--skip-training] [--conversations 30,100,200]

1. trains both models into temp dirs and times it (fresh Rasa training cache each time): ours
   (config.yml) and the baseline, the `rasa init` config of the installed Rasa copied at run time
   (its empty pipeline and policies are filled by Rasa with its default pipeline) with
   `language: fr`, on the same domain/ and data/; `--skip-training` reuses models/ and the
   baseline cached in bench/.cache/ (with the training time recorded when it was trained);
2. scores both with `aiguillage evaluate` (intent macro F1 on tests/nlu_eval/heldout.yml);
3. for each model starts a whole stack (its own SQLite file with the demo directory, its own
   ports), warms it up, then runs scripted conversations (3 to 6 messages, each ending with the
   person's consent and a referral written to the database) at 1, 10 and 50 concurrent
   conversations: messages/s, p50/p95 latency per message, referrals found in the database
   (lost, duplicated), then the resident memory of the Rasa and action servers;
4. prints the table, the ratios and whether each target is met, and rewrites its section of
   bench/REPORT.md.

Client and servers share the machine's CPUs; compare the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bench.report import REPORT_PATH, percentile, publish, run_stamp, table
from bot.ops.cli.database import DEMO_FILE
from bot.ops.cli.model import model_path
from bot.ops.cli.stack import run_environment, start_stack, start_worker, wait_until_ready
from bot.ops.deploy.services import free_port

SECTION = "stack"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
LEVELS = (1, 10, 50)
DEFAULT_CONVERSATIONS = (30, 100, 200)
QUICK_CONVERSATIONS = (5, 20, 50)
TARGET_THROUGHPUT_RATIO = 3.0   # ours / baseline, messages per second at 10 conversations
TARGET_LEVEL = 10
TARGET_P95_MS = 150.0           # ours, at 1 conversation
TARGET_P99_BUSY_MS = 1500.0     # ours, at the busiest level (50 conversations at once)
# The embedded default without our turn gate (connectors/admission.py): Rasa starts every message at once.
UNGATED_ENV = {"AIGUILLAGE_CONCURRENT_TURNS": "100000"}
UNGATED_LABEL = "ours, every turn at once"
MAX_MESSAGES = 8                # a conversation that has not reached a reference by then is abandoned
REQUEST_TIMEOUT_S = 120.0
BENCH_SECRET_KEY = "stack-bench-key"
CONSENT = '/choix{"valeur": "oui"}'  # what the desk page sends when "Oui, envoyer" is pressed
MODEL_INPUTS = ("domain", "data")


# --- conversations ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Script:
    """What one person types: opening messages, then free-text answers to the bot's questions."""

    name: str
    opening: Tuple[str, ...]
    answers: Dict[str, str] = field(default_factory=dict)


# Messages as people write them at a reception desk (no accents, abbreviations); all in Rennes,
# where the demo directory has places.
SCRIPTS: Tuple[Script, ...] = (
    Script("caf_urgence", ("bonjour",
                           "jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
                           "jai pas dordi, jsuis a rennes"),
           {"commune": "rennes", "equipement": "rien qui marche", "enjeu": "oui une date proche"}),
    Script("apprendre_visio", ("je voudrais apprendre a faire des visios avec mes petits enfants", "Rennes"),
           {"commune": "Rennes", "souhait": "apprendre a le faire seul", "equipement": "un telephone avec internet"}),
    Script("ameli_inclusion", ("jarrive pas a me connecter sur ameli, jai oublie mon identifiant",),
           {"enjeu": "non pas de date", "equipement": "un telephone avec internet",
            "souhait": "quelqu'un qui m'aide souvent", "commune": "35000"}),
    Script("impots_aide", ("bonjour", "il faut que je declare mes revenus sur impots.gouv et je sais pas faire"),
           {"enjeu": "oui une date proche", "equipement": "un ordinateur", "souhait": "qu'on le fasse avec moi",
            "commune": "35200"}),
)

# Button values that tell which question the bot just asked (domain/responses.yml).
_QUESTION_MARKERS = (("consentement", {"oui", "non"}), ("enjeu", {"delai", "probleme"}),
                     ("equipement", {"ordinateur", "telephone"}), ("souhait", {"faire_pour", "regulier"}),
                     ("demarche", {"caf", "france_travail"}), ("alternatives", {"plus_loin"}))
_VALUE = re.compile(r'"valeur"\s*:\s*"([^"]*)"')
_REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{4}\b")


def button_values(replies: Sequence[dict]) -> List[str]:
    """Values of the buttons of the last reply that has any (the pending question)."""
    for reply in reversed(replies):
        if reply.get("buttons"):
            return [m.group(1) for b in reply["buttons"] for m in [_VALUE.search(str(b.get("payload", "")))] if m]
    return []


def question_kind(replies: Sequence[dict]) -> Optional[str]:
    values = button_values(replies)
    if not values:
        return None
    if any(v.startswith("insee:") for v in values):
        return "commune_precision"
    if set(values) == {"a_distance"}:
        return "commune"
    for kind, markers in _QUESTION_MARKERS:
        if markers <= set(values):
            return kind
    return "autre"


def reference_in(replies: Sequence[dict]) -> Optional[str]:
    """The referral code the person is given, from the result card or the text."""
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "resultat" and custom.get("reference"):
            return custom["reference"]
    for reply in replies:
        match = _REFERENCE.search(reply.get("text") or "")
        if match and "numéro" in reply["text"]:
            return match.group(0)
    return None


def next_message(script: Script, replies: Sequence[dict], remaining: List[str]) -> Tuple[Optional[str], bool]:
    """Next thing the person sends, and whether the script had not foreseen the bot's question."""
    kind = question_kind(replies)
    if kind == "consentement":
        return CONSENT, False
    if kind in script.answers:
        return script.answers[kind], False
    if remaining:
        return remaining.pop(0), False
    if kind is not None:
        # An unforeseen question: the person presses the first button, as many do.
        payloads = [b.get("payload") for r in replies if r.get("buttons") for b in r["buttons"]]
        return (payloads[0], True) if payloads else (None, True)
    return None, False


@dataclass
class ConversationResult:
    script: str
    sender: str
    latencies: List[float] = field(default_factory=list)
    reference: Optional[str] = None
    errors: int = 0
    improvised: int = 0


async def run_conversation(client, url: str, script: Script, sender: str,
                           max_messages: int = MAX_MESSAGES) -> ConversationResult:
    import httpx

    result = ConversationResult(script.name, sender)
    remaining = list(script.opening)
    message: Optional[str] = remaining.pop(0)
    while message is not None and len(result.latencies) < max_messages:
        started = time.perf_counter()
        try:
            response = await client.post(url, json={"sender": sender, "message": message})
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError):
            result.errors += 1
            return result
        result.latencies.append(time.perf_counter() - started)
        result.reference = reference_in(replies)
        if result.reference:
            return result
        message, improvised = next_message(script, replies, remaining)
        result.improvised += improvised
    return result


@dataclass
class LevelResult:
    concurrency: int
    conversations: List[ConversationResult]
    wall_seconds: float
    referrals: Optional["ReferralCheck"] = None
    # CPU seconds used by each server during the level: unlike wall time, barely moved by other load.
    server_cpu: Dict[str, float] = field(default_factory=dict)

    def cpu_ms_per_message(self, server: Optional[str] = None) -> float:
        used = self.server_cpu.get(server, 0.0) if server else sum(self.server_cpu.values())
        return used / self.messages * 1000 if self.messages and self.server_cpu else float("nan")

    @property
    def latencies(self) -> List[float]:
        return sorted(x for c in self.conversations for x in c.latencies)

    @property
    def messages(self) -> int:
        return sum(len(c.latencies) for c in self.conversations)

    @property
    def throughput(self) -> float:
        return self.messages / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.conversations)

    @property
    def completed(self) -> int:
        return sum(1 for c in self.conversations if c.reference)

    @property
    def improvised(self) -> int:
        return sum(1 for c in self.conversations if c.improvised)


async def run_level(url: str, scripts: Sequence[Script], conversations: int, concurrency: int,
                    prefix: str) -> LevelResult:
    """`conversations` conversations, `concurrency` of them in flight at any moment."""
    import httpx

    results: List[Optional[ConversationResult]] = [None] * conversations
    counter = iter(range(conversations))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client):
        for index in counter:
            script = scripts[index % len(scripts)]
            results[index] = await run_conversation(client, url, script, f"{prefix}-{index:04d}")

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(min(concurrency, conversations))))
        wall = time.perf_counter() - started
    return LevelResult(concurrency, [r for r in results if r is not None], wall)


# --- referrals in the database ---------------------------------------------------------------------------

@dataclass
class ReferralCheck:
    expected: int          # one referral per conversation
    written: int           # conversations with at least one referral row
    rows: int
    shown_not_stored: int  # the person was given a code the database does not have
    not_reached: int       # the conversation never got to the consent (understanding, not the stack)

    @property
    def lost(self) -> int:
        return self.expected - self.written

    @property
    def duplicated(self) -> int:
        return self.rows - self.written


def check_referrals(conversations: Sequence[ConversationResult], stored: Dict[str, List[str]]) -> ReferralCheck:
    """`stored`: references found in the database for each sender of `conversations`."""
    written = sum(1 for c in conversations if stored.get(c.sender))
    rows = sum(len(stored.get(c.sender, [])) for c in conversations)
    shown_not_stored = sum(1 for c in conversations if c.reference and c.reference not in stored.get(c.sender, []))
    return ReferralCheck(expected=len(conversations), written=written, rows=rows,
                         shown_not_stored=shown_not_stored,
                         not_reached=sum(1 for c in conversations if not c.reference))


def stored_references(engine, senders: Iterable[str]) -> Dict[str, List[str]]:
    from sqlalchemy import select

    from bot.core.pseudonyms import pseudonymise
    from bot.handoff.referrals import Referral
    from connectors.desk import conversation_id

    # The desk names its conversations in its own namespace; a referral keeps a keyed hash of that name.
    keys = {pseudonymise(conversation_id(s)): s for s in senders}
    found: Dict[str, List[str]] = {}
    with engine.connect() as connection:
        rows = connection.execute(select(Referral.conversation_key, Referral.reference)).all()
    for key, reference in rows:
        if key in keys:
            found.setdefault(keys[key], []).append(reference)
    return found


# --- models ----------------------------------------------------------------------------------------------

def baseline_template() -> Path:
    import rasa

    return Path(rasa.__file__).resolve().parent / "cli" / "initial_project" / "config.yml"


def baseline_config_text(template: Optional[Path] = None) -> str:
    """The `rasa init` config as shipped, in French."""
    text = (template or baseline_template()).read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^language:.*$", "language: fr", text)
    if count != 1:
        raise ValueError("no top-level `language:` line in the rasa init config")
    return text


def inputs_digest(config_text: str, root: Path = PROJECT_ROOT) -> str:
    """Hash of what training reads (config, domain, data) and of the Rasa version."""
    import rasa

    digest = hashlib.sha256(config_text.encode())
    digest.update(rasa.__version__.encode())
    for name in MODEL_INPUTS:
        for path in sorted((root / name).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class TrainedModel:
    label: str
    path: Path
    train_seconds: Optional[float]
    trained_now: bool
    size_bytes: int = 0
    train_cpu_seconds: Optional[float] = None  # user + system: less sensitive to other load than wall time

    def __post_init__(self):
        # Read now: a model trained in a temp dir is gone when the report is written.
        if not self.size_bytes and self.path.exists():
            self.size_bytes = self.path.stat().st_size


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(config: Path, out_dir: Path, name: str, log_path: Path) -> Tuple[Path, float, float]:
    """`rasa train` as a user runs it, with an empty training cache so nothing is reused.

    Returns the model, the wall time and the CPU time (user + system) of the training."""

    env = run_environment()
    env["RASA_CACHE_DIRECTORY"] = str(out_dir / "rasa-cache")
    command = [sys.executable, "-m", "rasa", "train", "--config", str(config), "--domain", "domain",
               "--data", "data", "--out", str(out_dir), "--fixed-model-name", name]
    started, cpu = time.perf_counter(), _children_cpu()
    with open(log_path, "ab") as log:
        completed = subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    shutil.rmtree(out_dir / "rasa-cache", ignore_errors=True)
    model = out_dir / f"{name}.tar.gz"
    if completed.returncode != 0 or not model.exists():
        raise RuntimeError(f"training failed ({config}); see {log_path}")
    return model, seconds, cpu


def _cache_record(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prepare_models(workdir: Path, skip_training: bool, log=print, baseline_model: Optional[Path] = None,
                   only: Optional[str] = None) -> Tuple[Optional[TrainedModel], Optional[TrainedModel]]:
    """Both models, trained or from the cache; with `only`, the other one is None (never trained:
    the baseline alone takes 10 to 40 minutes)."""

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    ours_config = PROJECT_ROOT / "config.yml"
    ours_hash = inputs_digest(ours_config.read_text(encoding="utf-8"))
    base_text = baseline_config_text()
    base_hash = inputs_digest(base_text)
    base_dir = workdir / "baseline"
    base_dir.mkdir(parents=True, exist_ok=True)
    base_config = base_dir / "config.yml"
    base_config.write_text(base_text, encoding="utf-8")  # Rasa writes its auto-configuration into it
    base_cached = CACHE_DIR / f"baseline-{base_hash}.tar.gz"
    base_record = CACHE_DIR / f"baseline-{base_hash}.json"
    ours_record = CACHE_DIR / f"ours-{ours_hash}.json"

    ours_cached = model_path()
    record = _cache_record(ours_record) or {}
    if skip_training and ours_cached.exists() and record.get("train_seconds") is not None:
        ours = TrainedModel("ours", ours_cached, record["train_seconds"], False,
                            train_cpu_seconds=record.get("train_cpu_seconds"))
    else:
        # Cheap (about a minute): measured whenever no timing was recorded for these inputs.
        log("training our model (config.yml)...")
        path, seconds, cpu = train(ours_config, workdir / "ours", "ours", workdir / "train-ours.log")
        ours = TrainedModel("ours", path, seconds, True, train_cpu_seconds=cpu)
        _prune_cache("ours-")
        _write_record(ours_record, seconds, cpu)

    if only == "ours":
        return ours, None
    if baseline_model is not None:
        # Given by hand (--baseline): its training time is the one recorded beside it, if any.
        given = _cache_record(baseline_model.with_suffix("").with_suffix(".json")) or {}
        return ours, TrainedModel("baseline", baseline_model, given.get("train_seconds"), False,
                                  train_cpu_seconds=given.get("train_cpu_seconds"))
    record = _cache_record(base_record) or {}
    if skip_training and base_cached.exists():
        baseline = TrainedModel("baseline", base_cached, record.get("train_seconds"), False,
                                train_cpu_seconds=record.get("train_cpu_seconds"))
    else:
        log("training the baseline (rasa init pipeline: DIET + TED; 10 to 40 minutes on 2 CPUs)...")
        path, seconds, cpu = train(base_config, base_dir, "baseline", workdir / "train-baseline.log")
        _prune_cache("baseline-")  # one baseline (44 MB) is enough: older inputs are not measured again
        shutil.copyfile(path, base_cached)
        _write_record(base_record, seconds, cpu)
        baseline = TrainedModel("baseline", path, seconds, True, train_cpu_seconds=cpu)
    return ours, baseline


def _prune_cache(prefix: str) -> None:
    for old in CACHE_DIR.glob(f"{prefix}*"):
        old.unlink()


def _write_record(path: Path, seconds: float, cpu: float) -> None:
    path.write_text(json.dumps({"train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu, 1),
                                "trained_at": _now(), "load_average": _loadavg()}), encoding="utf-8")


def _loadavg() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def evaluate_model(model: Path) -> dict:
    """`aiguillage evaluate` on the held-out set: the same scoring for both models."""

    completed = subprocess.run([sys.executable, "-m", "bot.ops.cli", "evaluate", "--model", str(model)],
                               cwd=PROJECT_ROOT, env=run_environment(), capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"evaluation failed for {model}:\n{completed.stderr[-2000:]}")
    return parse_evaluation(completed.stdout)


def parse_evaluation(stdout: str) -> dict:
    """The JSON report, skipping what Rasa itself prints on stdout first (e.g. UnexpecTED's warning)."""
    match = re.search(r"^\{", stdout, re.MULTILINE)
    if match is None:
        raise ValueError(f"no JSON report in the evaluation output: {stdout[:300]!r}")
    return json.JSONDecoder().raw_decode(stdout[match.start():])[0]


# --- the stack -------------------------------------------------------------------------------------------

def _children(pid: int) -> List[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def memory_kib(pid: int) -> Tuple[int, int]:
    """(VmRSS, VmHWM) in KiB of a process and its children; (0, 0) when unreadable."""
    rss = peak = 0
    for one in [pid] + _children(pid):
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields.get("VmRSS", "0 kB").split()[0])
        peak += int(fields.get("VmHWM", "0 kB").split()[0])
    return rss, peak


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (0 when unreadable)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for one in [pid] + _children(pid):
        try:
            # Fields after the command name (which may contain spaces): utime and stime are 14th and 15th.
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Stack:
    """Action server + Rasa server on free ports, with their own SQLite file holding the demo places."""

    def __init__(self, model: Path, workdir: Path, extra_env: Optional[Dict[str, str]] = None):
        self.model, self.workdir = model, workdir
        self.extra_env = dict(extra_env or {})
        self.processes: list = []
        self.worker = None  # the notification and follow-up worker, as `aiguillage run` starts it
        self.engine = None
        self.base = ""

    def start(self, timeout: float = 300.0) -> "Stack":
        from bot.core.db import make_engine, session_factory, upgrade
        from bot.directory.importing.importer import import_places

        self.workdir.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{self.workdir / 'aiguillage.db'}"
        self.engine = make_engine(database_url)
        upgrade(self.engine)
        report = import_places(session_factory(self.engine), DEMO_FILE, demo=True)
        if report.errors:
            raise RuntimeError(f"demo directory import failed: {report.errors[:3]}")
        # Every simulated person writes from 127.0.0.1, many turns in a row: the rate limits would
        # answer them instead of Rasa, and Rasa's own cost is what is measured here.
        env = dict(run_environment(), AIGUILLAGE_DATABASE_URL=database_url,
                   AIGUILLAGE_SECRET_KEY=BENCH_SECRET_KEY, PYTHONPATH=str(PROJECT_ROOT),
                   AIGUILLAGE_RATE_PER_SENDER="1000000", AIGUILLAGE_RATE_PER_ADDRESS="1000000")
        env.update(self.extra_env)
        rasa_port, action_port = free_port(), free_port()
        self.processes = start_stack(self.model, rasa_port=rasa_port, action_port=action_port, env=env,
                                         log_dir=self.workdir)
        self.base = f"http://127.0.0.1:{rasa_port}"
        if not wait_until_ready(f"{self.base}/webhooks/desk/", self.processes, timeout=timeout):
            logs = self.logs()
            self.stop()
            raise RuntimeError(f"the stack did not start ({self.model.name}):\n{logs}")
        self.worker = start_worker(env, log_dir=self.workdir)
        return self

    @property
    def url(self) -> str:
        return f"{self.base}/webhooks/desk/webhook"

    def memory(self) -> Dict[str, Tuple[int, int]]:
        actions, rasa = self.processes
        memory = {"rasa": memory_kib(rasa.pid), "actions": memory_kib(actions.pid)}
        if self.worker is not None:
            memory["worker"] = memory_kib(self.worker.pid)
        return memory

    def cpu(self) -> Dict[str, float]:
        actions, rasa = self.processes
        return {"rasa": cpu_seconds(rasa.pid), "actions": cpu_seconds(actions.pid)}

    def logs(self, chars: int = 3000) -> str:
        return "\n".join((self.workdir / name).read_text(errors="replace")[-chars:]
                         for name in ("rasa.log", "actions.log") if (self.workdir / name).exists())

    def stop(self) -> None:
        children = self.processes + ([self.worker] if self.worker is not None else [])
        for process in children:
            process.terminate()
        for process in children:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.engine is not None:
            self.engine.dispose()


@dataclass
class StackResult:
    model: TrainedModel
    levels: List[LevelResult]
    memory: Dict[str, Tuple[int, int]]
    scores: Optional[dict] = None
    warmup_errors: int = 0

    def level(self, concurrency: int) -> Optional[LevelResult]:
        return next((lv for lv in self.levels if lv.concurrency == concurrency), None)


def measure_stack(model: TrainedModel, workdir: Path, counts: Sequence[int], levels: Sequence[int] = LEVELS,
                  scripts: Sequence[Script] = SCRIPTS, log=print, profile_dir: Optional[Path] = None,
                  extra_env: Optional[Dict[str, str]] = None) -> StackResult:
    """`profile_dir`: py-spy both servers during the level at 1 conversation and print where time goes."""
    stack = Stack(model.path, workdir, extra_env).start()
    run_id = uuid.uuid4().hex[:6]
    try:
        # Warm-up: every script twice, two at a time (model graphs, caches, connection pools).
        warm = asyncio.run(run_level(stack.url, scripts, 2 * len(scripts), 2, f"warm-{run_id}"))
        results = []
        for concurrency, count in zip(levels, counts):
            prefix = f"c{concurrency}-{run_id}"
            cpu_before = stack.cpu()
            if profile_dir is not None and concurrency == 1:
                with Profiler(stack, profile_dir / model.label) as profiler:
                    level = asyncio.run(run_level(stack.url, scripts, count, concurrency, prefix))
                log(f"profile of {model.label} at 1 conversation (py-spy, {profile_dir / model.label}):\n"
                    + render_profile(profiler.folded, level.messages))
            else:
                level = asyncio.run(run_level(stack.url, scripts, count, concurrency, prefix))
            level.server_cpu = {k: v - cpu_before[k] for k, v in stack.cpu().items()}
            senders = [c.sender for c in level.conversations]
            level.referrals = check_referrals(level.conversations, stored_references(stack.engine, senders))
            log(f"  {model.label}: {concurrency:>2} conversations at once: {level.messages} messages, "
                f"{level.throughput:.1f} msg/s, p50 {_ms(level.p(50))}, p95 {_ms(level.p(95))}")
            results.append(level)
        memory = stack.memory()
    finally:
        stack.stop()
    return StackResult(model, results, memory, warmup_errors=warm.errors)


# --- profile (optional: py-spy) --------------------------------------------------------------------------

PROFILE_RATE = 200  # samples per second
# Where each server does its work for one message (py-spy frame names, without line numbers).
PROFILE_ROOTS = {"rasa": ("handle_message (rasa/core/processor.py",),
                 "actions": ("webhook (rasa_sdk/endpoint.py", "handle (bot/triage/dialogue.py")}
_LINE_NUMBER = re.compile(r":\d+\)$")


def frame_breakdown(lines: Iterable[str], root: str, top: int = 15) -> Tuple[int, List[Tuple[int, str]]]:
    """Samples under the frame `root`, and the frames below it with the most samples (inclusive)."""
    total = 0
    counts: Dict[str, int] = {}
    for line in lines:
        stack, _, number = line.rstrip().rpartition(" ")
        frames = [_LINE_NUMBER.sub(")", f) for f in stack.split(";")]
        start = next((i for i, f in enumerate(frames) if f.startswith(root)), None)
        if start is None or not number.isdigit():
            continue
        total += int(number)
        for frame in set(frames[start + 1:]):
            counts[frame] = counts.get(frame, 0) + int(number)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return total, [(n, frame) for frame, n in ranked]


def render_profile(folded: Dict[str, Path], messages: int, rate: int = PROFILE_RATE, top: int = 15) -> str:
    out = []
    for server, path in folded.items():
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        for root in PROFILE_ROOTS[server]:
            total, frames = frame_breakdown(lines, root, top)
            if not total:
                continue
            per_message = total / rate / max(messages, 1) * 1000
            out.append(f"{server}: {root.split(' (')[0]} ({root.split('(')[1]}), {total} samples, "
                       f"{per_message:.0f} ms per message; heaviest frames below it:")
            out += [f"  {100 * n / total:5.1f}%  {frame}" for n, frame in frames]
    return "\n".join(out)


class Profiler:
    """py-spy record of the stack's servers (both), for one level; needs `pip install py-spy`."""

    def __init__(self, stack: "Stack", out_dir: Path):
        self.stack, self.out_dir = stack, out_dir
        self.processes: list = []
        self.folded: Dict[str, Path] = {}

    def __enter__(self) -> "Profiler":
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(spy).exists():
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        actions, rasa = self.stack.processes
        for name, process in (("rasa", rasa), ("actions", actions)):
            self.folded[name] = self.out_dir / f"{name}.folded"
            self.processes.append(subprocess.Popen(
                [spy, "record", "--pid", str(process.pid), "--format", "raw", "--rate", str(PROFILE_RATE),
                 "--subprocesses", "--nonblocking", "-o", str(self.folded[name])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)  # let py-spy attach before the load starts
        return self

    def __exit__(self, *exc) -> None:
        import signal

        for process in self.processes:
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


# --- report ----------------------------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:.0f} ms"


def _cpu(level: "LevelResult") -> str:
    if not level.server_cpu:
        return "-"
    return f"{level.cpu_ms_per_message('rasa'):.0f} + {level.cpu_ms_per_message('actions'):.0f} ms"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


@dataclass
class Verdict:
    name: str
    measured: str
    target: str
    met: bool


def verdicts(ours: StackResult, baseline: StackResult) -> List[Verdict]:
    out = []
    o10, b10 = ours.level(TARGET_LEVEL), baseline.level(TARGET_LEVEL)
    if o10 and b10:
        ratio = _ratio(o10.throughput, b10.throughput)
        out.append(Verdict(f"throughput at {TARGET_LEVEL} conversations, ours / baseline", f"{ratio:.1f}×",
                           f"≥ {TARGET_THROUGHPUT_RATIO:g}×", ratio >= TARGET_THROUGHPUT_RATIO))
    o1 = ours.level(1)
    if o1:
        p95 = o1.p(95) * 1000
        out.append(Verdict("p95 latency at 1 conversation, ours", f"{p95:.0f} ms", f"< {TARGET_P95_MS:g} ms",
                           p95 < TARGET_P95_MS))
    busiest = ours.level(LEVELS[-1])
    if busiest and o10:
        p99 = busiest.p(99) * 1000
        out.append(Verdict(f"p99 latency at {LEVELS[-1]} conversations, ours", f"{p99:.0f} ms",
                           f"< {TARGET_P99_BUSY_MS:g} ms", p99 < TARGET_P99_BUSY_MS))
        out.append(Verdict(f"throughput at {LEVELS[-1]} conversations / at {TARGET_LEVEL}, ours",
                           f"{busiest.throughput:.1f} / {o10.throughput:.1f} msg/s", "≥ 1×",
                           busiest.throughput >= o10.throughput))
    if ours.scores and baseline.scores:
        diff = ours.scores["intent_macro_f1"] - baseline.scores["intent_macro_f1"]
        out.append(Verdict("intent macro F1, ours − baseline", f"{diff:+.3f}", "≥ 0", diff >= 0))
    for label, result in (("ours", ours), ("baseline", baseline)):
        for level in result.levels:
            ref = level.referrals
            if ref and (ref.shown_not_stored or ref.duplicated):
                out.append(Verdict(f"referrals at {level.concurrency} conversations, {label}",
                                   f"{ref.shown_not_stored} lost, {ref.duplicated} duplicated", "0 and 0", False))
    return out


def render(ours: StackResult, baseline: StackResult, stamp: str = "", quick: bool = False,
           notes: Sequence[str] = (), ungated: Optional[StackResult] = None) -> str:
    lines = ["## Full stack: channel → Rasa → actions → database (`stack_bench.py`)", ""]
    if stamp:
        lines += [stamp, ""]
    if quick:
        lines += ["**Quick run (`--quick`): few conversations, figures are indicative only.**", ""]
    lines += ["Scripted desk conversations (" + ", ".join(s.name for s in SCRIPTS) + "), each ending with "
              "the person's consent and a referral written to SQLite; per-message latency measured by the "
              "client (httpx) on the same machine. Baseline: the `rasa init` config of the installed Rasa "
              "(its default pipeline: DIET + ResponseSelector, Memoization + Rule + UnexpecTED + TED policies), "
              "`language: fr`, same domain and data.", ""]
    rows = []
    for result in (ours, baseline) + ((ungated,) if ungated else ()):
        for level in result.levels:
            ref = level.referrals
            rows.append([result.model.label, level.concurrency, len(level.conversations), level.messages,
                         f"{level.throughput:.1f}", _ms(level.p(50)), _ms(level.p(95)), _ms(level.p(99)),
                         _cpu(level), level.errors,
                         f"{ref.written}/{ref.expected}" if ref else "-",
                         ref.shown_not_stored if ref else "-", ref.duplicated if ref else "-",
                         ref.not_reached if ref else "-"])
    lines += [table(["model", "conversations at once", "conversations", "messages", "messages/s", "p50", "p95",
                     "p99", "server CPU per message (Rasa + actions)", "errors", "referrals in DB", "shown, not stored",
                     "duplicated", "no consent reached"], rows), ""]
    if ungated:
        lines += [f"\"{UNGATED_LABEL}\": our model with the turn gate off (`AIGUILLAGE_CONCURRENT_TURNS` "
                  "past the number of conversations): Rasa starts every message as it arrives, as before issue 11; "
                  "\"ours\" and the baseline let 4 turns run at once and the others wait in arrival order "
                  "(`connectors/admission.py`).", ""]
    improvised = {r.model.label: sum(lv.improvised for lv in r.levels) for r in (ours, baseline)}
    if any(improvised.values()):
        lines += ["Conversations where the bot asked something the script had not foreseen (the person then "
                  "pressed the first button): " + ", ".join(f"{k} {v}" for k, v in improvised.items()) + ".", ""]
    rows = []
    for result in (ours, baseline):
        model = result.model
        when = "this run" if model.trained_now else "recorded when cached"
        train_s = f"{model.train_seconds:.0f} s ({when})" if model.train_seconds is not None else "not recorded"
        if model.train_cpu_seconds is not None:
            train_s += f", {model.train_cpu_seconds:.0f} s CPU"
        rss = result.memory
        rows.append([model.label, train_s, f"{model.size_bytes / 1e6:.1f} MB"]
                    + [f"{_mib(rss[name][0])} (peak {_mib(rss[name][1])})" if name in rss else "-"
                       for name in ("rasa", "actions", "worker")])
    lines += [table(["model", "training", "model file", "Rasa server RSS after load", "action server RSS",
                     "worker RSS"], rows), ""]
    if ours.scores and baseline.scores:
        rows = [[r.model.label, r.scores["intent_macro_f1"], r.scores["intent_accuracy"], r.scores["triage_accuracy"],
                 r.scores["urgence_recall"], r.scores["emergency_accuracy"]] for r in (ours, baseline)]
        lines += [f"Held-out set `tests/nlu_eval/heldout.yml` ({ours.scores['messages']} messages), scored by "
                  "`aiguillage evaluate` for both models:", "",
                  table(["model", "intent macro F1", "intent accuracy", "triage accuracy", "urgence recall",
                         "emergency number"], rows), ""]
    lines += ["Ratios measured in this run:", ""]
    o1, b1 = ours.level(1), baseline.level(1)
    for concurrency in LEVELS:
        o, b = ours.level(concurrency), baseline.level(concurrency)
        if o and b:
            line = (f"- {concurrency} conversation(s) at once: throughput ×{_ratio(o.throughput, b.throughput):.1f}, "
                    f"p95 ÷{_ratio(b.p(95), o.p(95)):.1f}")
            if o.server_cpu and b.server_cpu:
                line += f", server CPU per message ÷{_ratio(b.cpu_ms_per_message(), o.cpu_ms_per_message()):.1f}"
            lines.append(line)
    lines += ["", table(["target", "measured", "wanted", "met"],
                        [[v.name, v.measured, v.target, "yes" if v.met else "**no**"]
                         for v in verdicts(ours, baseline)]), ""]
    if o1 and b1 and (ours.warmup_errors or baseline.warmup_errors):
        lines.append(f"Warm-up errors: ours {ours.warmup_errors}, baseline {baseline.warmup_errors}.")
    lines += list(notes)
    return "\n".join(lines).rstrip() + "\n"


BASELINE_NOTE = (
    "Notes: both stacks run the same channel, action server, tracker store and fixes to Rasa's "
    "per-turn work (`bot/actions/rasa_runtime.py`, README \"Rasa's per-turn work\"): the comparison is "
    "between the pipelines and policies. The baseline has no `RedFlagClassifier`, so the rule "
    "`urgence vitale d'abord` only fires "
    "when DIET itself predicts `urgence_vitale` (no forced emergency number); none of the benchmark "
    "conversations is a vital emergency. \"No consent reached\" counts conversations whose replies "
    "never offered the consent within the message budget (understanding or dialogue, not the stack); "
    "\"shown, not stored\" counts codes given to the person that the database does not hold (the "
    "stack losing a write). The client shares the 2 CPUs with both servers, and so does anything else "
    "running on the machine (see the load average): wall-clock figures move with it, the servers' CPU "
    "per message much less; at 10 and 50 conversations the Rasa server is saturated, so messages/s is "
    "about 1 / its CPU per message.")


def parse_counts(text: str) -> Tuple[int, ...]:
    counts = tuple(int(x) for x in text.split(","))
    if len(counts) != len(LEVELS) or any(c < 1 for c in counts):
        raise argparse.ArgumentTypeError(f"{len(LEVELS)} positive counts expected, e.g. 30,100,200")
    return counts


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stack_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"few conversations ({','.join(map(str, QUICK_CONVERSATIONS))}); implies --skip-training")
    parser.add_argument("--conversations", type=parse_counts, default=None,
                        help="conversations at 1, 10 and 50 at once (default %s)"
                             % ",".join(map(str, DEFAULT_CONVERSATIONS)))
    parser.add_argument("--skip-training", action="store_true",
                        help="reuse models/ and the cached baseline (training time as recorded when trained)")
    parser.add_argument("--workdir", type=Path, help="keep models, logs and databases here (default: a temp dir)")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="report to update (default bench/REPORT.md)")
    parser.add_argument("--no-report", action="store_true", help="print only, do not touch the report")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy both servers at 1 conversation, keep the samples in DIR, "
                             "print the heaviest frames")
    parser.add_argument("--only", choices=("ours", "baseline"),
                        help="measure one model only (no ratios, report untouched): to try a change quickly")
    parser.add_argument("--baseline", type=Path, metavar="MODEL",
                        help="measure this baseline model file instead of the one cached for the current inputs "
                             "(e.g. one trained before a change of response texts only); say so in the report")
    parser.add_argument("--no-ungated", action="store_true",
                        help=f"skip \"{UNGATED_LABEL}\" (our model without the turn gate, at 10 and 50 at once)")
    args = parser.parse_args(argv)
    counts = args.conversations or (QUICK_CONVERSATIONS if args.quick else DEFAULT_CONVERSATIONS)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    # Referral rows carry a keyed hash of the sender: use the stacks' key to find ours.
    os.environ["AIGUILLAGE_SECRET_KEY"] = BENCH_SECRET_KEY

    temp = None if args.workdir else tempfile.TemporaryDirectory(prefix="stack-bench-")
    workdir = args.workdir or Path(temp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        ours, baseline = prepare_models(workdir, skip_training=args.skip_training or args.quick, log=log,
                                        baseline_model=args.baseline, only=args.only)
        results = []
        for model in (ours, baseline):
            if model is None or (args.only and model.label != args.only):
                continue
            log(f"evaluating {model.label} ({model.path.name})...")
            scores = evaluate_model(model.path)
            log(f"measuring {model.label}...")
            result = measure_stack(model, workdir / f"stack-{model.label}", counts, log=log,
                                   profile_dir=args.profile)
            result.scores = scores
            results.append(result)
        ungated = None
        if not args.only and not args.no_ungated:
            log(f"measuring {UNGATED_LABEL}...")
            unbound = TrainedModel(UNGATED_LABEL, ours.path, ours.train_seconds, False)
            ungated = measure_stack(unbound, workdir / "stack-ungated", counts[1:], levels=LEVELS[1:], log=log,
                                    extra_env=UNGATED_ENV)
    finally:
        if temp is not None:
            temp.cleanup()
    if args.only:
        for level in results[0].levels:
            print(f"{args.only}: {level.concurrency} at once: {level.throughput:.1f} msg/s, p50 {_ms(level.p(50))}, "
                  f"p95 {_ms(level.p(95))}, server CPU per message {_cpu(level)}, errors {level.errors}")
        return 0
    notes = [BASELINE_NOTE]
    if args.baseline is not None:
        notes.append(f"\nBaseline model given by hand (`--baseline {args.baseline.name}`): trained on the "
                     "same config, data and domain except the response texts changed since; responses do not "
                     "enter the model's predictions.")
    publish(SECTION, render(results[0], results[1], stamp=run_stamp(), quick=args.quick, notes=notes,
                            ungated=ungated), args.report, write=not args.no_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
