"""Whether a message asks to stop and erase: the words that must be there before a conversation is erased.

Erasing is the one answer that cannot be undone, so the model's guess alone is not enough: a statistical
classifier read "plus loin" (the person wanted a place farther away) as a request to stop, and erased the
conversation. The NLU keeps its "stop" intent only when one of these cues is in the message
(bot/actions/nlu_components.py); otherwise the message goes to its next most likely intent.
"""

from __future__ import annotations

import re

from bot.core.text import normalize

STOP_INTENT = "stop"  # the NLU intent whose rule erases the conversation (data/rules/rules.yml)
# Imperatives and set phrases, not the words alone: "la CAF a arrêté mon RSA", "ils ont supprimé mon
# allocation", "j'ai oublié mon mot de passe" are needs, and must not let a misread "stop" erase them.
_CUES = re.compile("|".join((
    r"\bstop+\w*",                                        # stop, stopp, stoppez
    r"^arr[eê]te?z?\b", r"\barr[eê]t(?:ez|er)\b", r"\barr[eê]t (?:des|de|du)\b",
    r"\beffac(?:ez|er|e|iez)\b", r"\bsupprim(?:ez|er|iez)\b", r"\bretir(?:ez|er)\b", r"\bje retire\b",
    r"\boubliez\b", r"\bdroit a l oubli\b", r"\bcess(?:ez|er)\b", r"\bd[eé]sactiv(?:ez|er)\b",
    r"\bd[eé]s ?inscri\w*", r"\bd[eé]s ?abonn\w*", r"\bunsubscribe\b", r"\bleave me\b", r"\bdelete\b",
    r"\bne (?:m |me )?(?:ecri|envoy|contact|rappel|appel)\w* plus\b", r"\bn (?:ecri|envoy)\w* plus\b",
    r"\bne (?:souhaite|veu[xt]|voulons) plus\b", r"\bveu[xt] plus (?:de|rien|recevoir|etre|que)\b",
    r"\bveu[xt] plus$", r"\bplus de (?:sms|messages?|textos?|mails?)\b", r"\bplus etre contacte\w*",
    r"\bne gardez pas\b", r"\blaissez moi\b", r"\bca suffit\b", r"\bbasta\b", r"\bplus jamais\b",
    r"^fin$",
)))


def asks_to_stop(text: str) -> bool:
    """True when the message has words of stopping or erasing ("stop", "effacez mes données", "ne m'écrivez
    plus", "fin" alone); False for "plus loin", "merci", "non"."""
    words = " ".join(normalize(text or "").replace("'", " ").split())  # normalize() leaves only apostrophes
    return bool(_CUES.search(words))
