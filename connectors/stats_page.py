"""Coordinators' statistics page: anonymous aggregates, inline SVG charts, CSV export.

`stats_blueprint(factory, authorize)` serves `GET /` (the page, templates/stats/), `GET /export.csv` and
`GET /static/<name>` (its style sheet). Login is the console's business: `authorize(request)` (sync or
async) says whether the request may see the page.
Nothing here reads or prints a reference, a conversation key, a note or a single referral's time; the
numbers come from `bot.handoff.stats.publish` (rounded, whole weeks), the same for the page and the CSV.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlencode

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from bot.console.accounts import authenticate_request, default_factory
from bot.core.codes import Channel
from bot.core.messages import level_label
from bot.core.settings import https_headers
from bot.handoff import stats as st
from bot.handoff.recap_labels import Body, Procedure
from bot.handoff.referrals import Outcome, Status
from connectors import console, templating

CHART_ROWS = 25  # a chart with hundreds of communes helps nobody; the table below keeps every row

STATIC_DIR = Path(__file__).resolve().parent / "static" / "stats"
REFUSED_TEXT = ("Accès réservé aux coordinateurs : les statistiques anonymes de tous les lieux ne sont ouvertes qu'aux "
                "comptes de coordination du territoire. Vos orientations restent dans la console.")
# Dimensions whose values are codes with a label, each defined once with its codes.
LABELLED = {"canal": Channel, "statut": Status, "issue": Outcome, "prise_en_charge": st.DelayBand,
            "cloture": st.DelayBand, "organisme": Body, "demarche": Procedure}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Styles from our own file only: no inline style, no script at all.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


def page_headers() -> dict:
    """The security headers, with HSTS when people reach us over https."""
    return {**SECURITY_HEADERS, **https_headers()}


def _level_label(code: str) -> str:
    try:
        return level_label(code)
    except Exception:  # unknown level or domain not reachable: the code is still meaningful
        return code


def value_label(dimension: str, value: str, stats: Optional[st.Published] = None) -> str:
    if value == st.UNKNOWN:
        return "Non renseigné"
    if dimension == "niveau":
        return _level_label(value)
    if dimension == "commune" and stats is not None and value in stats.commune_names:
        return f"{stats.commune_names[value]} ({value})"
    codes = LABELLED.get(dimension)
    if codes is not None and value in codes.codes():
        label = codes(value).label  # the mediators' recap's words for bodies and procedures
        return label[:1].upper() + label[1:]  # "la déclaration…" reads "La déclaration…" at a row's start
    return value.replace("_", " ")  # a code without a label is shown as it is


# --- rendering (templates/stats/) -----------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    width: int
    rect_y: int
    text_y: int
    value_x: int


@dataclass(frozen=True)
class Chart:
    """Geometry of a horizontal bar chart, worked out here so the template only draws it."""
    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int
    bars: list[Bar]


@dataclass(frozen=True)
class Section:
    dimension: str
    rows: list[tuple[str, int]]  # (label, count), every row
    chart: Chart                  # the first CHART_ROWS rows
    median: str                   # the band holding the median, or ""


def bar_chart(rows: list[tuple[str, int]]) -> Chart:
    top = max((n for _, n in rows), default=0) or 1
    label_w, bar_w, row_h, value_w = 260, 420, 24, 70
    bars = []
    for i, (label, count) in enumerate(rows):
        y = 4 + i * row_h
        width = max(1, round(bar_w * count / top))
        bars.append(Bar(label if len(label) <= 38 else label[:37] + "…", count, width, y + 3, y + 16,
                        label_w + width + 6))
    return Chart(label_w + bar_w + value_w, row_h * len(rows) + 8, label_w - 8, label_w, row_h - 6, bars)


def _median_band(dimension: str, rows: list[tuple[str, int]]) -> str:
    """The band holding the median, worked out from the published (rounded) rows only."""
    if dimension not in st.BANDED or not rows:
        return ""
    half, running = sum(n for _, n in rows) / 2, 0
    for value, count in rows:
        running += count
        if running >= half:
            return value_label(dimension, value).lower()
    return ""


def render_page(stats: st.Published, window: st.Window) -> str:
    flt, asked = window.filter, window.requested
    # The form shows the weeks really counted, for the dates the person filled in.
    shown_start = flt.start.isoformat() if asked.start else ""
    shown_end = "" if not asked.end else (asked.end if window.empty else flt.end).isoformat()
    query = urlencode({k: v for k, v in (("du", shown_start), ("au", shown_end),
                                         ("departement", flt.departement or "")) if v})
    sections = []
    for dimension in st.DIMENSIONS:
        rows = stats.rows(dimension)
        if rows:
            labelled = [(value_label(dimension, value, stats), count) for value, count in rows]
            sections.append(Section(dimension, labelled, bar_chart(labelled[:CHART_ROWS]),
                                    _median_band(dimension, rows)))
    return templating.render("stats/page.html", stats=stats, window=window, shown_start=shown_start,
                             shown_end=shown_end, query=query, sections=sections, chart_rows=CHART_ROWS,
                             console=console.PREFIX)


# --- blueprint -----------------------------------------------------------------------------------------

def stats_blueprint(factory: sessionmaker, authorize: Callable[[Request], object], *,
                    min_count: Optional[int] = None, min_total: Optional[int] = None,
                    today: Callable[[], date] = st.paris_today, name: str = "statistiques") -> Blueprint:
    """Blueprint for the statistics page; mount it under the console's URL prefix. `min_count` and
    `min_total` default to their settings; `today` says which weeks are over."""
    bp = Blueprint(name)

    async def allowed(request: Request) -> bool:
        verdict = authorize(request)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return bool(verdict)

    async def gather(request: Request) -> tuple[st.Published, st.Window]:
        """The page and the CSV both come from here: the same period, the same rules, the same numbers."""
        args = request.args
        requested = st.StatsFilter.parse(args.get("du"), args.get("au"), args.get("departement"))
        window = st.whole_weeks(requested, today())
        rules = st.Rules.from_env(min_count, min_total)

        def run() -> st.Published:
            with factory() as session:
                return st.published_for(session, window, rules)

        # The aggregation is synchronous database work: keep it off the event loop.
        published = await asyncio.get_running_loop().run_in_executor(None, run)
        return published, window

    def refused():
        # The console's own page (its layout and style sheet), with the way back to the referrals.
        document = console.render("message.html", title="Accès réservé", auth=None, flash_info=None,
                                  flash_error=None, script=None, heading="Statistiques réservées à la coordination",
                                  text=REFUSED_TEXT, back_to_list=True)
        return response.html(document, status=403, headers=page_headers())

    @bp.route("/", methods=["GET"])
    async def page(request: Request):
        if not await allowed(request):
            return refused()
        if not request.path.endswith("/"):  # relative links (export.csv) need the trailing slash
            target = request.path + "/" + (f"?{request.query_string}" if request.query_string else "")
            return response.redirect(target, status=301)
        published, window = await gather(request)
        return response.html(render_page(published, window), headers=page_headers())

    @bp.route("/static/<name>", methods=["GET"])
    async def static(request: Request, name: str):
        path = (STATIC_DIR / name).resolve()
        if path.parent != STATIC_DIR or not path.is_file():
            return response.text("introuvable", status=404)
        return await response.file(path, headers=page_headers())

    @bp.route("/export.csv", methods=["GET"])
    async def export(request: Request):
        if not await allowed(request):
            return refused()
        published, window = await gather(request)
        flt = window.filter  # the weeks really counted
        period = "_".join(d.isoformat() for d in (flt.start, flt.end) if d) if not window.empty else "aucune"
        suffix = f"-{flt.departement}" if flt.departement else ""
        headers = page_headers()
        headers["Content-Disposition"] = f'attachment; filename="aiguillage-statistiques-{period}{suffix}.csv"'
        return response.text(st.to_csv(published), headers=headers,
                              content_type="text/csv; charset=utf-8")

    return bp


def coordinator_only(request: Request) -> bool:
    """Statistics are for territory coordinators, logged in through the console."""
    account = authenticate_request(request)
    return account is not None and account.is_coordinator


class StatsInput(InputChannel):
    """Serves the statistics page at /webhooks/statistiques/ inside the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return "statistiques"

    @classmethod
    def from_credentials(cls, credentials) -> "StatsInput":
        return cls()

    def blueprint(self, on_new_message) -> Blueprint:
        return stats_blueprint(default_factory(), coordinator_only, name="statistiques_webhook")
