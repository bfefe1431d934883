"""Vital emergencies written in another language than French: the number comes first whatever the language.

People who read French with difficulty write in their own language, or in the words of a language they
share with the helper. The French rules (bot/triage/emergencies.py) read none of these: "mi esposo me pega"
got "Je n'ai pas bien compris". This table holds plain phrases of danger in the languages most written to
French social services (English, Spanish, Portuguese, Italian, Romanian, Turkish, Arabic in its script and
in Latin letters, Russian and Ukrainian), by kind of emergency; the number given is the French one (a
number is read in any language). Phrases are specific ("not breathing", not "help"): a false alarm costs one
kind sentence, but a cry for help in a sentence about a form is not a danger.

Latin-script phrases are matched on the normalised text the French rules read (no accents, lower case;
Turkish "ı" becomes a space there, hence "alm ?yor"); the others on the text in NFKC, lower case.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Normalised Latin script (bot.core.text.normalize: no accents, apostrophes as spaces), by kind.
_LATIN: dict[str, tuple[str, ...]] = {
    "child_danger": (
        r"(?:beats|hits|is beating|is hitting|hurts) (?:my|the|our|his|her) (?:child|children|kids?|son|daughter|baby)",
        r"(?:pega|golpea|maltrata) a (?:mi|mis|los|su|sus) (?:hij[oa]s?|ninos?|bebe)",
        r"(?:bate|espanca) (?:no|na|nos|nas|o meu|a minha) (?:filh[oa]s?|crianca|criancas|bebe)",
    ),
    "violence_women": (
        r"(?:husband|boyfriend|partner|ex) (?:beats|hits|is beating|is hitting|beat|hit|hurts|is hurting) me",
        r"domestic (?:violence|abuse)",
        r"(?:esposo|marido|novio|pareja|ex) me (?:pega|golpea|maltrata|pego|golpeo|pegan)",
        r"violencia (?:domestica|de genero|machista)",
        r"(?:marido|namorado|companheiro|ex) (?:me bate|bate em mim|me espanca|me agride)",
        r"(?:marito|fidanzato|compagno) mi (?:picchia|batte|colpisce)",
        r"(?:sotul|iubitul|partenerul)(?: meu)? (?:ma|m a) (?:bate|loveste|a batut)",
        r"kocam (?:beni )?(?:dov|vur)\w*",
        r"(?:rajli|zawji|jouji) (?:kay|ka)?\s?(?:drebni|dorbni|yedrebni|ydrabni)",
    ),
    "medical": (
        r"(?:is not|isn t|not|stopped) breathing", r"can ?t breathe|cannot breathe|cant breath",
        r"heart attack", r"(?:is )?unconscious", r"passed out", r"overdose", r"(?:bleeding|bleeds) (?:a lot|heavily)",
        r"(?:call|need) an? ambulance", r"having a (?:stroke|seizure)",
        r"no (?:respira|puede respirar)", r"ataque (?:al corazon|cardiaco)", r"(?:esta|estan|sigue) inconscient\w*",
        r"sangra(?:ndo)? mucho", r"(?:llamen|necesito|necesitamos) (?:una )?ambulancia",
        r"nao (?:esta a )?respira\w*", r"ataque cardiaco", r"desmaiou", r"sangra(?:ndo)? muito",
        r"non respira", r"infarto",
        r"nu (?:mai )?respira", r"atac de cord", r"ambulanta",
        r"nefes alm ?[iy]?yor", r"kalp kriz\w*", r"ambulans",
    ),
    "suicide": (
        r"(?:want|going) to (?:die|kill myself|end it all|end my life)", r"kill myself", r"suicid\w*",
        r"take my (?:own )?life",
        r"quiero (?:morir(?:me)?|matarme|suicidarme)", r"me voy a (?:matar|suicidar)", r"quitarme la vida",
        r"quero (?:morrer|me matar|matar me)", r"vou me matar",
        r"voglio (?:morire|uccidermi)",
        r"vreau sa mor", r"ma sinucid",
        r"olmek istiyorum", r"intihar",
        r"bghit (?:nmout|nmot)",
    ),
    "police": (
        r"(?:wants|threatens|is going|is trying) to kill (?:me|us)", r"(?:breaking|broke) (?:in|into)",
        r"(?:has|with) a (?:knife|gun) (?:and|here|in)", r"me (?:quiere|va a) matar", r"me quer matar",
        r"vrea sa ma omoare", r"beni oldurecek",
    ),
    "shelter": (
        r"(?:sleep|sleeping|slept) (?:on the street|outside|rough|in the car)", r"nowhere to sleep",
        r"homeless tonight",
        r"(?:duermo|dormimos|dormir|durmiendo) en la calle", r"no (?:tengo|tenemos) (?:donde|a donde) dormir",
        r"(?:durmo|dormimos|dormir|dormindo) na rua", r"nao (?:tenho|temos) onde dormir",
        r"dorm(?:im)? (?:pe strada|in strada)", r"sokakta (?:yat|kal)\w*",
    ),
    "general": (
        # a bare cry for help as the whole message, as in French
        r"(?<=^ )(?:help|help me|sos|socorro|ayuda|ajutor|aiuto|imdat|yardim edin)"
        r"(?: (?:please|me|por favor|pls))*(?= $)",
        r"(?<=^ )(?:emergency|emergencia|urgencia|urgente)(?: (?:please|por favor|pls))*(?= $)",
        r"medical emergency", r"(?:there is a|there s a|house is on|flat is on|is on) fire",
        r"(?:hay|ha) (?:un )?(?:fuego|incendio)", r"\bfuego en\b",
    ),
}

# Other scripts, on the text in NFKC and lower case.
_SCRIPTS: dict[str, tuple[str, ...]] = {
    "violence_women": (
        "زوجي يضربني", "يضربني زوجي", "زوجي ضربني", "عنف زوجي",
        "муж (?:меня )?бь[её]т", "муж избивает", "чоловік (?:мене )?б[’'ʼ]?є", "домашнее насилие",
    ),
    "medical": (
        "لا يتنفس", "لا تتنفس", "نوبة قلبية", "اسعاف", "إسعاف",
        "не дышит", "сердечный приступ", "скор(?:ая|ую)", "не дихає", "швидк(?:а|у)",
    ),
    "suicide": (
        "أريد أن أموت", "اريد ان اموت", "بغيت نموت", "انتحار", "أنتحر", "انتحر",
        "хочу умереть", "покончить с собой", "суицид", "хочу померти",
    ),
    "shelter": (
        "أنام في الشارع", "انام في الشارع", "сплю на улице", "ночую на улице", "сплю на вулиці",
    ),
    "general": (
        "النجدة", "حريق", "помогите", "пожар", "допоможіть",
    ),
}


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    latin = {kind: re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")") for kind, patterns in
             _LATIN.items()}
    scripts = {kind: re.compile("|".join(f"(?:{p})" for p in patterns)) for kind, patterns in _SCRIPTS.items()}
    return latin, scripts


def foreign_kinds(text: str, expanded: str) -> set[str]:
    """The kinds of emergency a message says in another language: `expanded` is the text as the French rules
    read it (space padded, normalised), `text` the message as written."""
    latin, scripts = _compiled()
    found = {kind for kind, pattern in latin.items() if pattern.search(expanded)}
    if any(ord(ch) > 0x24F for ch in text):  # beyond Latin: Arabic, Cyrillic…
        raw = unicodedata.normalize("NFKC", text).lower()
        found |= {kind for kind, pattern in scripts.items() if pattern.search(raw)}
    return found
