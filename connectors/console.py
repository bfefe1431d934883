"""Mediators' console: web pages under /webhooks/console/ to follow up the referrals of a place.

Server-rendered HTML from the templates in connectors/templates/console/ (autoescaped: no value can add markup);
no JavaScript except the live conversation page's own file (static/console/direct.js: it only polls new messages,
set as text). Logic lives in bot.console (accounts, service); this module is the HTTP adapter: cookies, CSRF, which
page with which values.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text
from urllib.parse import urlencode, urlsplit

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.channels.outbound import build_senders
from bot.console import accounts, service, throttle
from bot.core import messages
from bot.core.codes import CallbackReason, Channel, DeliveryState
from bot.core.db import session_scope
from bot.core.moments import to_paris
from bot.core.phone import national
from bot.core.references import normalise_reference
from bot.core.settings import https_headers, served_over_https, setting
from bot.directory.models import Place
from bot.handoff import takeover
from bot.handoff.followup import Kind as FollowupKind
from bot.handoff.notifications.config import Kind as NotifyKind
from bot.handoff.recap import recap_of_referral
from bot.handoff.referrals import OUTCOMES, STATUSES, Outcome, Referral, Status
from connectors import templating
from connectors.admission import client_address

logger = logging.getLogger(__name__)

PREFIX = "/webhooks/console"
STATIC_DIR = Path(__file__).resolve().parent / "static" / "console"
PRE_COOKIE = "aiguillage_console_pre"  # double-submit token for the login form (no session yet)
ORIGINS_ENV = "AIGUILLAGE_CONSOLE_ORIGINS"  # extra allowed Origin values, comma-separated (reverse proxy)

SECURITY_HEADERS = {
    # No script at all on these pages: even a missed escape could not run anything.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": browsers would then send "Origin: null" on our own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

MESSAGES = {
    # errors
    "identifiants_invalides": "Adresse e-mail ou mot de passe incorrect.",
    "trop_de_tentatives": "Trop de tentatives : attendez un peu avant de réessayer (l'attente double à chaque "
                          "nouvel essai manqué). Depuis votre poste habituel, la connexion reste possible.",
    "occupe": "Le service est très occupé : réessayez dans une minute.",
    "jeton": "Formulaire expiré ou invalide : rechargez la page et recommencez.",
    "introuvable": "Orientation introuvable.",
    "deja_prise_en_charge": "Cette orientation est déjà prise en charge.",
    "deja_cloturee": "Cette orientation est déjà clôturée : plus de prise en charge, de réassignation ni de clôture.",
    "transition_invalide": "Cette action n'est pas possible dans l'état actuel de l'orientation.",
    "note_vide": "La note est vide.",
    "note_trop_longue": f"La note est trop longue ({service.MAX_NOTE_CHARS} caractères au plus).",
    "lieu_inconnu": "Choisissez un lieu de la liste.",
    "meme_lieu": "L'orientation est déjà dans ce lieu.",
    "motif_obligatoire": "Indiquez le motif de la réassignation.",
    "resultat_invalide": "Choisissez l'issue : fait, réorientée ou personne injoignable.",
    "reference_inconnue": "Aucune orientation visible pour vous avec ce code.",
    "reference_invalide": "Code invalide : il a 7 caractères, par exemple K7M-4XPQ.",
    "direct_sans_canal": "Pas de discussion en direct possible : la personne n'est pas venue par SMS ou "
                         "Telegram, ou n'a pas laissé de moyen de la recontacter.",
    "direct_cloturee": "L'orientation est clôturée : plus de discussion en direct.",
    "direct_deja_en_cours": "Une discussion en direct est déjà en cours pour cette orientation.",
    "direct_lieu_ferme": "Le lieu est fermé : la discussion en direct est possible pendant ses horaires d'ouverture.",
    "direct_horaires_inconnus": "Les horaires du lieu ne sont pas connus : la discussion en direct n'est possible "
                                "que pendant les horaires d'ouverture. Faites mettre à jour les horaires du lieu.",
    "direct_termine": "La discussion en direct est terminée : l'assistant automatique a repris.",
    "direct_message_vide": "Le message est vide.",
    "direct_message_trop_long": "Message trop long (1000 caractères au plus) : coupez-le en plusieurs messages.",
    "direct_autre_lieu": "Seuls les médiateurs du lieu de l'orientation peuvent discuter en direct avec la personne.",
    # confirmations
    "direct_commence": "Vous avez pris la main : la personne est prévenue, l'assistant automatique est en pause.",
    "direct_rendu": "Vous avez rendu la main : la personne est prévenue, l'assistant automatique reprend.",
    "envoye": "Message envoyé.",
    "non_envoye": "Le message n'a pas pu être envoyé à la personne (voir l'erreur sous le message). Réessayez.",
    "rappele": "Rappel noté comme fait.",
    "rappel_inconnu": "Ce rappel n'est plus dans votre liste (déjà fait, ou d'un autre lieu).",
    "pris": "Orientation prise en charge.",
    "note_ajoutee": "Note ajoutée.",
    "reassignee": "Orientation transmise à l'autre lieu.",
    "cloturee": "Orientation clôturée.",
    "deconnecte": "Vous êtes déconnecté.",
}


def fmt_time(moment: Optional[datetime]) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # stored as UTC
    return to_paris(moment).strftime("%d/%m/%Y %H:%M")


def label_level(level: str) -> str:
    try:
        return messages.level_label(level)
    except KeyError:
        return level


def reason_label(code: str) -> str:
    try:
        return messages.reason_text(code)
    except KeyError:
        return code


# --------------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------------

def _with_headers(resp):
    for name, value in {**SECURITY_HEADERS, **https_headers()}.items():
        resp.headers[name] = value
    return resp


def _set_cookie(resp, name: str, value: str, max_age: int, path: str = "/") -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = path
    cookie["max-age"] = max_age
    if served_over_https() or setting(accounts.SECURE_COOKIE_ENV):
        cookie["secure"] = True


def redirect(path: str, **params):
    query = urlencode({k: v for k, v in params.items() if v})
    resp = response.redirect(PREFIX + path + (("?" + query) if query else ""), status=303)
    return _with_headers(resp)


def page(template: str, title: str, auth: Optional[accounts.Authenticated] = None, status: int = 200,
         flash_info: Optional[str] = None, flash_error: Optional[str] = None, script: Optional[str] = None,
         **context):
    """A console page (templates/console/<template>) with its headers; `context`: the template's own values."""
    document = render(template, title=title, auth=auth, flash_info=flash_info, flash_error=flash_error,
                      script=script, **context)
    resp = _with_headers(response.html(document, status=status))
    if script:
        # Our own file only (never inline), and it may only call back this server.
        resp.headers["Content-Security-Policy"] = SECURITY_HEADERS["Content-Security-Policy"].replace(
            "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';")
    return resp


