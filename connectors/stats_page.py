"""Coordinators' statistics page: anonymous aggregates, inline SVG charts, CSV export.

`stats_blueprint(factory, authorize)` serves `GET /` (the page) and `GET /export.csv`. Login is
the console's business: `authorize(request)` (sync or async) says whether the request may see the page.
Nothing here reads or prints a reference, a conversation key, a note or a single referral's time.
"""

from __future__ import annotations

import asyncio
import inspect
from html import escape
from typing import Callable, Optional
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from bot import stats as st
from bot.settings import https_headers

CHART_ROWS = 25  # a chart with hundreds of communes helps nobody; the table below keeps every row

# Interface labels (the page is staff-facing; codes without a label are shown as they are).
DIMENSION_TITLES = {
    "niveau": "Par niveau", "organisme": "Par organisme", "demarche": "Par démarche",
    "departement": "Par département", "commune": "Par commune", "canal": "Par canal",
    "semaine": "Par semaine (ISO, heure de Paris)", "statut": "Par statut", "issue": "Par issue (clôturées)",
}
VALUE_LABELS = {
    "canal": {"desk": "Accueil (borne/page)", "telegram": "Telegram", "sms": "SMS", "helpline": "Ligne téléphonique"},
    "statut": {"ouverte": "Ouverte", "prise_en_charge": "Prise en charge", "cloturee": "Clôturée"},
    "issue": {"fait": "Fait", "reoriente": "Réorienté", "injoignable": "Injoignable"},
}
LEVEL_ORDER = ("urgence", "inclusion", "montee_en_competence", "hors_champ")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
}


def page_headers() -> dict:
    """The security headers, with HSTS when people reach us over https."""
    return {**SECURITY_HEADERS, **https_headers()}


def _level_label(code: str) -> str:
    try:
        from bot.messages import level_label

        return level_label(code)
    except Exception:  # unknown level or domain not reachable: the code is still meaningful
        return code


def value_label(dimension: str, value: str, stats: Optional[st.Stats] = None) -> str:
    if value == st.UNKNOWN:
        return "Non renseigné"
    if dimension == "niveau":
        return _level_label(value)
    if dimension == "commune" and stats is not None and value in stats.commune_names:
        return f"{stats.commune_names[value]} ({value})"
    return VALUE_LABELS.get(dimension, {}).get(value, value.replace("_", " "))


def duration(seconds: Optional[float]) -> str:
    """"45 min", "3 h 10", "2 j 5 h": the order of magnitude a coordinator reads at a glance."""
    if seconds is None:
        return "—"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} j {hours} h"


# --- rendering -----------------------------------------------------------------------------------------

def bar_chart(chart_id: str, title: str, rows: list[tuple[str, object]]) -> str:
    """Horizontal bars as inline SVG; hidden cells ("< N") get no bar. Data are repeated in a table."""
    numeric = [n for _, n in rows if isinstance(n, int)]
    top = max(numeric, default=0) or 1
    label_w, bar_w, row_h, value_w = 260, 420, 24, 70
    width, height = label_w + bar_w + value_w, row_h * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t">',
             f'<title id="{chart_id}-t">{escape(title)} (les valeurs sont dans le tableau qui suit)</title>']
    for i, (label, count) in enumerate(rows):
        y = 4 + i * row_h
        short = label if len(label) <= 38 else label[:37] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="l">{escape(short)}</text>')
        if isinstance(count, int):
            w = max(1, round(bar_w * count / top))
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" class="b"/>')
            parts.append(f'<text x="{label_w + w + 6}" y="{y + 16}" class="v">{count}</text>')
        else:
            parts.append(f'<text x="{label_w + 6}" y="{y + 16}" class="v m">{escape(str(count))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(
        (f'<th scope="row">{escape(c)}</th>' if j == 0 else f"<td>{escape(c)}</td>") for j, c in enumerate(row))
        + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _delays_table(stats: st.Stats, min_count: int) -> str:
    keys = set(stats.claim_delays) | set(stats.close_delays)
    ordered = [k for k in LEVEL_ORDER if k in keys] + sorted(k for k in keys if k not in LEVEL_ORDER
                                                              and k != "ensemble")
    if "ensemble" in keys:
        ordered.append("ensemble")
    rows = []
    for key in ordered:
        row = ["Ensemble" if key == "ensemble" else value_label("niveau", key)]
        for delays in (stats.claim_delays, stats.close_delays):
            raw = delays.get(key)
            delay = st.protected_delay(raw, min_count)
            row += [str(st.shown(raw.count, min_count)) if raw else "0",
                    duration(delay.median) if delay else "—", duration(delay.p90) if delay else "—"]
        rows.append(row)
    if not rows:
        return "<p>Aucun délai à calculer sur cette période.</p>"
    return _table("Délais depuis l'orientation (médiane et 90e centile)",
                  ["Niveau", "Prises en charge", "Médiane", "90e centile", "Clôtures", "Médiane", "90e centile"],
                  rows)


