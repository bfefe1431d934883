"""Vital emergencies: a deterministic check that runs before any triage or statistical model.

If someone writes that they sleep outside tonight, that their partner hits them or that they want to
die, the only useful answer is the right phone number, at once. Missing such a message costs far more
than a false alarm, but sending the suicide line to someone joking about taxes is also harmful, so the
patterns below are specific phrases rather than single alarming words.

How matching works (so that the table can be reviewed without reading code):
- the message is normalised (lower case, no accents, punctuation and apostrophes become spaces):
  "J'ai envie d'en finir !" -> "j ai envie d en finir";
- common SMS spellings are expanded first ("jsuis" -> "je suis", "jveux" -> "je veux", "qqn" ->
  "quelqu un", "pa" -> "pas"...), and a few long key words are corrected when one letter is wrong
  ("sucider" -> "suicider", "violances" -> "violences");
- each pattern is a regular expression over that normalised text: ``|`` means "or", ``?`` "optional",
  ``\\w*`` "any ending", ``(?!...)`` "not followed by".

Order = priority: when several kinds match, the first kind in ``RULES`` wins. The more specific comes
first: a child victim (119) before violence by a partner (3919), before medical distress (15, which also
covers a suicide attempt in progress), before suicidal thoughts (3114), police (17), emergency shelter
(115) and the general number (112).

Documented choices:
- "c'est une urgence vitale" -> 15 (SAMU: "vitale" is medical in French usage); "accident grave",
  fire, gas leak, drowning -> 112 (several services may be needed).
- "mon fils est en danger de perdre son apl" -> nothing: "en danger de <verb>" is a risk of losing a
  right, not physical danger ("en danger de mort" still triggers).
- "les impots me tuent", "ca me tue", "je vais mourir de rire" -> nothing: figurative; only a first person
  wish or plan triggers 3114 ("je veux mourir", "je vais me tuer", "en finir").
- "il me frappe"/"il me bat" without saying who -> 3919 (most frequent case for this line, which also
  redirects men); a parent hitting the writer -> 119 (likely a minor).
- "expulse" alone -> nothing ("expulsé de pôle emploi" is administrative); expelled from a home, or
  any mention of sleeping outside tonight -> 115.
- the words "urgent"/"urgence" alone never trigger: urgent digital procedures are this bot's daily work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.text import normalize

NUMBERS: dict[str, str] = {
    "child_danger": "119",
    "violence_women": "3919",
    "medical": "15",
    "suicide": "3114",
    "police": "17",
    "shelter": "115",
    "general": "112",
}


@dataclass(frozen=True)
class VitalEmergency:
    kind: str
    number: str


# Reusable fragments (normalised text: no accents, apostrophes are spaces).
_CHILD = r"(?:enfants?|fils|filles?|bebes?|petite?s?|gamin\w*|gosses?|mome?s?|ado\w*|mineure?s?|neveu\w*|niece\w*)"
_DET = r"(?:son|sa|ses|mon|ma|mes|les|le|la|l|un|une|des|leur|leurs|notre|nos|cet|cette|ce)"
_HIT = r"(?:frap+\w*|bat|battu\w*|bats|battre|tape\w*|cogne\w*|violente\w*|maltrait\w*|brutalis\w*|viol\w*|secou\w*|abuse\w*|enferme\w*|etrangl\w*)"
_PARTNER = (
    r"(?:mari|conjoint\w*|compagnon|compagne|copain|copine|concubin\w*|partenaire|petit ami|petite amie|"
    r"ex|ex mari|ex conjoint|ex compagnon|mec|homme|epoux|epouse|femme)"
)
_PARENT = r"(?:pere|mere|beau pere|belle mere|parents?|daron\w*|papa|maman)"
_I = r"(?:je|j|moi)"
_NOW = r"(?:ce soir|cette nuit|sta nuit|aujourd hui|maintenant|demain soir|depuis \w+ (?:jours?|nuits?|semaines?))"
_NOT_A_LOSS = r"(?! d(?:e|u|es)? (?!mort\b))"  # "en danger de perdre son apl" is not physical danger

# The table reviewed by social workers: (kind, phrase patterns). The number comes from NUMBERS.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "child_danger",
        (
            rf"{_HIT} {_DET} {_CHILD}",  # "mon voisin bat son enfant"
            rf"{_HIT} (?:sur )?{_DET}? ?{_CHILD}",
            rf"{_CHILD} (?:est |sont )?(?:battu\w*|frappe\w*|maltraite\w*|violente\w*|abuse\w*)",
            rf"{_CHILD} (?:est |sont |qui est |qui sont )?en danger{_NOT_A_LOSS}",
            r"maltraitance|inceste|attouchements?|pedophil\w*|pedocriminel\w*",
            rf"{_PARENT} (?:me|m) (?:frap+\w*|bat|tape\w*|cogne\w*|viol\w*|enferme\w*|a frap+\w*|a battu\w*|a viol\w*)",
        ),
    ),
    (
        "violence_women",
        (
            rf"(?:mon|ma|mon ex|le|l) {_PARTNER} (?:me|m|m a|ma) (?:a )?{_HIT}",  # "mon mari me frappe"
            rf"(?:mon|ma|le) {_PARTNER} (?:me|m) (?:menace\w*|tue\w*|fait du mal|fait mal|etrangle\w*|insulte\w* et)",
            rf"\bil (?:me|m) (?:frap+\w*|bat|battu\w*|tape\w*|cogne\w*|viol\w*|etrangl\w*|a frap+\w*|a battu\w*|a viol\w*)",
            r"violences? (?:conjugales?|domestiques?|familiales?|faites aux femmes|sexuelles?)",
            rf"violences? (?:de|par|du) (?:mon|ma|mon ex) {_PARTNER}",
            r"femmes? battues?|je suis battue|victime de violences?|subis des violences|(?:on|il|ils) m a violee?",
            r"je me suis fait(?:e)? violer|viol conjugal",
        ),
    ),
    (
        "medical",
        (
            r"urgence (?:vitale|medicale)",
            r"(?:un|en|fait|fais|faire) (?:un )?malaise",
            r"(?:ne |n )?respire (?:plus|pas|mal|difficilement)|(?:ne |n )?respir\w* plus|(?:peut|peux|arrive) (?:plus|pas) (?:a )?respirer|etouf+e\w*|s etouffe",
            r"(?:crise|arret) cardiaque|infarctus|\bavc\b|crise d epilepsie|convuls\w*",
            r"over ?dose|surdose|intoxi\w*|empoisonn\w*",
            r"inconscient\w*|(?:perdu|perd) connaissance|evanoui\w*|se reveille (?:plus|pas)|ne bouge plus",
            r"saigne\w* (?:beaucoup|abondamment|enormement|partout)|hemorragie",
            r"(?:douleur|mal) (?:a|dans) la poitrine|douleurs? thoraciques?",
            r"(?:avale|pris) (?:toute |tous |une boite |des |trop de |plein de )(?:mes |les |ses )?(?:medicaments|cachets|comprimes|pilules)",
            r"tentative de suicide|(?:a|j ai|il a|elle a) tente de se suicider|s est (?:pendu|ouvert les veines)",
        ),
    ),
    (
        "suicide",
        (
            rf"{_I} (?:ne )?(?:veux|voudrais|veut|vais|va|souhaite|prefere|prefererais) (?:juste |plutot )?mourir",
            r"envie de (?:mourir|crever|disparaitre|me tuer|me suicider)",
            r"(?:veux|vais|voudrais|envie de|envie d|pense a|pense a me) (?:me )?(?:suicid\w*|tuer)\b",
            r"me suicid\w*|suicidaire|idees? (?:noires|suicidaires)",
            r"(?:en )?finir avec (?:la vie|ma vie|tout|moi)|(?:envie d|veux|vais|voudrais) en finir",
            r"mettre fin a (?:mes jours|ma vie)|me foutre en l air|me jeter (?:sous|par|du haut|d un|dans)|me pendre|m ouvrir les veines",
            r"(?:ne )?(?:veux|veut|ai|a) plus (?:envie de )?vivre|marre de (?:la vie|vivre)|plus (?:envie|la force) de vivre",
            r"(?:vais|va|veux) mourir(?! de (?:rire|rigoler|honte|ennui|fatigue|faim|chaud|froid)| d ennui)",
        ),
    ),
    (
        "police",
        (
            r"(?:quelqu un|quelqu|on|ils|il|des gens|des hommes|un homme|des personnes) (?:essaie|essaye|tente|veut|veulent|essaient|essayent|tentent) d (?:entrer|rentrer|forcer|defoncer)",
            r"(?:force|forcent|defonce\w*|casse\w*) (?:ma|la|notre) porte",
            r"cambriol\w*|intrus\w*",
            r"menace\w* (?:avec|d) (?:un|une) (?:couteau|arme|pistolet|fusil|flingue|revolver|batte|hache)",
            r"(?:a|ont) (?:un|une) (?:couteau|arme|pistolet|fusil|flingue)",
            r"menaces? de mort|menace\w* de (?:me|nous) tuer|veut (?:me|nous) tuer|va (?:me|nous) tuer",
            r"(?:me|m) (?:suit|suivent|poursuit|agress\w*|a agress\w*)|agression|(?:fait|faite) agresser",
            r"sequestr\w*|kidnap\w*|enleve\w* (?:mon|ma|mes)",
            rf"{_I} suis en danger{_NOT_A_LOSS}|(?:nous sommes|on est) en danger{_NOT_A_LOSS}",
        ),
    ),
    (
        "shelter",
        (
            r"(?:suis|sommes|est|sont|etre|retrouve\w*|mis\w*|jete\w*|me voila|bientot) a la rue(?! (?:de|du|des|d|saint|st)\b)",
            r"\b(?:je|on|nous) (?:suis|est|sommes) (?:a la rue|dehors|sans abri|sans logement|sans toit|sdf)\b(?! (?:de|du|des) )",
            r"\bsans abris?\b|\bsdf\b|sans domicile|sans toit|sans logement ce soir",
            rf"dehors {_NOW}|{_NOW} dehors",
            r"(?:dormir|dors|dort|dormons|dorment|dormi|coucher|couche|passer la nuit) (?:dehors|dans la rue|a la rue)",
            r"(?:dormir|dors|dort|dormons|dorment|dormi|couche|passer la nuit|vis|vit|vivons|habite) dans (?:ma|la|une|notre|sa|mon|un) (?:voiture|auto|bagnole|caisse|gare|tente|parc|cage d escalier|hall)",
            rf"pas (?:de|d) (?:logement|toit|endroit|hebergement|abri)s? (?:pour )?(?:{_NOW}|dormir|ou dormir)",
            r"(?:ou|nulle part ou|pas ou|rien pour) dormir",
            r"hebergement d urgence|\b115\b",
            r"expuls\w* (?:de|du|d) (?:mon |ma |notre |l |la |le )?(?:logement|appartement|appart|maison|domicile|studio|chambre|hlm|foyer|hotel|chez moi|chez nous)",
            r"(?:m a|m ont|nous a|nous ont|suis|sommes|ai ete|avons ete) (?:mis\w* dehors|jete\w* dehors|vire\w* de chez)",
        ),
    ),
    (
        "general",
        (
            r"accident grave|grave accident|gravement blesse\w*|(?:il y a|y a) (?:eu )?un accident",
            r"incendie|au feu\b|(?:le )?feu (?:chez|dans|a la maison)|(?:ca|la maison|l appart\w*) brule",
            r"fuite de gaz|odeur de gaz|explosion",
            r"noyade|se noie|(?:appelez|appeler|appelle) (?:les )?(?:secours|pompiers)",
        ),
    ),
)

# SMS spellings -> the words the patterns expect (applied token by token after normalisation).
_SMS: dict[str, str] = {
    "jsuis": "je suis", "jsui": "je suis", "chui": "je suis", "chuis": "je suis", "jss": "je suis",
    "jveux": "je veux", "jveu": "je veux", "jvx": "je veux", "veu": "veux", "vx": "veux",
    "jvais": "je vais", "jvai": "je vais", "jvé": "je vais", "jv": "je vais", "vai": "vais",
    "jai": "j ai", "g": "j ai", "jpeux": "je peux", "jpeu": "je peux", "peu": "peux",
    "jdors": "je dors", "jdor": "je dors", "dor": "dors", "jme": "je me", "jm": "je me",
    "pa": "pas", "po": "pas", "plu": "plus", "mn": "mon", "ds": "dans", "ss": "sans", "ac": "avec", "avc": "avec",
    "qqn": "quelqu un", "qqun": "quelqu un", "qq1": "quelqu un", "kelkun": "quelqu un", "quelquun": "quelqu un",
    "ki": "qui", "ke": "que", "koi": "quoi", "tt": "tout", "ts": "tous", "jamé": "jamais",
    "mourrir": "mourir", "mouri": "mourir", "mourire": "mourir", "crevé": "crever",
    "ce soir": "ce soir", "2m1": "demain", "auj": "aujourd hui", "ajd": "aujourd hui", "aujourdhui": "aujourd hui",
    "ya": "y a", "ilya": "il y a", "sa": "sa", "c": "c", "dehor": "dehors", "dehord": "dehors",
    "fraper": "frapper", "frape": "frappe", "bas": "bat",
}
# "avc" in SMS can mean "avec"; keep the stroke reading when written in capitals ("AVC"): see _expand.
# "bas"->"bat" only matters inside "me bas"; other uses of "bas" match no pattern.

# Long key words worth correcting when mistyped (one edit for 7-8 letters, two from 9 letters on).
_KEYWORDS: tuple[str, ...] = (
    "suicider", "suicidaire", "conjugales", "conjugale", "violences", "violence", "cardiaque", "overdose",
    "expulse", "expulsee", "expulses", "malaise", "respire", "respirer", "couteau", "logement", "menace",
    "conjoint", "compagnon", "inconscient", "evanoui", "evanouie", "hebergement", "cambriolage", "incendie",
    "maltraitance", "maltraite", "hemorragie", "infarctus", "agression", "agresse", "etouffe", "pistolet",
    "domestiques", "connaissance", "medicaments",
)
# Real words one edit away from a key word, never to be "corrected".
_PROTECTED = frozenset({"violente", "violent", "violents", "violentes", "menage", "menaces", "menaces", "respira"})


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    return tuple((kind, tuple(re.compile(rf"(?:{p})") for p in patterns)) for kind, patterns in RULES)


@lru_cache(maxsize=4096)
def _correct(token: str) -> str:
    if len(token) < 7 or token in _PROTECTED or token in _KEYWORDS or not token.isalpha():
        return token
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    limit = 1 if len(token) < 9 else 2
    best = process.extractOne(token, _KEYWORDS, scorer=Levenshtein.distance, score_cutoff=limit)
    return best[0] if best is not None else token


def _expand(text: str) -> str:
    """Normalised text with SMS spellings expanded and mistyped key words corrected, space padded."""
    capital_avc = bool(re.search(r"\bAVC\b", text))
    words = normalize(text).replace("'", " ").split()
    out: list[str] = []
    for word in words:
        if word == "avc" and capital_avc:
            out.append(word)
            continue
        out.append(_SMS.get(word) or _correct(word))
    return " " + " ".join(out) + " "


def detect_all(text: Any) -> list[VitalEmergency]:
    """Every kind of vital emergency found in ``text``, most specific first. Never raises."""
    try:
        if not isinstance(text, str) or not text.strip():
            return []
        expanded = _expand(text[:5000])
        found: list[VitalEmergency] = []
        for kind, patterns in _compiled():
            if any(p.search(expanded) for p in patterns):
                found.append(VitalEmergency(kind, NUMBERS[kind]))
        return found
    except Exception:
        return []


def detect_emergency(text: Any) -> VitalEmergency | None:
    """The vital emergency to answer first (number to give at once), or None."""
    found = detect_all(text)
    return found[0] if found else None