MAX_ID = 2 ** 63 - 1
GONE_PLACE = "un lieu retiré de l'annuaire"


def not_found(auth: Optional[accounts.Authenticated]):
    return page("message.html", "Introuvable", auth, status=404, heading="Introuvable",
                text=MESSAGES["introuvable"], back_to_list=True)


def refused(auth: Optional[accounts.Authenticated] = None):
    return page("message.html", "Requête refusée", auth, status=403, heading="Requête refusée",
                text=MESSAGES["jeton"], back_to_list=False)


# --------------------------------------------------------------------------------------------------
# Channel
# --------------------------------------------------------------------------------------------------

class ConsoleInput(InputChannel):
    """No Rasa turn happens here; the channel only serves the console pages. Injectable for tests."""

    def __init__(self, session_factory=None, clock: Optional[Callable[[], datetime]] = None,
                 senders: Optional[dict] = None):
        self._factory = session_factory
        self._clock = clock
        self._senders = senders
        if session_factory is not None or clock is not None:
            accounts.configure(session_factory, clock)

    @classmethod
    def name(cls) -> Text:
        return "console"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "ConsoleInput":
        return cls()

    def factory(self):
        if self._factory is None:
            self._factory = accounts.default_factory()
        return self._factory

    def now(self) -> datetime:
        return self._clock() if self._clock is not None else datetime.now(timezone.utc)

    def senders(self) -> dict:
        """How to reach a person on their channel (live takeover), built on first use."""
        if self._senders is None:
            self._senders = build_senders()
        return self._senders

    async def send_live(self, referral_id: int, texts: Optional[dict] = None) -> bool:
        """Send the live messages recorded for this referral and not sent yet; False if one failed.

        `texts`: message id -> text to send instead of the stored (redacted) copy."""
        with session_scope(self.factory()) as session:
            pending = takeover.unsent(session, referral_id)
        ok = True
        for message_id in pending:
            status = await takeover.deliver(self.factory(), message_id, self.senders(), (texts or {}).get(message_id))
            ok = ok and status == takeover.SENT
        return ok

    # --- request helpers ------------------------------------------------------------------------

    def authenticate(self, session, request: Request) -> Optional[accounts.Authenticated]:
        return accounts.resolve_token(session, request.cookies.get(accounts.COOKIE_NAME), self.now())

    @staticmethod
    def origin_ok(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:
            return True  # older browsers and curl: the CSRF token alone decides
        allowed = {o.strip().rstrip("/") for o in (setting(ORIGINS_ENV) or "").split(",") if o.strip()}
        if origin.rstrip("/") in allowed:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == request.host

    def post_allowed(self, request: Request, expected: Optional[str]) -> bool:
        given = request.form.get("csrf") if request.form else None
        return self.origin_ok(request) and accounts.csrf_matches(expected, given)

    def guard(self, session, request: Request, post: bool = False):
        """(signed-in account, None), or (None, the response to send instead: login page, refused form)."""
        auth = self.authenticate(session, request)
        if auth is None:
            return None, redirect("/connexion")
        if post and not self.post_allowed(request, auth.csrf_token):
            return None, refused(auth)
        return auth, None

    # --- blueprint ------------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("console_webhook", __name__)
        channel = self

        @bp.middleware("request")
        async def no_id_past_the_database(request: Request):
            # A number past 64-bit SQL integers names no row, and the query would overflow: a 404.
            if any(isinstance(value, int) and not 0 <= value <= MAX_ID
                   for value in (request.match_info or {}).values()):
                return not_found(None)

        @bp.route("/", methods=["GET"])
        async def home(request: Request):
            with session_scope(channel.factory()) as session:
                auth = channel.authenticate(session, request)
            return redirect("/orientations" if auth else "/connexion")

        @bp.route("/static/<name>", methods=["GET"])
        async def static(request: Request, name: str):
            path = (STATIC_DIR / name).resolve()
            if path.parent != STATIC_DIR or not path.is_file():
                return response.text("introuvable", status=404)
            return await response.file(path)

        # --- login / logout ---------------------------------------------------------------------

        def login_page(error: Optional[str] = None, info: Optional[str] = None, email: str = "", status: int = 200):
            token = secrets.token_urlsafe(24)
            resp = page("login.html", "Connexion", flash_error=error, flash_info=info, status=status, token=token,
                        email=email)
            _set_cookie(resp, PRE_COOKIE, token, max_age=3600, path=PREFIX)
            return resp

        @bp.route("/connexion", methods=["GET"])
        async def login_form(request: Request):
            return login_page(info=request.args.get("info"))

        @bp.route("/connexion", methods=["POST"])
        async def login_submit(request: Request):
            if not channel.post_allowed(request, request.cookies.get(PRE_COOKIE)):
                return login_page(error="jeton", status=403)
            email = (request.form.get("email") or "").strip()[:320]
            password = request.form.get("mot_de_passe") or ""
            now = channel.now()

            client, device = client_address(request), request.cookies.get(throttle.DEVICE_COOKIE)

            def attempt():
                with session_scope(channel.factory()) as session:
                    result = accounts.login(session, email, password, now, client=client, device_token=device)
                    if result.status == accounts.LOGIN_OK:
                        service.record(session, result.account, service.ACTION_LOGIN, now=now)
                    return result

            # scrypt takes tens of milliseconds: keep it off the event loop shared with Rasa.
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, attempt)
            except OperationalError:  # the database stayed busy past its timeout: say so, never a 500
                logger.exception("login attempt not checked: database busy")
                return login_page(error="occupe", email=email, status=503)
            if result.status == accounts.LOGIN_LOCKED:
                wait = max(1, int((result.retry_at - now).total_seconds() + 0.999))
                resp = login_page(error="trop_de_tentatives", email=email, status=429)
                resp.headers["Retry-After"] = str(wait)
                return resp
            if result.status != accounts.LOGIN_OK:
                return login_page(error=result.status, email=email, status=401)
            resp = redirect("/orientations")
            max_age = int((result.expires_at - now).total_seconds())
            _set_cookie(resp, accounts.COOKIE_NAME, result.token, max_age=max_age)
            _set_cookie(resp, throttle.DEVICE_COOKIE, result.device_token,
                        max_age=throttle.DEVICE_COOKIE_DAYS * 86400, path=PREFIX + "/connexion")
            _set_cookie(resp, PRE_COOKIE, "", max_age=0, path=PREFIX)
            return resp

        @bp.route("/deconnexion", methods=["POST"])
        async def logout(request: Request):
            with session_scope(channel.factory()) as session:
                auth, refusal = channel.guard(session, request, post=True)
                if refusal is not None:
                    return refusal
                service.record(session, auth.account, service.ACTION_LOGOUT, now=channel.now())
                accounts.logout(session, request.cookies.get(accounts.COOKIE_NAME))
            resp = redirect("/connexion", info="deconnecte")
            _set_cookie(resp, accounts.COOKIE_NAME, "", max_age=0)
            return resp

        # --- pages ------------------------------------------------------------------------------

        @bp.route("/orientations", methods=["GET"])
        async def referral_list(request: Request):
            with session_scope(channel.factory()) as session:
                auth, refusal = channel.guard(session, request)
                if refusal is not None:
                    return refusal
                account = auth.account
                typed = (request.args.get("reference") or "").strip()
                if typed:
                    found = service.find_reference(session, account, typed)
                    if found is not None:
                        return redirect(f"/orientations/{found.id}")
                    error = "reference_invalide" if normalise_reference(typed) is None else "reference_inconnue"
                else:
                    error = request.args.get("erreur")
                status = request.args.get("statut")
                status = status if status in STATUSES else None
                rows = service.list_referrals(session, account, status)
                callbacks = service.due_callbacks_for(session, account, channel.now())
                names = service.place_names(session, [r.place_id for r in rows] + [c.place_id for c in callbacks])
                recaps = {r.id: recap_of_referral(r, names.get(r.place_id), channel.now()) for r in rows}
                return page("list.html", "Orientations", auth, flash_info=request.args.get("info"),
                            flash_error=error, account=account, place=_place(session, account.place_id), rows=rows,
                            recaps=recaps, place_names=names, status_filter=status, typed=typed, callbacks=callbacks,
                            notified=service.notification_states(session, [r.id for r in rows]),
                            csrf=auth.csrf_token)

        @bp.route("/orientations/<referral_id:int>", methods=["GET"])
        async def referral_detail(request: Request, referral_id: int):
            with session_scope(channel.factory()) as session:
                auth, refusal = channel.guard(session, request)
                if refusal is not None:
                    return refusal
                try:
                    view = service.open_referral(session, auth.account, referral_id, channel.now())
                except service.NotFound:
                    return not_found(auth)
                place = _place(session, view.referral.place_id)
                moves = moved_places(h.detail for h in view.history if h.action == service.Action.REASSIGN)
                return page("detail.html", f"Orientation {view.referral.reference}", auth,
                            flash_info=request.args.get("info"), flash_error=request.args.get("erreur"), view=view,
                            place=place, recap=recap_of_referral(view.referral, place.nom if place else None,
                                                                 channel.now()),
                            place_names=service.place_names(session, moves),
                            others=service.other_places(session, auth.account, view.referral),
                            csrf=auth.csrf_token, outcomes=OUTCOMES, max_note_chars=service.MAX_NOTE_CHARS)

        @bp.route("/journal", methods=["GET"])
        async def journal(request: Request):
            with session_scope(channel.factory()) as session:
                auth, refusal = channel.guard(session, request)
                if refusal is not None:
                    return refusal
                entries = service.journal(session, auth.account)
                names = service.place_names(session, moved_places(e.detail for e in entries
                                                                  if e.action == service.Action.REASSIGN))
                return page("journal.html", "Journal", auth, account=auth.account, entries=entries, place_names=names,
                            **journal_lookups(session, auth.account, entries))

        # --- actions ----------------------------------------------------------------------------

        def post_action(path: str, run: Callable, done: str, failed: str = "non_envoye", live: bool = False,
                        back_to_list: bool = False):
            """A POST on a referral: check login and CSRF, run the service call, commit, then send the
            person what it recorded (live messages). `live`: the action belongs to the live page."""
            page_path = "/orientations/{}/direct" if live else "/orientations/{}"

            async def handler(request: Request, referral_id: int):
                with session_scope(channel.factory()) as session:
                    auth, refusal = channel.guard(session, request, post=True)
                    if refusal is not None:
                        return refusal
                    try:
                        texts = run(session, auth.account, referral_id, request.form, channel.now())
                    except service.NotFound:
                        return not_found(auth)
                    except service.ConsoleError as exc:
                        session.rollback()
                        return redirect(page_path.format(referral_id), erreur=exc.code)
                    moved_away = back_to_list and not auth.account.is_coordinator
                # After the commit: the start or end notice, the mediator's message, or the end of a
                # live talk when the referral was closed or moved.
                sent = await channel.send_live(referral_id, texts if isinstance(texts, dict) else None)
                if moved_away:  # the referral left this mediator's place: its page is now a 404
                    return redirect("/orientations", info=done)
                if live and not sent:
                    return redirect(page_path.format(referral_id), erreur=failed)
                return redirect(page_path.format(referral_id), info=done)

            bp.add_route(handler, f"/orientations/<referral_id:int>/{path}", methods=["POST"],
                         name="console_" + path.replace("-", "_").replace("/", "_"))

        def action(path: str, run: Callable, done: str, back_to_list: bool = False):
            post_action(path, run, done, back_to_list=back_to_list)

        action("prise-en-charge", lambda s, a, i, f, n: service.claim(s, a, i, n), "pris")
        action("note", lambda s, a, i, f, n: service.add_note(s, a, i, f.get("texte") or "", n), "note_ajoutee")
        action("reassigner", lambda s, a, i, f, n: service.reassign(s, a, i, f.get("lieu") or "",
                                                                    f.get("motif") or "", n),
               "reassignee", back_to_list=True)
        action("cloturer", lambda s, a, i, f, n: service.close(s, a, i, f.get("issue") or "", n), "cloturee")

        @bp.route("/rappels/<callback_id:int>/fait", methods=["POST"])
        async def called_back(request: Request, callback_id: int):
            with session_scope(channel.factory()) as session:
                auth, refusal = channel.guard(session, request, post=True)
                if refusal is not None:
                    return refusal
                try:
                    service.mark_called_back(session, auth.account, callback_id, channel.now())
                except service.NotFound:
                    session.rollback()
                    return redirect("/orientations", erreur="rappel_inconnu")
            return redirect("/orientations", info="rappele")

        # --- live takeover ----------------------------------------------------------------------

        def do_start(session, account, referral_id, form, now):
            service.start_live(session, account, referral_id, now)
            return None

        def do_post(session, account, referral_id, form, now):
            message_id, outgoing = service.post_live(session, account, referral_id, form.get("texte") or "", now)
            return {message_id: outgoing}

        def do_end(session, account, referral_id, form, now):
            service.end_live(session, account, referral_id, now)
            return None

        post_action("direct/debut", do_start, "direct_commence", live=True)
        post_action("direct/message", do_post, "envoye", live=True)
        post_action("direct/fin", do_end, "direct_rendu", live=True)

        def load_live(request: Request, referral_id: int, after_id: int = 0):
            with session_scope(channel.factory()) as session:
                auth = channel.authenticate(session, request)
                if auth is None:
                    return None, None
                try:
                    view = service.live_view(session, auth.account, referral_id, after_id, channel.now())
                except service.NotFound:
                    return auth, None
                place = _place(session, view.referral.place_id)
                return auth, (view, place, auth.account.place_id == view.referral.place_id)

        @bp.route("/orientations/<referral_id:int>/direct", methods=["GET"])
        async def live_page(request: Request, referral_id: int):
            auth, loaded = load_live(request, referral_id)
            if auth is None:
                return redirect("/connexion")
            if loaded is None:
                return not_found(auth)
            await channel.send_live(referral_id)  # e.g. the end notice when the place has just closed
            view, place, own = loaded
            return page("live.html", f"Discussion {view.referral.reference}", auth,
                        flash_info=request.args.get("info"), flash_error=request.args.get("erreur"),
                        script="direct.js" if view.active else None, view=view, place=place, own_place=own,
                        csrf=auth.csrf_token, last_id=max((m.id for m in view.messages), default=0),
                        max_message_chars=takeover.MAX_MESSAGE_CHARS)

        @bp.route("/orientations/<referral_id:int>/direct/messages", methods=["GET"])
        async def live_messages(request: Request, referral_id: int):
            try:
                after_id = max(0, int(request.args.get("apres") or 0))
            except ValueError:
                after_id = 0
            auth, loaded = load_live(request, referral_id, after_id)
            if auth is None:
                return _with_headers(response.json({"erreur": "Session expirée : reconnectez-vous."}, status=401))
            if loaded is None:
                return _with_headers(response.json({"erreur": MESSAGES["introuvable"]}, status=404))
            await channel.send_live(referral_id)
            view = loaded[0]
            return _with_headers(response.json({
                "actif": view.active,
                "messages": [live_message_json(m, view.accounts) for m in view.messages],
            }))

        return bp


