"""A stand-in for the Rasa `desk` channel, for browser tests and for looking at the page.

Serves the real files from connectors/static/desk/ under the same routes as
connectors.desk.DeskInput and answers the webhook with canned, realistic replies:

- any first free text            -> a question with 3 buttons
- a button payload (starts "/")  -> the result card (with a reference code)
- text containing "a la rue"     -> the life-emergency banner (115)
- "stop" or "effacer"            -> the confirmation, then the erase signal
Every answer starts, as the real one does (connectors/desk.py, desk_answer), with the person's text
as the server keeps it: secrets masked by the server's own rules (bot/core/privacy.py).

Run by hand:  .venv/bin/python tests/browser/fake_desk_backend.py --port 8765
then open http://127.0.0.1:8765/webhooks/desk/
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.core.privacy import redact
from tests.fakes import POLL_SECONDS

STATIC_DIR = Path(__file__).resolve().parents[2] / "connectors" / "static" / "desk"
PREFIX = "/webhooks/desk"

QUESTION_TEXT = "Merci. Votre démarche a-t-elle une date limite ?\nPar exemple : un dossier à rendre, un rendez-vous."
QUESTION_BUTTONS = [
    {"title": "Oui, dans moins de 7 jours", "payload": '/informer{"delai": "moins_7_jours"}'},
    {"title": "Oui, plus tard", "payload": '/informer{"delai": "plus_tard"}'},
    {"title": "Non, ou je ne sais pas", "payload": '/informer{"delai": "aucun"}'},
]

RESULT_CARD: dict[str, Any] = {
    "type": "resultat",
    "niveau": "urgence",
    "niveau_libelle": "Urgence numérique",
    "raisons": [
        "Vos droits CAF sont suspendus",
        "La date limite est dans moins de 7 jours",
    ],
    "prochaine_etape": "Allez au lieu ci-dessous avec vos papiers. Un médiateur vous aide à envoyer le dossier.",
    "reference": "K7M-4XP",
    # The request in words, as the server sends it (bot/handoff/services.py, slip_lines).
    "recapitulatif": [
        {"libelle": "Organisme", "texte": "Caisse d'allocations familiales (CAF)"},
        {"libelle": "Démarche", "texte": "la déclaration trimestrielle de ressources"},
        {"libelle": "Ce qui est en jeu", "texte": "Le RSA sera suspendu si la déclaration n'est pas faite."},
        {"libelle": "Date limite", "texte": "avant le vendredi 11 décembre"},
    ],
    "a_apporter": [
        "Votre pièce d'identité",
        "Le courrier de la CAF",
        "Votre téléphone portable",
    ],
    "lieu": {
        "nom": "Espace numérique des Lices",
        "adresse": "12 place des Lices",
        "code_postal": "35000",
        "commune": "Rennes",
        "telephone": "02 99 00 00 00",
        "prochaine_ouverture": "ouvre demain à 9h",
        "horaires": "Mo-Fr 09:00-12:00; We 14:00-17:30",
        "horaires_a_confirmer": True,
        "latitude": 48.1119,
        "longitude": -1.6819,
        "distance_km": 1.2,
        "demo": True,
        "date_maj": "2026-05-01",
    },
    "alternatives": [
        {"nom": "Solidarité Numérique", "telephone": "01 70 772 372", "modalite": "par téléphone"},
    ],
}

EMERGENCY_REPLY = [
    {"text": "Votre sécurité passe d'abord.\nSi vous n'avez pas d'endroit où dormir ce soir, appelez le 115."},
    {"custom": {"type": "urgence_vitale", "numero": "115",
                "libelle": "Hébergement d'urgence : gratuit, jour et nuit."}},
]

ERASED_TEXT = "C'est fait : cette conversation et ses données sont effacées. La personne suivante peut commencer."
ERASE_REPLY = [{"text": ERASED_TEXT}, {"custom": {"type": "effacer"}}]

CONFIG = {"demo": True, "helpline": {"nom": "Solidarité Numérique", "telephone": "01 70 772 372"}}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def reply_for(message: str) -> list[dict[str, Any]]:
    """Canned bot messages for one user message, in the webhook's JSON shape."""
    folded = _fold(message)
    if folded.strip() in ("stop", "effacer"):
        return json.loads(json.dumps(ERASE_REPLY))
    if "a la rue" in folded:
        return json.loads(json.dumps(EMERGENCY_REPLY))
    if message.startswith("/"):
        return [
            {"text": "Voici ce que je vous propose."},
            {"custom": json.loads(json.dumps(RESULT_CARD))},
        ]
    return [{"text": QUESTION_TEXT, "buttons": [dict(b) for b in QUESTION_BUTTONS]}]


class _Handler(BaseHTTPRequestHandler):
    server: "FakeDeskServer"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, payload: Any, status: int = 200) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _file(self, path: Path) -> None:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "text/javascript"):
            ctype += "; charset=utf-8"
        self._send(200, path.read_bytes(), ctype)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path.split("?", 1)[0]
        if path == PREFIX:
            self.send_response(301)
            self.send_header("Location", PREFIX + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == PREFIX + "/":
            self._file(STATIC_DIR / "index.html")
            return
        if path == PREFIX + "/config":
            self._json(self.server.config)
            return
        if path.startswith(PREFIX + "/static/"):
            name = path[len(PREFIX + "/static/"):]
            target = (STATIC_DIR / name).resolve()
            if target.parent == STATIC_DIR.resolve() and target.is_file():
                self._file(target)
                return
        self._send(404, b"not found", "text/plain; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] != PREFIX + "/webhook":
            self._send(404, b"not found", "text/plain; charset=utf-8")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body.get("sender"), str) or not isinstance(body.get("message"), str):
                raise ValueError("sender and message must be strings")
            message = body["message"]
        except (ValueError, AttributeError):
            self._json({"error": "bad request"}, status=400)
            return
        with self.server.lock:
            self.server.requests.append(body)
        self._json([{"custom": {"type": "saisie", "texte": redact(message).text}}, *reply_for(message)])


class FakeDeskServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: dict[str, Any] | None = None) -> None:
        super().__init__((host, port), _Handler)
        self.config = config if config is not None else CONFIG
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{PREFIX}/"


def start_fake_backend(host: str = "127.0.0.1", port: int = 0) -> FakeDeskServer:
    """Start the fake server in a daemon thread; stop it with `.shutdown(); .server_close()`."""
    server = FakeDeskServer(host, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name="fake-desk-backend",
                     daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = FakeDeskServer(args.host, args.port)
    print(f"Desk page: {server.base_url}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
