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
- "il me frappe"/"il me bat" without saying who -> 3919 (the most frequent case); a partner threatening
  with a knife -> 3919 too (partner is the more specific signal; ``detect_all`` also returns 17);
  a parent hitting the writer -> 119 (likely a minor).
- "je veux en finir avec ce dossier" -> nothing; "en finir" alone or "avec la vie / tout / moi" -> 3114.
- "expulse" alone -> nothing ("expulsé de pôle emploi" is administrative), nor a future eviction
  ("je vais être expulsé en mars": a social worker's matter); expelled from a home, or sleeping
  outside / in a car tonight -> 115.
- past events told for a procedure ("accident du travail", "déclarer un incendie à l'assurance",
  "carte d'identité volée") -> nothing; they are ordinary triage.
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
_CHILD = r"(?:enfants?|fils|filles?|bebes?|petite?s?|gamin\w*|gosses?|mome?s?|ado|ados|adolescente?s?|mineure?s?|neveux?|nieces?)"
_DET = r"(?:son|sa|ses|mon|ma|mes|les|le|la|l|un|une|des|leur|leurs|notre|nos|cet|cette|ce)"
_HIT = (
    r"(?:(?<!faute de )frap+\w*|bat|battu\w*|bats|battre|(?:tape|tapent|taper)(?! sur (?:les|le|mon) (?:nerfs|systeme))|"
    r"cogne\w*|violente\w*|maltrait\w*|"
    r"brutalis\w*|viol|viole\w*|violer|secoue\w*|etrangl\w*)"
)
_PARTNER = (
    r"(?:mari|conjoint\w*|compagnon|compagne|copain|copine|concubin\w*|partenaire|petit ami|petite amie|"
    r"ex|ex mari|ex conjoint|ex compagnon|mec|homme|epoux|epouse|femme)"
)
_PARENT = r"(?:pere|mere|beau pere|belle mere|parents?|daron\w*|papa|maman)"
_WITH = r"(?:avec|avc|ac)"
_NOW = r"(?:ce soir|cette nuit|sta nuit|aujourd hui|maintenant|demain soir|depuis \w+ (?:jours?|nuits?|semaines?))"
_NOT_A_LOSS = r"(?! d(?:e|u|es)? (?!mort\b))"  # "en danger de perdre son apl" is not physical danger
# "mourir de rire / d'ennui / de faim" are figures of speech.
_DIE = r"mourir(?! (?:de|d) (?:rire|rigoler|honte|ennui|fatigue|faim|chaud|froid|envie|impatience|curiosite|peur)\b)"

# The table reviewed by social workers: (kind, phrase patterns). The number comes from NUMBERS.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "child_danger",
        (
            rf"{_HIT} (?:sur )?(?:{_DET} )?{_CHILD}",  # "mon voisin bat son enfant"
            rf"{_CHILD} (?:est |sont |a ete |ont ete |se fait |se font )?(?:battu\w*|frap+e\w*|maltraite\w*|violente\w*|viole\w*|abuse\w*)",
            rf"{_CHILD} (?:est |sont |qui est |qui sont )?en danger{_NOT_A_LOSS}",
            r"maltraitance|inceste|attouchements?|pedophil\w*|pedocriminel\w*",
            rf"{_PARENT} (?:me|m) (?:a )?(?:{_HIT}|enferme\w*)",
            rf"(?:enleve|kidnappe|pris) (?:mon|ma|mes|notre|nos) {_CHILD}",
        ),
    ),
    (
        "violence_women",
        (
            rf"(?:mon|ma|mon ex|le|l) {_PARTNER} (?:me|m|m a|ma) (?:a )?{_HIT}",  # "mon mari me frappe"
            rf"(?:mon|ma|le) {_PARTNER} (?:me|m) (?:a )?(?:menace\w*|tue|fait du mal|fait mal|etrangl\w*)",
            rf"il (?:me|m) (?:a )?{_HIT}",
            r"violences? (?:conjugales?|domestiques?|familiales?|faites aux femmes|sexuelles?)",
            rf"violences? (?:de|par|du) (?:mon|ma|mon ex) {_PARTNER}",
            rf"(?:mon|ma|mon ex|le) {_PARTNER} est (?:tres |trop |super )?violente?",
            r"femmes? battues?|je suis battue|victime de violences?|subis des violences|(?:on|il|ils) m a violee?",
            r"je me suis fait(?:e)? violer|viol conjugal",
        ),
    ),
    (
        "medical",
        (
            r"urgence (?:vitale|medicale)",
            r"(?:un|en|fait|fais|faire) (?:un )?malaise",
            r"respir\w* (?:plus|pas|mal|difficilement)|(?:peut|peux|arrive|arrivons) (?:plus|pas) (?:a )?respir\w*",
            r"(?:s|il|elle|bebe) etouf+e\w*",
            r"(?:crise|arret) cardiaque|infarctus|(?:un|d un|fait|fais|faire|eu) avc|crise d epilepsie|convuls\w*",
            r"over ?dose|surdose|intoxication|empoisonnement|(?:s est|a ete|suis|est) empoisonne\w*",
            r"(?:il|elle|qui|bebe|personne) (?:est |reste )?inconscient\w*|(?:perdu|perd) connaissance|evanoui\w*",
            r"ne se reveille (?:plus|pas)|(?:il|elle|bebe) ne bouge plus",
            r"saigne\w* (?:beaucoup|abondamment|enormement|partout)|hemorragie",
            r"(?:douleur|mal) (?:a|dans) la poitrine|douleurs? thoraciques?",
            r"(?:avale|pris) (?:\w+ ){0,3}?(?:boites?|plaquettes?|trop|tous|toutes|plein|tube) (?:\w+ ){0,2}?"
            r"(?:medicaments|medocs|cachets|comprimes|pilules|somniferes)",
            r"tentative de suicide|tente de (?:me|se) suicider|s est (?:pendu|ouvert les veines)",
        ),
    ),
    (
        "suicide",
        (
            rf"(?:veux|voudrais|veut|vais|souhaite|prefere|prefererais|aimerais) (?:juste |plutot |bien )?{_DIE}",
            r"envie de (?:mourir|crever|disparaitre|me tuer|me suicider)",
            r"(?:veux|vais|voudrais|envie de|pense a) me (?:suicid\w*|tuer)",
            r"me suicid\w*|suicidaire|idees? (?:noires|suicidaires)|pense\w* au suicide",
            r"en finir(?! avec (?!la vie|ma vie|moi|tout\b))",
            r"mettre fin a (?:mes jours|ma vie)|me foutre en l air|me jeter (?:sous|par|du haut|d un)|me pendre|m ouvrir les veines",
            r"(?:veux|veut|ai|a) plus (?:envie de )?vivre|marre de (?:la vie|vivre)|plus (?:envie|la force) de vivre",
        ),
    ),
    (
        "police",
        (
            r"(?:quelqu un|quelqu|on|ils|il|des gens|des hommes|un homme|des personnes) (?:essaie|essaye|tente|veut|veulent|essaient|essayent|tentent) d (?:entrer|rentrer|forcer|defoncer)",
            r"(?:force|forcent|defonce\w*|casse\w*) (?:ma|la|notre) porte",
            r"cambriolage en cours|(?:en train de|veut|veulent|essaie\w*|essaye\w*) (?:me |nous )?cambrioler|un intrus|des intrus",
            rf"menace\w* (?:{_WITH}|d) (?:un|une) (?:couteau|arme|pistolet|fusil|flingue|revolver|batte|hache)",
            r"(?:a|ont) (?:un|une) (?:couteau|arme|pistolet|fusil|flingue)",
            r"menaces? de mort|menace\w* de (?:me|nous) tuer|(?:veut|veulent|va|vont) (?:me|nous) tuer",
            r"(?:me|m) (?:agress\w*|a agress\w*)|agression|(?:fait|faite) agress\w*",
            r"sequestr\w*",
            r"(?:je|j|moi) suis en danger" + _NOT_A_LOSS + r"|(?:nous sommes|on est) en danger" + _NOT_A_LOSS,
        ),
    ),
    (
        "shelter",
        (
            r"(?:suis|sommes|est|sont|etre|retrouve\w*|mis\w*|jete\w*|me voila|bientot) a la rue(?! (?:de|du|des|d|saint|st)\b)",
            r"(?:je|on|nous) (?:suis|est|sommes) (?:sans abri|sans logement|sans toit|sdf)",
            r"sans abris?|sdf|sans domicile|sans toit",
            rf"dehors {_NOW}|{_NOW} dehors",
            r"(?:dormir|dors|dort|dormons|dorment|dormi|coucher|couche|passer la nuit) (?:dehors|dans la rue|a la rue)",
            r"(?:dormir|dors|dort|dormons|dorment|dormi|couche|passer la nuit|vis|vit|vivons) dans (?:ma|la|une|notre|sa|mon|un) (?:voiture|auto|bagnole|caisse|gare|tente|parc|cage d escalier|hall)",
            rf"pas (?:de|d) (?:logement|toit|endroit|hebergement|abri)s? (?:pour )?(?:{_NOW}|dormir|ou dormir)",
            r"(?:ou|nulle part ou|pas ou|rien pour) dormir",
            r"hebergement d urgence|(?:appeler|appelle|appele|contacter|joindre) (?:le )?115",
            r"(?:m a|m ont|nous a|nous ont|ai ete|avons ete|a ete|ont ete|suis|sommes|me suis fait|nous sommes fait) expulse\w* (?:de|du|d) (?:mon |ma |notre |l |la |le )?(?:logement|appartement|appart|maison|domicile|studio|chambre|hlm|foyer|hotel|chez moi|chez nous)",
            r"(?:m a|m ont|nous a|nous ont|suis|sommes|ai ete|avons ete) (?:mis\w* dehors|jete\w* dehors|vire\w* de chez)",
        ),
    ),
    (
        "general",
        (
            r"accident grave|grave accident|gravement blesse\w*|blesses? graves?",
            r"incendie (?:chez|dans|en cours|a la maison)|il y a (?:un incendie|le feu)|au feu|le feu (?:chez|dans|a la maison)",
            r"(?:ca|la maison|l appart\w*|l immeuble|la cuisine) brule",
            r"fuite de gaz|odeur de gaz|explosion de gaz|(?:il y a eu|y a eu|entendu) une explosion",
            r"noyade|se noie|(?:appelez|appeler|appelle) (?:les )?(?:secours|pompiers)",
        ),
    ),
)