def _place(session, place_id: Optional[str]):
    if not place_id:
        return None

    return session.get(Place, place_id)


# --------------------------------------------------------------------------------------------------
# Rendering (templates/console/)
# --------------------------------------------------------------------------------------------------

def moved_places(details) -> list:
    """The place ids named by reassignments' details ("from->to")."""
    return [pid for detail in details for pid in (detail or "").split("->") if pid]


def moved_text(detail: Optional[str], names: dict) -> str:
    """A reassignment "from->to" as place names: "France Services A → Espace B"."""
    return " → ".join(names.get(pid, GONE_PLACE) for pid in (detail or "").split("->") if pid)


def place_name(place) -> str:
    if place is None:
        return "Aucun lieu"
    return f"{place.nom} ({place.commune})" if place.commune else place.nom


def journal_lookups(session, account, entries) -> dict:
    """Who did each entry (e-mail), which referral it names, and which of those this account may open."""
    account_ids = {e.account_id for e in entries if e.account_id}
    referral_ids = {e.referral_id for e in entries if e.referral_id}
    emails = dict(session.execute(select(accounts.Account.id, accounts.Account.email)
                                  .where(accounts.Account.id.in_(account_ids))).all()) if account_ids else {}
    referrals = {r.id: r for r in session.execute(select(Referral).where(Referral.id.in_(referral_ids))).scalars()} \
        if referral_ids else {}
    visible = {r.id for r in referrals.values() if service.can_see(account, r)}
    return {"emails": emails, "referrals": referrals, "visible": visible}


