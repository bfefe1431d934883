"""The voice menu: a call to the helpline number, triaged by keypad or speech (issue 16).

Each webhook of the telephony gateway is one step of the call. The triage itself is the conversation's
own state machine (bot/triage/dialogue.py), driven with Turns made from the keys pressed (mapped to the
triage's choice codes) or from the speech the gateway recognised (masked first, then the same safety
screen and understanding as a typed message); this module only turns its replies into short spoken
prompts (domain/responses_voix.yml) and adds what a phone call needs: the postcode read back, "9" for
the emergency numbers at any step, an SMS recap and a callback.

Robustness: a question without a usable answer is asked again twice in other words, then a callback is
offered; a repeated webhook (same CallSid and step number) gets the stored answer and runs nothing
again; a hang-up closes the call, and a later webhook of that call only hangs up.

Its records are in calls.py, its words in words.py.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Callable, Optional

from sqlalchemy.exc import IntegrityError

from bot.channels.voice import speech
from bot.channels.voice.twiml import Ask, Dial, Hangup, Redirect, Script, render
from bot.core import messages
from bot.core.codes import CallbackReason, Channel
from bot.core.db import session_scope
from bot.core.moments import utc
from bot.core.phone import can_receive_sms, to_e164
from bot.core.privacy import redact
from bot.core.pseudonyms import pseudonymise
from bot.core.text import normalize
from bot.directory.hours import opening_status
from bot.handoff import helpline
from bot.handoff.voice import words
from bot.handoff.voice.calls import CallRequest, SmsSend, VoiceAnswer, VoiceCall, VoiceSettings, book_line_callback
from bot.handoff.voice.words import (
    REPEAT_WORDS,
    YES_NO_KEYS,
    moment,
    next_opening_said,
    says,
    spoken_key,
    spoken_place,
    yes_no,
)
from bot.triage.dialogue import DANGER_CHOICE, SAFE_CHOICE, VITAL_EMERGENCY, Turn, handle
from bot.triage.safety.screen import screen

logger = logging.getLogger(__name__)

# What waits for the caller's next answer (VoiceCall.step).
START, TRANSFER = "debut", "transfert"
QUESTIONS = ("demarche", "enjeu", "equipement", "souhait")
POSTCODE, POSTCODE_CHECK, SAFETY = "commune", "code_postal_relu", "securite"
PLACE, SMS_OFFER, CALLBACK_OFFER, RESCUE, DONE = "lieu", "sms", "rappel", "rappel_secours", "fin"

# Keys mapped to the triage's choice codes (the same codes as the buttons of the other channels).
KEYS = {
    "demarche": {"1": "caf", "2": "france_travail", "3": "impots", "4": "ants", "5": "ameli", "6": "autre",
                 "7": "apprendre"},
    "enjeu": {"1": "delai", "2": "probleme", "3": "aucun", "4": "inconnu"},
    "equipement": {"1": "telephone", "2": "ordinateur", "3": "aucun"},
    "souhait": {"1": "faire_pour", "2": "apprendre", "3": "regulier"},
    SAFETY: {"1": DANGER_CHOICE, "2": SAFE_CHOICE},
}
# How many choice prompts each question has (utter_voix_<question>_choix_<n>).
CHOICE_PROMPTS = {"demarche": 3, "enjeu": 2, "equipement": 1, "souhait": 1}
# The menu's own yes/no steps and what they ask.
OFFER_PROMPTS = {PLACE: "utter_voix_lieu_choix", SMS_OFFER: "utter_voix_sms_proposer",
                 CALLBACK_OFFER: "utter_voix_rappel_proposer", RESCUE: "utter_voix_rappel_secours"}
EMERGENCY_KEY = "9"
EMERGENCY_NUMBERS = ("112", "15", "17", "115", "3919", "3114", "119")
MAX_MISSES = 2  # the question asked again twice in other words, then a callback is offered
DUPLICATE_WAIT_SECONDS = 10.0
# The triage's "nothing near" replies, which the menu answers itself (_triage).
ALTERNATIVES = ("utter_aucun_lieu", "utter_rien_pres_de_vous", "utter_autres_aides", "utter_pas_d_aide_a_distance")
ENDED_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


class VoiceMenu:
    """`services` is bot.handoff.services.Orientation (or a test double); `send_sms` sends the recap, None
    when no SMS channel is configured."""

    def __init__(self, factory, services, settings: VoiceSettings, send_sms: Optional[SmsSend] = None,
                 line: Optional[helpline.HelplineSettings] = None, clock: Callable[[], datetime] = _now):
        self.factory = factory
        self.services = services
        self.settings = settings
        self.send_sms = send_sms
        self.line = line or helpline.load_settings()
        self.clock = clock

    # -- the webhook -------------------------------------------------------------------------------

    async def answer(self, request: CallRequest) -> str:
        """The TwiML for one webhook: the stored one for a repeated step, else the step's own."""
        claimed = await asyncio.to_thread(self._claim, request)
        if isinstance(claimed, str):
            return claimed
        if claimed is None:
            return await self._stored(request)
        try:
            script = await self._step(claimed, request)
        except Exception:
            logger.exception("voice step failed")
            claimed.step = DONE  # the helpline's number, and the call ends: never a step half made
            script = self._apology()
        twiml = render(script)
        await asyncio.to_thread(self._save, claimed, request.turn, twiml)
        return twiml

    def hang_up(self, call_sid: str, status: str) -> bool:
        """The gateway's status callback: a finished call closes its state (the triage is dropped, nothing
        more is sent). True when a call was closed."""
        if (status or "").lower() not in ENDED_STATUSES:
            return False
        with session_scope(self.factory) as session:
            call = session.get(VoiceCall, call_sid)
            if call is None or call.ended_at is not None:
                return False
            call.ended_at = utc(self.clock())
            call.triage, call.data, call.step = None, None, DONE
        return True

    # -- claiming a step (idempotence) ---------------------------------------------------------------

    def _claim(self, request: CallRequest):
        """A detached VoiceCall to run the step on; None when this step was already claimed (a repeated
        webhook); TwiML (str) when the call is over, or for a step older than the call's."""
        now = utc(self.clock())
        session = self.factory()
        try:
            call = session.get(VoiceCall, request.call_sid)
            if call is None:
                number = to_e164(request.caller)
                session.add(VoiceCall(call_sid=request.call_sid, step=START, turn=0, misses=0, triage=None, data={},
                                      caller_key=pseudonymise("voice:" + (number or request.caller or "anonyme")),
                                      started_at=now, updated_at=now))
            session.add(VoiceAnswer(call_sid=request.call_sid, turn=request.turn, twiml=None, created_at=now))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
            call = session.get(VoiceCall, request.call_sid)
            if call.ended_at is not None or request.turn < call.turn:
                twiml = render(Script().add(Hangup()))
                session.get(VoiceAnswer, (request.call_sid, request.turn)).twiml = twiml
                session.commit()
                return twiml
            session.expunge(call)
            return call
        finally:
            session.close()

    async def _stored(self, request: CallRequest) -> str:
        deadline = asyncio.get_running_loop().time() + DUPLICATE_WAIT_SECONDS
        while True:
            twiml = await asyncio.to_thread(self._load_answer, request.call_sid, request.turn)
            if twiml is not None:
                return twiml
            if asyncio.get_running_loop().time() >= deadline:
                # The first delivery is still running: come back to the same step in a moment.
                return render(Script().pause(2).add(Redirect(self.settings.step_url(request.turn))))
            await asyncio.sleep(0.05)

    def _load_answer(self, call_sid: str, turn: int) -> Optional[str]:
        with session_scope(self.factory) as session:
            answer = session.get(VoiceAnswer, (call_sid, turn))
            return answer.twiml if answer is not None else None

    def _save(self, call: VoiceCall, turn: int, twiml: str) -> None:
        with session_scope(self.factory) as session:
            stored = session.get(VoiceCall, call.call_sid)
            if stored.ended_at is None:  # a hang-up meanwhile keeps the call closed
                stored.step, stored.misses, stored.turn = call.step, call.misses, turn + 1
                stored.triage, stored.data = call.triage, dict(call.data or {})
                stored.updated_at = utc(self.clock())
            answer = session.get(VoiceAnswer, (call.call_sid, turn))
            answer.twiml = twiml

    # -- one step ------------------------------------------------------------------------------------

    async def _step(self, call: VoiceCall, request: CallRequest) -> Script:
        call.data = dict(call.data or {})
        call.next_url = self.settings.step_url(request.turn + 1)
        number = to_e164(request.caller)
        call.data["number_ok"] = number is not None
        call.data["mobile"] = number is not None and can_receive_sms(number)
        if call.step == START:
            return await self._start(call)
        if call.step == TRANSFER:
            if request.dial_status == "completed":
                call.step = DONE
                return Script().add(Hangup())
            return await self._greet(call)
        digits = (request.digits or "").strip()
        said = redact(request.speech or "").text.strip()
        if digits == EMERGENCY_KEY:
            return self._emergency_numbers(call)
        handler = {POSTCODE: self._on_postcode, POSTCODE_CHECK: self._on_postcode_check, PLACE: self._on_place,
                   SMS_OFFER: self._on_sms, CALLBACK_OFFER: self._on_callback, RESCUE: self._on_rescue}.get(call.step)
        if handler is None and call.step in KEYS:
            handler = self._on_question
        if handler is None:  # DONE
            return Script().say(words.prompt("utter_voix_au_revoir")).add(Hangup())
        if said and call.step not in KEYS and call.step != POSTCODE:
            # The triage screens its own questions' answers; the menu's other steps are screened here.
            screening = screen(said, request.intent)
            if screening.tier:
                return self._danger(call, screening)
        return await handler(call, request, digits, said)

    def _danger(self, call: VoiceCall, screening) -> Script:
        """A danger said at one of the menu's own steps: its number (twice when certain), then the same step."""
        number = speech.phone(screening.numbers[0] if screening.numbers else "112")
        script = Script()
        if screening.certain:
            if call.triage is not None:
                call.triage[VITAL_EMERGENCY] = True  # a referral made later tells the mediator, as in the chat
            script.say(words.prompt("utter_voix_urgence", numero=number)).pause(1)
        else:
            script.say(words.prompt("utter_voix_securite", numero=number)).pause(1)
        return self._ask(call, script, call.step)

    async def _start(self, call: VoiceCall) -> Script:
        status = opening_status(self.settings.hours, self.clock())
        if self.settings.transfer_number and status is not None and status.open_now:
            call.step = TRANSFER
            return Script().say(words.prompt("utter_voix_transfert")).add(Dial(self.settings.transfer_number,
                                                                                call.next_url))
        return await self._greet(call)

    async def _greet(self, call: VoiceCall) -> Script:
        replies, state = await asyncio.to_thread(handle, None, Turn(channel=Channel.VOICE), self.services)
        call.triage = state
        script = Script().say(words.prompt("utter_voix_accueil"), words.prompt("utter_voix_touche_9")).pause(1)
        return self._next(call, script, replies)

    # -- asking ---------------------------------------------------------------------------------------

    def _ask(self, call: VoiceCall, script: Script, step: str, retry: int = 0) -> Script:
        call.step = step
        lead = []
        if retry == 1:
            lead = [words.prompt("utter_voix_pas_compris")]
        elif retry >= 2:
            lead = [words.prompt("utter_voix_aide_touches")]
        if step in CHOICE_PROMPTS:
            question = words.prompt(f"utter_voix_{step}_autrement" if retry else f"utter_voix_{step}")
            texts = [*lead, question, *(words.prompt(f"utter_voix_{step}_choix_{i}")
                                        for i in range(1, CHOICE_PROMPTS[step] + 1))]
            return script.add(Ask(tuple(says(texts)), call.next_url))
        if step == POSTCODE:
            question = words.prompt("utter_voix_code_postal_autrement" if retry else "utter_voix_code_postal")
            return script.add(Ask(tuple(says([*lead, question])), call.next_url, num_digits=5, timeout=10))
        if step == SAFETY:
            check = (call.triage or {}).get("securite") or {"numbers": ["112"]}
            texts = [*lead, words.prompt("utter_voix_securite", numero=speech.phone(check["numbers"][0])),
                     words.prompt("utter_voix_securite_autrement" if retry else "utter_voix_securite_question")]
            if retry:
                texts.append(words.prompt("utter_voix_securite_question"))
            return script.add(Ask(tuple(says(texts)), call.next_url))
        if step == POSTCODE_CHECK:
            text = words.prompt("utter_voix_code_postal_relu", code=speech.postcode(call.data.get("code_postal", "")))
            return script.add(Ask(tuple(says([*lead, text])), call.next_url))
        if step in OFFER_PROMPTS:
            return script.add(Ask(tuple(says([*lead, words.prompt(OFFER_PROMPTS[step])])), call.next_url))
        return self._goodbye(call, script)

    def _miss(self, call: VoiceCall, script: Optional[Script] = None) -> Script:
        """No answer, or one that does not fit: the question again in other words, twice; then a callback."""
        script = script or Script()
        call.misses += 1
        if call.misses > MAX_MISSES:
            call.misses = 0
            if call.step == RESCUE:
                return self._goodbye(call, script)
            return self._ask(call, script, RESCUE)
        return self._ask(call, script, call.step, retry=call.misses)

    def _goodbye(self, call: VoiceCall, script: Script) -> Script:
        call.step = DONE
        return script.say(words.prompt("utter_voix_au_revoir")).add(Hangup())

    def _emergency_numbers(self, call: VoiceCall) -> Script:
        script = Script().say(words.prompt("utter_voix_numeros")).pause(1)
        for number in EMERGENCY_NUMBERS:
            script.say(words.prompt(f"utter_voix_numero_{number}")).pause(1)
        script.say(words.prompt("utter_voix_numeros_fin"))
        if call.step == PLACE:
            self._read_place(call, script)
        return self._ask(call, script, call.step)

    def _apology(self) -> Script:
        return Script().say(words.prompt("utter_voix_pas_de_lieu", **self._line_in_words()),
                            words.prompt("utter_voix_au_revoir")).add(Hangup())

    def _line_in_words(self) -> dict:
        line = self.services.helpline()
        return {"ligne_nom": line["ligne_nom"], "ligne_telephone": speech.phone(line["ligne_telephone"])}

    # -- the triage's questions ---------------------------------------------------------------------------

    async def _triage(self, call: VoiceCall, turn: Turn):
        turn.channel, turn.sender_id, turn.said_at = Channel.VOICE.value, call.caller_key, self.clock()
        replies, state = await asyncio.to_thread(handle, call.triage, turn, self.services)
        if state.get("pending") == "commune_precision" and state.get("candidates"):
            # A postcode or a town shared by several communes: the first (the most populated) one; the
            # place is read aloud with its town, and the person may still say "non" to sending it.
            replies, state = await asyncio.to_thread(
                handle, state, Turn(choice="insee:" + state["candidates"][0], channel=Channel.VOICE.value,
                                    sender_id=call.caller_key), self.services)
        if state.get("pending") == "alternatives":
            # Nothing within the first radius: on the phone, the farther place (offered only when there is
            # one), else the remote help serving the person's area; else the helpline is said.
            choice = "plus_loin" if any(r.key == "utter_aucun_lieu" for r in replies) else (
                "a_distance" if state.get("remote") else None)
            if choice is not None:
                more, state = await asyncio.to_thread(
                    handle, state, Turn(choice=choice, channel=Channel.VOICE.value, sender_id=call.caller_key),
                    self.services)
                replies = [r for r in replies if r.key not in ALTERNATIVES] + more
        return replies, state

    async def _on_question(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        if digits:
            choice = KEYS[call.step].get(digits)
            if choice is None:
                return self._miss(call)
            turn = Turn(choice=choice)
        elif said:
            turn = Turn(text=said, intent=request.intent)
        else:
            return self._miss(call)
        step = call.step
        replies, state = await self._triage(call, turn)
        if any(r.key.startswith("utter_redemander_") or r.key == "utter_pas_compris_reponse" for r in replies):
            call.triage = state  # the triage noted the unclear answer: asked again, in other words
            return self._miss(call)
        if state.get("pending") == step and not _emergency(replies):
            return self._miss(call)
        call.misses = 0
        return self._from_triage(call, replies, state)

    async def _on_postcode(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        if digits:
            found = await asyncio.to_thread(self.services.locate, digits, True) if len(digits) == 5 else None
            if found is None or found.status not in ("found", "ambiguous"):
                return self._miss(call, Script().say(words.prompt("utter_voix_code_postal_inconnu")))
            call.data["code_postal"] = digits
            call.misses = 0
            return self._ask(call, Script(), POSTCODE_CHECK)
        if said:  # a town said aloud goes to the triage as a typed one would
            replies, state = await self._triage(call, Turn(text=said, intent=request.intent))
            if state.get("pending") == POSTCODE and not _emergency(replies):
                call.triage = state
                return self._miss(call)
            call.misses = 0
            return self._from_triage(call, replies, state)
        return self._miss(call)

    async def _on_postcode_check(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        answer = self._yes_or_no(call, digits, said)
        if answer is None:
            return self._miss(call)
        if not answer:
            call.data.pop("code_postal", None)
            return self._ask(call, Script().say(words.prompt("utter_voix_code_postal_encore")), POSTCODE)
        replies, state = await self._triage(call, Turn(text=call.data["code_postal"]))
        return self._from_triage(call, replies, state)

    # -- the answer: the place, the referral, the SMS, the callback ----------------------------------------

    def _from_triage(self, call: VoiceCall, replies: list, state: dict) -> Script:
        call.triage = state
        return self._next(call, Script(), replies)

    def _next(self, call: VoiceCall, script: Script, replies: list) -> Script:
        """The triage's replies said in the menu's words, then what waits next."""
        state = call.triage or {}
        place_shown = False
        for reply in replies:
            key = reply.key
            if key == "utter_urgence_vitale":
                number = speech.phone((reply.custom or {}).get("numero", "112"))
                script.say(words.prompt("utter_voix_urgence", numero=number)).pause(1)
            elif key == "utter_securite_merci":
                script.say(words.prompt("utter_voix_securite_merci"))
            elif key.startswith("utter_resultat_"):
                level = key[len("utter_resultat_"):]
                if f"utter_voix_resultat_{level}" in messages.catalogue().responses:
                    script.say(words.prompt(f"utter_voix_resultat_{level}"))
            elif key in ("utter_lieu", "utter_aide_a_distance"):
                call.data["place"] = spoken_place(reply.values)
                place_shown = True
            elif key.startswith("utter_urgence_") and spoken_key(key) in messages.catalogue().responses:
                call.data["promise"] = spoken_key(key)  # said after the place is read, as in writing
            elif key.startswith("utter_envoye_"):
                reference = reply.values.get("reference") or state.get("reference") or ""
                call.data["reference"] = reference
                # "utter_envoye_lieu" -> "utter_voix_envoye_lieu": only as true as the other channels' words.
                script.say(words.prompt(spoken_key(key)),
                           words.prompt("utter_voix_reference", reference=speech.code(reference)))
            elif key == "utter_sans_envoi":
                script.say(words.prompt("utter_voix_sans_envoi"))
            elif key in ("utter_aucun_lieu", "utter_rien_pres_de_vous", "utter_pas_plus_loin", "utter_ligne_aide",
                         "utter_pas_d_aide_a_distance"):
                script.say(words.prompt("utter_voix_pas_de_lieu", **self._line_in_words()))
                return self._goodbye(call, script)
        pending = state.get("pending")
        if place_shown and pending == "consentement":
            self._read_place(call, script)
            if call.data.get("promise"):
                script.say(words.prompt(call.data["promise"]))
            script.say(words.prompt("utter_voix_consentement"))
            return self._ask(call, script, PLACE)
        if pending == SAFETY:
            return self._ask(call, script, SAFETY)
        if pending in QUESTIONS:
            return self._ask(call, script, pending)
        if pending in (POSTCODE, "commune_precision"):
            return self._ask(call, script, POSTCODE)
        if state.get("reference") or call.data.get("place"):
            return self._offers(call, script)
        if _emergency(replies):
            return self._goodbye(call, script)
        script.say(words.prompt("utter_voix_pas_de_lieu", **self._line_in_words()))
        return self._goodbye(call, script)

    def _read_place(self, call: VoiceCall, script: Script) -> None:
        place = call.data.get("place") or {}
        script.say(words.prompt("utter_voix_lieu_distance" if place.get("a_distance") else "utter_voix_lieu_nom",
                          nom=place.get("nom", "")))
        if place.get("adresse") and not place.get("a_distance"):
            script.say(words.prompt("utter_voix_lieu_adresse", adresse=place["adresse"],
                                    commune=place.get("commune", "")))
        if place.get("ouvert"):
            script.say(words.prompt("utter_voix_lieu_ouvert"))
        elif place.get("horaires"):
            when = next_opening_said(place["horaires"], self.clock())
            if when:
                script.say(words.prompt("utter_voix_lieu_ouverture", quand=when))
        if place.get("telephone"):
            script.pause(1).say(words.prompt("utter_voix_lieu_telephone", telephone=place["telephone"]))

    async def _on_place(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        words = normalize(said).replace("'", " ") if said else ""
        if digits == "1" or words in REPEAT_WORDS:
            script = Script()
            self._read_place(call, script)
            return self._ask(call, script, PLACE)
        answer = self._yes_or_no(call, digits, said, keys={"2": True, "3": False})
        if answer is None:
            return self._miss(call)
        replies, state = await self._triage(call, Turn(choice="oui" if answer else "non"))
        return self._from_triage(call, replies, state)

    @staticmethod
    def _yes_or_no(call: VoiceCall, digits: str, said: str, keys: dict = YES_NO_KEYS) -> Optional[bool]:
        """The caller's yes or no (words.yes_no); an answer resets the misses."""
        answer = yes_no(digits, said, keys)
        if answer is not None:
            call.misses = 0
        return answer

    def _offers(self, call: VoiceCall, script: Script) -> Script:
        """After the place: the SMS recap (a mobile, an SMS channel), then the callback, then goodbye."""
        if self.send_sms is not None and call.data.get("mobile") and not call.data.get("sms_offered"):
            call.data["sms_offered"] = True
            return self._ask(call, script, SMS_OFFER)
        if (call.data.get("place") or {}).get("id") and call.data.get("number_ok") \
                and not call.data.get("callback_offered"):
            call.data["callback_offered"] = True
            return self._ask(call, script, CALLBACK_OFFER)
        return self._goodbye(call, script)

    async def _on_sms(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        answer = self._yes_or_no(call, digits, said)
        if answer is None:
            return self._miss(call)
        script = Script()
        if answer:
            script.say(words.prompt("utter_voix_sms_envoye" if await self._send_recap(call, request.caller)
                              else "utter_voix_sms_echec"))
        return self._offers(call, script)

    async def _send_recap(self, call: VoiceCall, caller: str) -> bool:
        number = to_e164(caller)
        place = call.data.get("place") or {}
        if number is None or self.send_sms is None or not place:
            return False
        values = {"nom": place.get("nom", ""), "adresse": place.get("adresse_ecrite") or "",
                  "commune": place.get("commune", ""), "quand": place.get("prochaine_ouverture") or "",
                  "telephone": place.get("telephone_ecrit") or ""}
        reference = call.data.get("reference")
        key = "utter_sms_recap_appel_reference" if reference else "utter_sms_recap_appel"
        try:
            await self.send_sms(number, words.prompt(key, reference=reference or "", **values))
        except Exception as exc:  # gateway down, opted out: the person is told, the call goes on
            logger.warning("voice SMS recap not sent (%s)", type(exc).__name__)
            return False
        call.data["sms_sent"] = True
        return True

    async def _on_callback(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        answer = self._yes_or_no(call, digits, said)
        if answer is None:
            return self._miss(call)
        script = Script()
        if answer:
            place_id = (call.data.get("place") or {}).get("id")
            due = await asyncio.to_thread(self._book, request.caller, place_id)
            self._booked(script, due)
        return self._goodbye(call, script)

    async def _on_rescue(self, call: VoiceCall, request: CallRequest, digits: str, said: str) -> Script:
        answer = self._yes_or_no(call, digits, said)
        if answer is None:
            return self._miss(call)
        script = Script()
        if answer:
            self._booked(script, await asyncio.to_thread(self._book, request.caller, self.line.place_id))
        return self._goodbye(call, script)

    def _booked(self, script: Script, due: Optional[datetime]) -> None:
        if due is None:
            script.say(words.prompt("utter_voix_rappel_impossible", **self._line_in_words()))
        else:
            script.say(words.prompt("utter_voix_rappel_note", quand=moment(due, self.clock())))

    def _book(self, caller: str, place_id: Optional[str]) -> Optional[datetime]:
        """The callback, the caller's number sealed with it (bot/handoff/helpline.py); None when impossible."""
        number = to_e164(caller)
        if number is None:
            return None
        now = self.clock()
        try:
            with session_scope(self.factory) as session:
                if place_id:
                    return helpline.book_callback(session, number, place_id, now, reason=CallbackReason.VOICE.value)
                return book_line_callback(session, number, self.line, now)
        except Exception:
            logger.exception("voice callback not booked")
            return None


def _emergency(replies: list) -> bool:
    return any(r.key == "utter_urgence_vitale" for r in replies)