def render_page(stats: st.Stats, flt: st.StatsFilter, min_count: int) -> str:
    query = urlencode({k: v for k, v in (("du", flt.start.isoformat() if flt.start else ""),
                                         ("au", flt.end.isoformat() if flt.end else ""),
                                         ("departement", flt.departement or "")) if v})
    options = ['<option value="">Tous</option>'] + [
        f'<option value="{escape(d)}"{" selected" if d == flt.departement else ""}>{escape(d)}</option>'
        for d in stats.departements]
    sections = []
    for dimension in st.DIMENSIONS:
        rows = st.protected_rows(stats.rows(dimension), min_count)
        if not rows:
            continue
        labelled = [(value_label(dimension, value, stats), count) for value, count in rows]
        title = DIMENSION_TITLES.get(dimension, dimension)
        note = (f"<p class=\"n\">Graphique limité aux {CHART_ROWS} premières lignes ; le tableau les donne toutes.</p>"
                if len(labelled) > CHART_ROWS else "")
        sections.append(
            f'<section aria-labelledby="s-{dimension}"><h2 id="s-{dimension}">{escape(title)}</h2>'
            f'<figure>{bar_chart("g-" + dimension, title, labelled[:CHART_ROWS])}</figure>{note}'
            + _table(title, ["Valeur", "Orientations"], [[label, str(count)] for label, count in labelled])
            + "</section>")
    body = "".join(sections) if stats.total else "<p>Aucune orientation pour ces critères.</p>"
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Statistiques anonymes — Aiguillage</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#1e1e1e}}
form{{display:flex;flex-wrap:wrap;gap:1rem;align-items:end;margin-bottom:1rem}}
label{{display:flex;flex-direction:column;font-weight:600}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}th,td{{border:1px solid #999;padding:.25rem .6rem;text-align:left}}
td{{text-align:right}}caption{{text-align:left;font-weight:600;padding:.25rem 0}}
svg .l,svg .v{{font:13px system-ui,sans-serif;fill:#1e1e1e}}svg .b{{fill:#2f5fa7}}svg .m{{font-style:italic}}
figure{{margin:0;overflow-x:auto}}.n{{font-size:.9rem}}
</style></head><body>
<h1>Statistiques anonymes</h1>
<form method="get" action="">
<label for="du">Du<input type="date" id="du" name="du" value="{escape(flt.start.isoformat() if flt.start else '')}"></label>
<label for="au">Au<input type="date" id="au" name="au" value="{escape(flt.end.isoformat() if flt.end else '')}"></label>
<label for="departement">Département<select id="departement" name="departement">{''.join(options)}</select></label>
<button type="submit">Filtrer</button>
<a href="export.csv{'?' + escape(query) if query else ''}" id="export">Exporter en CSV</a>
</form>
<p>Seuls des totaux sont affichés. Les effectifs inférieurs à {min_count} sont masqués
(« &lt; {min_count} ») pour qu'aucune personne ne soit reconnaissable ; les délais ne sont calculés
qu'à partir de {min_count} orientations.</p>
<p id="total"><strong>Orientations : {escape(str(st.shown(stats.total, min_count)))}</strong></p>
<section aria-labelledby="s-delais"><h2 id="s-delais">Délais</h2>{_delays_table(stats, min_count) if stats.total else ''}</section>
{body}
</body></html>"""


# --- blueprint -----------------------------------------------------------------------------------------

def stats_blueprint(factory: sessionmaker, authorize: Callable[[Request], object], *,
                    min_count: Optional[int] = None, name: str = "statistiques") -> Blueprint:
    """Blueprint for the statistics page; mount it under the console's URL prefix."""
    bp = Blueprint(name)

    async def allowed(request: Request) -> bool:
        verdict = authorize(request)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return bool(verdict)

    async def gather(request: Request) -> tuple[st.Stats, st.StatsFilter, int]:
        args = request.args
        flt = st.StatsFilter.parse(args.get("du"), args.get("au"), args.get("departement"))
        threshold = min_count if min_count is not None else st.min_count_from_env()

        def run() -> st.Stats:
            with factory() as session:
                return st.compute(session, flt)

        # The aggregation is synchronous database work: keep it off the event loop.
        stats = await asyncio.get_running_loop().run_in_executor(None, run)
        return stats, flt, threshold

    def refused():
        return response.html("<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Accès refusé</title>"
                             "<p>Accès réservé aux coordinateurs.</p>"
                             "<p><a href=\"/webhooks/console/orientations\">Retour à la console</a></p></html>",
                             status=403,
                             headers=page_headers())

    @bp.route("/", methods=["GET"])
    async def page(request: Request):
        if not await allowed(request):
            return refused()
        if not request.path.endswith("/"):  # relative links (export.csv) need the trailing slash
            target = request.path + "/" + (f"?{request.query_string}" if request.query_string else "")
            return response.redirect(target, status=301)
        stats, flt, threshold = await gather(request)
        return response.html(render_page(stats, flt, threshold), headers=page_headers())

    @bp.route("/export.csv", methods=["GET"])
    async def export(request: Request):
        if not await allowed(request):
            return refused()
        stats, flt, threshold = await gather(request)
        period = "_".join(d.isoformat() for d in (flt.start, flt.end) if d) or "tout"
        suffix = f"-{flt.departement}" if flt.departement else ""
        headers = page_headers()
        headers["Content-Disposition"] = f'attachment; filename="aiguillage-statistiques-{period}{suffix}.csv"'
        return response.text(st.to_csv(stats, threshold, levels=LEVEL_ORDER), headers=headers,
                              content_type="text/csv; charset=utf-8")

    return bp


def coordinator_only(request: Request) -> bool:
    """Statistics are for territory coordinators, logged in through the console."""
    from bot.console.accounts import authenticate_request

    account = authenticate_request(request)
    return account is not None and account.is_coordinator


try:  # the Rasa channel wrapper; the blueprint above stays usable without Rasa (tests)
    from rasa.core.channels.channel import InputChannel
except ImportError:  # pragma: no cover
    InputChannel = object


class StatsInput(InputChannel):
    """Serves the statistics page at /webhooks/statistiques/ inside the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return "statistiques"

    @classmethod
    def from_credentials(cls, credentials) -> "StatsInput":
        return cls()

    def blueprint(self, on_new_message) -> Blueprint:
        from bot.console.accounts import default_factory

        return stats_blueprint(default_factory(), coordinator_only, name="statistiques_webhook")