# SMS spellings -> the words the patterns expect (applied word by word after normalisation).
_SMS: dict[str, str] = {
    "jsuis": "je suis", "jsui": "je suis", "chui": "je suis", "chuis": "je suis", "jss": "je suis",
    "jveux": "je veux", "jveu": "je veux", "jvx": "je veux", "veu": "veux", "vx": "veux",
    "jvais": "je vais", "jvai": "je vais", "jv": "je vais", "vai": "vais",
    "jai": "j ai", "g": "j ai", "jpeux": "je peux", "jpeu": "je peux", "peu": "peux",
    "jdors": "je dors", "jdor": "je dors", "dor": "dors", "jme": "je me", "jm": "je me",
    "pa": "pas", "po": "pas", "plu": "plus", "mn": "mon", "ds": "dans", "ss": "sans",
    "qqn": "quelqu un", "qqun": "quelqu un", "qq1": "quelqu un", "kelkun": "quelqu un", "quelquun": "quelqu un",
    "ki": "qui", "ke": "que", "koi": "quoi", "tt": "tout",
    "mourrir": "mourir", "mouri": "mourir", "mourire": "mourir",
    "2m1": "demain", "auj": "aujourd hui", "ajd": "aujourd hui", "aujourdhui": "aujourd hui",
    "ya": "y a", "ilya": "il y a", "dehor": "dehors", "dehord": "dehors", "deor": "dehors",
    "fraper": "frapper", "frape": "frappe", "frap": "frappe", "envi": "envie", "ru": "rue", "ve": "veux",
}
# "bas" is "bat" only right after an object pronoun ("il me bas"); "en bas" must stay.
_BAS_AFTER = frozenset({"me", "m", "te", "le", "la", "les", "nous", "vous", "l"})

