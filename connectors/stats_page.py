"""Coordinators' statistics page: anonymous aggregates, inline SVG charts, CSV export.

`stats_blueprint(factory, authorize)` serves `GET /` (the page) and `GET /export.csv`. Login is
the console's business: `authorize(request)` (sync or async) says whether the request may see the page.
Nothing here reads or prints a reference, a conversation key, a note or a single referral's time; the
numbers come from `bot.stats.publish` (rounded, whole weeks), the same for the page and the CSV.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import date
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
    "prise_en_charge": "Délai de prise en charge (depuis l'orientation)",
    "cloture": "Délai de clôture (depuis l'orientation)",
}
DELAY_LABELS = {"moins_1h": "Moins d'une heure", "1h_4h": "De 1 à 4 h", "4h_24h": "De 4 à 24 h",
                "1j_3j": "De 1 à 3 jours", "3j_7j": "De 3 à 7 jours", "plus_7j": "Plus de 7 jours"}
VALUE_LABELS = {
    "canal": {"desk": "Accueil (borne/page)", "telegram": "Telegram", "sms": "SMS", "helpline": "Ligne téléphonique"},
    "statut": {"ouverte": "Ouverte", "prise_en_charge": "Prise en charge", "cloturee": "Clôturée"},
    "issue": {"fait": "Fait", "reoriente": "Réorienté", "injoignable": "Injoignable",
              "retiree": "Retirée (la personne a effacé sa demande)"},
    "prise_en_charge": DELAY_LABELS,
    "cloture": DELAY_LABELS,
}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
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


def value_label(dimension: str, value: str, stats: Optional[st.Published] = None) -> str:
    if value == st.UNKNOWN:
        return "Non renseigné"
    if dimension == "niveau":
        return _level_label(value)
    if dimension == "commune" and stats is not None and value in stats.commune_names:
        return f"{stats.commune_names[value]} ({value})"
    return VALUE_LABELS.get(dimension, {}).get(value, value.replace("_", " "))


def french_day(day: date) -> str:
    """"lundi 2 mars 2026" inside a <time> element (the machine-readable date for other tools)."""
    text = f"{WEEKDAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"
    return f'<time datetime="{day.isoformat()}">{text}</time>'


# --- rendering -----------------------------------------------------------------------------------------

def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int]]) -> str:
    """Horizontal bars as inline SVG. Data are repeated in a table."""
    top = max((n for _, n in rows), default=0) or 1
    label_w, bar_w, row_h, value_w = 260, 420, 24, 70
    width, height = label_w + bar_w + value_w, row_h * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t">',
             f'<title id="{chart_id}-t">{escape(title)} (les valeurs sont dans le tableau qui suit)</title>']
    for i, (label, count) in enumerate(rows):
        y = 4 + i * row_h
        short = label if len(label) <= 38 else label[:37] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="l">{escape(short)}</text>')
        w = max(1, round(bar_w * count / top))
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" class="b"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 16}" class="v">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(
        (f'<th scope="row">{escape(c)}</th>' if j == 0 else f"<td>{escape(c)}</td>") for j, c in enumerate(row))
        + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _median_band(dimension: str, rows: list[tuple[str, int]]) -> str:
    """The band holding the median, worked out from the published (rounded) rows only."""
    if dimension not in st.BANDED or not rows:
        return ""
    half, running = sum(n for _, n in rows) / 2, 0
    for value, count in rows:
        running += count
        if running >= half:
            return f'<p class="n">Médiane : {escape(value_label(dimension, value).lower())}.</p>'
    return ""


def _period(window: st.Window) -> str:
    flt = window.filter
    if window.empty:
        counted = "aucune semaine terminée dans la période demandée"
    elif flt.start:
        counted = f"du {french_day(flt.start)} au {french_day(flt.end)}"
    else:
        counted = f"toutes les semaines terminées jusqu'au {french_day(flt.end)}"
    notes = []
    if window.widened:
        notes.append("La période demandée a été élargie à des semaines entières, du lundi au dimanche : "
                     "comparer deux périodes qui différeraient d'un jour montrerait ce jour-là.")
    if window.cut:
        notes.append("La semaine en cours n'est pas comptée : une semaine n'apparaît qu'une fois terminée, "
                     "pour que ses chiffres ne bougent pas à chaque nouvelle orientation.")
    return (f'<p id="periode"><strong>Période comptée :</strong> {counted}.</p>'
            + "".join(f'<p class="avis" role="status">{escape(note)}</p>' for note in notes))


def _rules(rules: st.Rules) -> str:
    base = rules.base
    if base == 1:
        intro = "<p>Seuls des totaux sont affichés :</p>"
        rounding = ("<li>les nombres sont exacts : la protection des petits effectifs est désactivée "
                    "(<code>AIGUILLAGE_STATS_MIN_COUNT=1</code>) ;</li>")
    else:
        intro = (f"<p>Seuls des totaux sont affichés, et aucun recoupement (entre tableaux, périodes ou "
                 f"départements) ne permet d'établir que de 1 à {base - 1} personnes ont une caractéristique "
                 f"donnée (une commune, un canal, un jour…) :</p>")
        rounding = (f"<li>chaque nombre est arrondi à un multiple de {base}, semaine par semaine et "
                    f"département par département, puis additionné : {base + 2} devient {base} ou {2 * base}, "
                    f"2 devient 0 ou {base} ; un « 0 » peut donc cacher jusqu'à {base - 1} orientations. "
                    f"Le sens de l'arrondi est tiré une fois pour toutes pour chaque semaine (la même question "
                    f"donne toujours la même réponse) et ne fausse pas les sommes en moyenne ; les lignes de "
                    f"chaque tableau ont pour somme le total affiché (celles des issues, le nombre de "
                    f"clôturées) ;</li>")
    return (f"{intro}<ul>{rounding}"
            f"<li>les statistiques portent sur des semaines entières, du lundi au dimanche (heure de Paris), "
            f"et une semaine n'est comptée qu'une fois terminée ;</li>"
            f"<li>les délais sont donnés par tranches (« de 1 à 4 h »), comptées et arrondies comme le "
            f"reste (une médiane calculée sur les orientations elles-mêmes se recouperait d'une période à "
            f"l'autre) ;</li>"
            f"<li>le détail (par niveau, commune, canal, délai…) n'est affiché qu'à partir de {rules.min_total} "
            f"orientations sur la période.</li></ul>")


def render_page(stats: st.Published, window: st.Window) -> str:
    flt, asked = window.filter, window.requested
    # The form shows the weeks really counted, for the dates the person filled in.
    shown_start = flt.start.isoformat() if asked.start else ""
    shown_end = "" if not asked.end else (asked.end if window.empty else flt.end).isoformat()
    query = urlencode({k: v for k, v in (("du", shown_start), ("au", shown_end),
                                         ("departement", flt.departement or "")) if v})
    options = ['<option value="">Tous</option>'] + [
        f'<option value="{escape(d)}"{" selected" if d == flt.departement else ""}>{escape(d)}</option>'
        for d in stats.departements]
    sections = []
    for dimension in st.DIMENSIONS:
        rows = stats.rows(dimension)
        if not rows:
            continue
        labelled = [(value_label(dimension, value, stats), count) for value, count in rows]
        title = DIMENSION_TITLES.get(dimension, dimension)
        note = (f"<p class=\"n\">Graphique limité aux {CHART_ROWS} premières lignes ; le tableau les donne toutes.</p>"
                if len(labelled) > CHART_ROWS else "")
        sections.append(
            f'<section aria-labelledby="s-{dimension}"><h2 id="s-{dimension}">{escape(title)}</h2>'
            f'<figure>{bar_chart("g-" + dimension, title, labelled[:CHART_ROWS])}</figure>{note}'
            + _median_band(dimension, rows)
            + _table(title, ["Valeur", "Orientations"], [[label, str(count)] for label, count in labelled])
            + "</section>")
    if not stats.total:
        body = "<p>Aucune orientation pour ces critères.</p>"
    elif not stats.detailed:
        body = (f'<p id="sans-detail">Moins de {stats.rules.min_total} orientations sur cette période : '
                f"le détail n'est pas affiché, pour qu'on ne puisse pas y reconnaître quelques personnes. "
                f"Choisissez une période plus longue ou tous les départements.</p>")
    else:
        body = "".join(sections)
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Statistiques anonymes — Aiguillage</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#1e1e1e}}
form{{display:flex;flex-wrap:wrap;gap:1rem;align-items:end;margin-bottom:1rem}}
label{{display:flex;flex-direction:column;font-weight:600}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}th,td{{border:1px solid #999;padding:.25rem .6rem;text-align:left}}
td{{text-align:right}}caption{{text-align:left;font-weight:600;padding:.25rem 0}}
svg .l,svg .v{{font:13px system-ui,sans-serif;fill:#1e1e1e}}svg .b{{fill:#2f5fa7}}
figure{{margin:0;overflow-x:auto}}.n{{font-size:.9rem}}.avis{{border-left:4px solid #b36b00;padding-left:.6rem}}
</style></head><body>
<h1>Statistiques anonymes</h1>
<form method="get" action="">
<label for="du">Du<input type="date" id="du" name="du" value="{escape(shown_start)}"></label>
<label for="au">Au<input type="date" id="au" name="au" value="{escape(shown_end)}"></label>
<label for="departement">Département<select id="departement" name="departement">{''.join(options)}</select></label>
<button type="submit">Filtrer</button>
<a href="export.csv{'?' + escape(query) if query else ''}" id="export">Exporter en CSV</a>
</form>
{_period(window)}
{_rules(stats.rules)}
<p id="total"><strong>Orientations : {stats.total}</strong></p>
{body}
</body></html>"""


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
        published, window = await gather(request)
        return response.html(render_page(published, window), headers=page_headers())

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
