"""TwiML for the voice menu, built with the twilio package's VoiceResponse (never by hand): what a
Twilio-compatible gateway reads aloud, the keys and speech it listens for, and where it posts the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from twilio.twiml.voice_response import Gather, VoiceResponse

LANGUAGE = "fr-FR"


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


Spoken = Union[Say, Pause]


@dataclass(frozen=True)
class Ask:
    """Read `parts` while listening for keys or speech; the answer (or its absence) is posted to `action`."""
    parts: tuple
    action: str
    num_digits: int = 1
    timeout: int = 6
    hints: str = ""


@dataclass(frozen=True)
class Dial:
    """Forward the call to a person; `action` hears how the forwarded call ended."""
    number: str
    action: str
    timeout: int = 20


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass
class Script:
    """One answer: what is said first, then at most one of Ask, Dial or Hangup."""
    parts: list = field(default_factory=list)

    def say(self, *texts: str) -> "Script":
        self.parts.extend(Say(t) for t in texts if t)
        return self

    def pause(self, seconds: int = 1) -> "Script":
        self.parts.append(Pause(seconds))
        return self

    def add(self, part) -> "Script":
        self.parts.append(part)
        return self

    def texts(self) -> list[str]:
        """Everything read aloud, in order (tests, transcripts)."""
        out = []
        for part in self.parts:
            if isinstance(part, Say):
                out.append(part.text)
            elif isinstance(part, Ask):
                out.extend(p.text for p in part.parts if isinstance(p, Say))
        return out


def _spoken(target, parts) -> None:
    for part in parts:
        if isinstance(part, Say):
            target.say(part.text, language=LANGUAGE)
        elif isinstance(part, Pause):
            target.pause(length=part.seconds)


def render(script: Script) -> str:
    response = VoiceResponse()
    for part in script.parts:
        if isinstance(part, (Say, Pause)):
            _spoken(response, [part])
        elif isinstance(part, Ask):
            gather = Gather(input="dtmf speech", language=LANGUAGE, action=part.action, method="POST",
                            num_digits=part.num_digits, timeout=part.timeout, speech_timeout="auto",
                            action_on_empty_result=True, hints=part.hints or None)
            _spoken(gather, part.parts)
            response.append(gather)
        elif isinstance(part, Dial):
            response.dial(part.number, action=part.action, method="POST", timeout=part.timeout)
        elif isinstance(part, Hangup):
            response.hangup()
        elif isinstance(part, Redirect):
            response.redirect(part.url, method="POST")
    return str(response)