# Long key words worth correcting when mistyped (one edit for 7-8 letters, two from 9 letters on).
_KEYWORDS: tuple[str, ...] = (
    "suicider", "suicide", "suicidaire", "conjugales", "conjugale", "violences", "violence", "cardiaque", "overdose",
    "expulse", "expulsee", "expulses", "malaise", "respire", "respirer", "couteau", "logement", "menace",
    "conjoint", "compagnon", "inconscient", "evanoui", "evanouie", "hebergement", "cambriolage", "incendie",
    "maltraitance", "maltraite", "hemorragie", "infarctus", "agression", "agresse", "etouffe", "pistolet",
    "domestiques", "connaissance", "medicaments",
    # inflections, so that a correct word is never pulled towards a neighbour
    "agresser", "agressee", "menacer", "menacee", "etouffer", "expulser", "maltraiter", "evanouir", "respirez",
)
# Real words one or two edits away from a key word, never to be "corrected".
_PROTECTED = frozenset(
    {"violente", "violent", "violents", "violentes", "menage", "menaces", "respira", "compagnie", "compagnies"}
)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    return tuple((kind, tuple(re.compile(rf"\b(?:{p})\b") for p in patterns)) for kind, patterns in RULES)


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
    words = normalize(text).replace("'", " ").split()
    out: list[str] = []
    for index, word in enumerate(words):
        if word == "bas" and index and words[index - 1] in _BAS_AFTER:
            out.append("bat")
            continue
        out.append(_SMS.get(word) or _correct(word))
    return " " + " ".join(out) + " "


def detect_all(text: Any) -> list[VitalEmergency]:
    """Every kind of vital emergency found in ``text``, most specific first. Never raises."""
    try:
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        if not isinstance(text, str) or not text.strip():
            return []
        expanded = _expand(text)  # no truncation: a cry for help at the end of a long message still counts
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