def live_message_json(message, accounts_by_id: dict) -> dict:
    return {"id": message.id, "de": message.direction, "auteur": live_author(message, accounts_by_id),
            "texte": message.text, "heure": fmt_time(message.at)[-5:], "etat": live_state(message),
            "erreur": message.error or ""}


def live_state(message) -> str:
    """Whether a live message reached the person; nothing for the person's own messages."""
    return "" if message.status == takeover.RECEIVED else takeover.MessageState.label_of(message.status)


def live_author(message, accounts_by_id: dict) -> str:
    author = takeover.Sender.label_of(message.direction)
    if message.direction == takeover.FROM_MEDIATOR and message.account_id in accounts_by_id:
        author += f" ({accounts_by_id[message.account_id]})"
    return author


# What every console template may use: the URL prefix, the labels, the formatting helpers.
TEMPLATE_HELPERS = {
    "prefix": PREFIX, "messages": MESSAGES,
    # codes and their labels
    "Status": Status, "Outcome": Outcome, "Channel": Channel, "Action": service.Action,
    "CallbackReason": CallbackReason, "NotifyKind": NotifyKind, "FollowupKind": FollowupKind,
    "DeliveryState": DeliveryState,
    # formatting
    "fmt_time": fmt_time, "label_level": label_level, "reason_label": reason_label, "place_name": place_name,
    "fmt_phone": national,
    "moved_text": moved_text,
    "live_author": live_author, "live_state": live_state,
}


def render(template: str, **context) -> str:
    return templating.render("console/" + template, **TEMPLATE_HELPERS, **context)
