"""Deterministic fact extraction from what people write.

The statistical NLU only says what kind of message it is (intent). The facts that the triage
rules use (which body, is there a deadline, what equipment...) come from the readable lexicon
below, so a social worker can check why a fact was found. Matching works on normalised text
(no accents, lower case) and tolerates one typo in longer words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from rapidfuzz import fuzz

from bot.text import normalize

# --- Bodies and procedures ---------------------------------------------------------------------
# (organisation code, Aidants Connect area, phrases). Phrases are normalised text.
ORGANISATIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("caf", "social", ("caf", "allocations familiales", "allocation familiale", "alloc", "allocs", "caf fr",
                       "apl", "aide au logement", "rsa", "prime d'activite", "prime activite",
                       "declaration trimestrielle", "declaration trimestriel", "dtr", "aah")),
    ("france_travail", "social", ("france travail", "pole emploi", "pole emplois", "poleemploi", "chomage",
                                  "actualisation", "actualiser", "m'actualiser", "m actualiser", "francetravail",
                                  "allocation chomage", "radie", "radiation", "radiee")),
    ("impots", "argent", ("impots", "impot", "impots gouv", "declaration de revenus", "declaration des revenus",
                          "declaration d'impot", "avis d'imposition", "taxe d'habitation", "taxe fonciere",
                          "prelevement a la source", "fisc")),
    ("ants", "transports", ("ants", "carte grise", "permis de conduire", "permis", "certificat d'immatriculation",
                            "immatriculation", "code de cession", "declaration de cession", "vendu ma voiture",
                            "changement de titulaire")),
    ("ants_identite", "papiers", ("carte d'identite", "carte identite", "cni", "passeport")),
    ("prefecture", "etranger", ("prefecture", "pref", "titre de sejour", "carte de sejour", "recepisse",
                                "naturalisation", "anef", "renouvellement de titre", "sejour")),
    ("ameli", "social", ("ameli", "cpam", "secu", "securite sociale", "carte vitale", "complementaire sante",
                         "css", "arret maladie", "arret de travail", "remboursement de soins")),
    ("retraite", "travail", ("retraite", "carsat", "info retraite", "pension de retraite", "msa")),
    ("mdph", "social", ("mdph", "rqth", "carte mobilite inclusion")),
    ("logement", "logement", ("logement social", "demande de logement", "hlm", "dossier logement")),
    ("energie", "argent", ("cheque energie",)),
    ("ecole", "famille", ("pronote", "ecole directe", "bourse scolaire", "inscription scolaire", "cantine",
                          "ent du college", "parcoursup", "educonnect", "demande de bourse", "portail famille",
                          "centre aere", "centre de loisirs")),
    ("justice", "justice", ("casier judiciaire", "porter plainte", "aide juridictionnelle")),
]

# Procedure codes, for the mediator's summary; first match wins.
PROCEDURES: list[tuple[str, tuple[str, ...]]] = [
    ("declaration_trimestrielle", ("declaration trimestrielle", "declaration trimestriel", "dtr",
                                   "declaration de ressources")),
    ("actualisation", ("actualisation", "actualiser", "m'actualiser", "m actualiser")),
    ("declaration_revenus", ("declaration de revenus", "declaration des revenus", "declaration d'impot",
                             "declarer mes revenus")),
    ("titre_sejour", ("titre de sejour", "carte de sejour", "recepisse", "renouvellement de titre")),
    ("carte_grise", ("carte grise", "certificat d'immatriculation")),
    ("permis", ("permis de conduire", "permis")),
    ("identite", ("carte d'identite", "carte identite", "cni", "passeport")),
    ("rsa", ("rsa",)),
    ("apl", ("apl", "aide au logement")),
    ("prime_activite", ("prime d'activite", "prime activite")),
    ("carte_vitale", ("carte vitale",)),
    ("inscription", ("inscription", "m'inscrire", "m inscrire", "minscrire", "s'inscrire")),
    ("retraite", ("retraite",)),
    ("logement_social", ("logement social", "demande de logement", "hlm")),
]

# --- Stakes (question 2) --------------------------------------------------------------------------
# Regexes over normalised text. "problem": something already went wrong. "deadline": a date in days.
PROBLEM_PATTERNS = [
    r"\b(date|delai)( limite)? (est |a ete )?(passee?|depasse)", r"\btrop tard\b",
    r"\b(rate|loupe|zappe|oublie) (mon|ma|la|le|l') ?(actualisation|declaration|rdv|rendez vous|date|echeance)",
    r"\b(coupe|coupee|coupes|coupent|couper|coupure)\b", r"\bsuspendu", r"\bsupprime", r"\bradie", r"\bradiation",
    r"\bplus (paye|touche|recu|verse)", r"\b(pas|rien) (recu|touche|paye)\b", r"\bsanction", r"\bpenalite",
    r"\bmajoration", r"\bamende", r"\btrop percu", r"\bindu\b", r"\bmise en demeure", r"\bcontrole\b",
    r"\berreur (dans|sur) (mon|le|ma) (dossier|compte|declaration)", r"\brefus", r"\bbloque[es]? (mon|le|ma|mes) "
    r"(paiement|versement|droit|allocation|rsa|apl)", r"\b(paiement|versement|droits?|allocation|rsa|apl|aide) "
    r"(bloque|arrete|stoppe|suspendu)", r"\bexpire(?! dans| le| bientot| fin)", r"\bperime(?! dans| le| bientot)", r"\b(recu|eu) (un|une) (courrier|lettre|mail|sms)"
    r"\b.*\b(coup|suspen|radi|rembours|stop|arret|supprim)", r"\bva (etre )?(coupe|suspendu|radie)",
]
DEADLINE_PATTERNS = [
    r"\bavant (le|la|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|ce soir|\d)", r"\bdate limite",
    r"\bdernier (delai|jour)", r"\bau plus tard", r"\b(aujourd'?hui|ajd|ajourdhui|demain|dmain|ce soir)\b",
    r"\bcette semaine\b", r"\bdans (\d+|deux|trois|quatre|cinq|quelques) jours?\b", r"\burgen(t|te|ce)\b",
    r"\bvite\b", r"\bsinon\b", r"\b(rdv|rendez vous) (le|lundi|mardi|mercredi|jeudi|vendredi|demain)",
    r"\bconvocation", r"\bconvoque", r"\b(ce|avant|pour|jusqu'a|d'ici|d ici) (lundi|mardi|mercredi|jeudi|vendredi|samedi)\b", r"\bfin du mois\b", r"\bdelai\b", r"\b(expire|perime|fin de validite)\w* (dans|le|bientot|fin)",
]
FIRST_CLAIM_PATTERNS = [
    r"\bpremiere (demande|fois)", r"\bjamais (fait|demande|eu) (de |d'|l'|la |ma )?(demande|droit|dossier)",
    r"\b(m'?|s'?|me |je m'?)inscri(re|s|t)\b", r"\bouvrir (mes|un|les) droits?", r"\bperdu mon (emploi|travail|boulot)",
    r"\bfaire (une|ma) demande (de|d'|du) (rsa|apl|prime|aah|chomage|logement|titre)",
]

# --- Equipment (question 3) -----------------------------------------------------------------------
_NEG = r"(pas|plus|sans|aucun|aucune|ni|jamais eu)"
_ART = r"(\s+(de|d'|un|une|mon|ma|d|l')\s*|\s*d'?\s*|\s+)"
NO_DEVICE_PATTERNS = [
    rf"\b{_NEG}{_ART}(ordi|ordinateur|pc|internet|wifi|wi fi|telephone|portable|smartphone|forfait|credit|connexion|"
    rf"reseau|tablette|equipement|materiel|data|donnees mobiles)\b",
    r"\b(ordi|ordinateur|pc|telephone|portable|tel) (est |a ete |s'est )?(en panne|casse|vole|perdu|marche plus|"
    r"marche pas|bloque)",
    r"\bj'?ai rien\b", r"\bj'?ai aucun (appareil|materiel)",
]
PHONE_ONLY_PATTERNS = [
    r"\b(que|juste|seulement|uniquement) (un|mon) (telephone|portable|smartphone|tel)\b",
    r"\b(j'?ai|avec) (un|mon) (smartphone|telephone|portable|tel)\b", r"\bsmartphone\b",
]
COMPUTER_PATTERNS = [r"\b(j'?ai|avec) (un|mon) (ordi|ordinateur|pc|tablette)\b", r"\bj'?ai internet\b"]

# --- Blocks and barriers --------------------------------------------------------------------------
BLOCK_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("codes", (r"\boubli\w* (mon|mes|le|les) (mot de passe|mdp|code|identifiant)", r"\b(mot de passe|mdp|code|"
               r"identifiant)s? (oublie|perdu)", r"\barrive (pas|plus|jamais) a (me )?(connecter|souvenir|retrouver)", r"\bconnecter\b.*\b(pas|plus)\b",
               r"\bcompte (bloque|verrouille)", r"\bfranceconnect\b", r"\bfrance connect\b")),
    ("email", (rf"\b{_NEG}{_ART}(adresse )?(mail|email|e mail|courriel|boite mail)",
               r"\b(mail|boite mail|email) (marche plus|bloque|pirate)")),
    ("peur", (r"\bpeur (de|d')", r"\bj'?ose pas\b", r"\bstress", r"\bangoisse")),
    ("espace_personnel", (r"\btrouve pas (mon|l') espace", r"\bespace (perso|personnel)",)),
]
BARRIER_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("langue", (r"\b(parle|lis|comprends|comprend|ecris) (pas|mal|peu)( bien)?( le)? francais",
                r"\bpas (bien )?(le )?francais\b", r"\btradu(ction|cteur|ire)", r"\binterprete",
                r"\bje parle (que |seulement |uniquement )?(arabe|anglais|turc|russe|ukrainien|espagnol|portugais|"
                r"roumain|tamoul|dari|pachto|soninke|wolof|lingala|chinois|albanais|georgien)")),
    ("lecture", (r"\bsais? pas (bien )?(lire|ecrire)", r"\b(lis|lire) (mal|difficilement)", r"\billettr",
                 r"\banalphabet", r"\bdu mal a lire")),
    ("accident", (r"\bdeces\b", r"\bdecede", r"\bhospitalis", r"\bseparation\b", r"\bdivorc", r"\bincendie",
                  r"\bperdu mon (emploi|travail|boulot|mari|femme)", r"\blicencie")),
]
# Needs that filter places, with the standard's values of prise_en_charge_specifique.
SPECIFIC_NEEDS: list[tuple[str, tuple[str, ...]]] = [
    ("Surdité", (r"\bsourde?s?\b", r"\bmalentendant", r"\bn'?entends? (pas|mal|rien)\b", r"\blangue des signes\b",
                 r"\blsf\b")),
    ("Déficience visuelle", (r"\baveugle", r"\bmalvoyant", r"\bvois (mal|pas|plus)\b")),
    ("Handicaps moteurs", (r"\bfauteuil roulant", r"\bhandicap moteur", r"\bpeux (pas|plus) marcher",
                           r"\bme deplace (mal|difficilement)")),
    ("Langues étrangères (anglais)", (r"\b(i speak|speak english|parle anglais|in english|english)\b",)),
    ("Langues étrangères (autres)", (r"\bje parle (que |seulement |uniquement )?(arabe|turc|russe|ukrainien|espagnol|"
                                     r"portugais|roumain|tamoul|dari|pachto|soninke|wolof|lingala|chinois|albanais|"
                                     r"georgien)", r"\b(parle|comprends|comprend) (pas|mal|peu)( bien)?( le)? francais",
                                     r"\binterprete")),
    ("Illettrisme", (r"\bsais? pas (bien )?(lire|ecrire)", r"\billettr", r"\banalphabet", r"\bdu mal a lire")),
]

# --- Wishes (question 4) and learning --------------------------------------------------------------
RECURRENT_PATTERNS = [
    r"\bchaque (mois|trimestre|annee|fois|semaine)", r"\btous les (mois|trimestres|ans)", r"\ba chaque fois",
    r"\bd'?habitude\b", r"\btoujours (ma|mon|mes|la|le) ", r"\bc'?est (ma|mon|mes) \w+ qui",
    r"\b(ma|mon) (voisine?|fils|fille|petite? fille|petit fils|assistante? sociale?|frere|soeur) (fai[ts]|le fait|"
    r"m'aide|m aide|fait tout)", r"\bmes (enfants|petits enfants|voisins) (font|m'aident|m aident)",
    r"\bregulierement\b", r"\bde temps en temps\b", r"\brecurr", r"\bgalere (toujours|a chaque)",
]
DO_FOR_ME_PATTERNS = [
    r"\b(faites?|fais|faire) (le |la |les |ca |ça )?(pour moi|a ma place)", r"\ba ma place\b",
    r"\b(avec moi|m'aider maintenant|maintenant)\b", r"\bqu'?on (le |la |me le )?fasse",
]
LEARN_PATTERNS = [
    r"\bapprendre\b", r"\bapprenne\b", r"\bformation", r"\batelier", r"\bcours (d'|de |d )?(informatique|"
    r"ordi|internet|numerique|smartphone)", r"\bm'?initier", r"\binitiation", r"\bme former\b", r"\bpix\b",
    r"\bsavoir (utiliser|me servir|faire (seul|toute?|moi))", r"\b(autonome|autonomie)\b",
    r"\bdecouvrir (internet|l'informatique|le numerique|l'ordinateur|l'ordi|le smartphone)",
    r"\ba (son|mon|leur|votre) rythme\b",
    r"\b(faire|me debrouiller|y arriver) (tout )?seule?s?\b", r"\bcomprendre comment",
]
REGULAR_HELP_PATTERNS = [
    r"\bregulierement\b", r"\bquelqu'?un qui (m'aide|m aide|puisse m'aider|vienne)", r"\bsuivi\b",
    r"\baccompagn", r"\bde temps en temps\b", r"\bplusieurs fois\b",
]
BEGINNER_PATTERNS = [
    r"\bjamais touche", r"\bconnais rien\b", r"\bnul(le)? en (informatique|ordi|internet)", r"\bdebutant",
    r"\bsais? (pas|meme pas) (allumer|utiliser) (un|l'|mon)", r"\bj'?y connais rien\b",
    r"\bm'?y connais (pas|rien)\b",
]
LEARNING_TOPICS: list[tuple[str, tuple[str, ...]]] = [
    ("visio", (r"\bvisios?\b", r"\bvideo", r"\bwhatsapp", r"\bskype", r"\bfacetime", r"\bzoom\b", r"\bappel video")),
    ("smartphone", (r"\bsmartphone", r"\btelephone", r"\bportable\b", r"\btablette", r"\bapplis?\b",
                    r"\bapplications?\b")),
    ("email", (r"\bmails?\b", r"\bemails?\b", r"\bcourriel", r"\bboite mail")),
    ("bureautique", (r"\bword\b", r"\bexcel\b", r"\btraitement de texte", r"\bbureautique", r"\btableur")),
    ("emploi", (r"\bcv\b", r"\bcurriculum", r"\blettre de motivation", r"\brecherche d'emploi",
                r"\bchercher (du|un) (travail|emploi|boulot)")),
    ("securite", (r"\barnaque", r"\bvirus", r"\bsecurite", r"\bpiratage", r"\bphishing", r"\bhameconnage")),
    ("banque", (r"\bbanque en ligne", r"\bcompte en ligne", r"\bpayer en ligne", r"\bachat en ligne")),
    ("bases", (r"\bsouris\b", r"\bclavier\b", r"\bordinateur\b", r"\bordi\b", r"\binternet\b", r"\bnumerique\b",
               r"\binformatique\b")),
]

# Answers to the closed questions: code -> phrases (normalised), matched with rapidfuzz.
CHOICE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "enjeu": {
        "delai": ("oui une date proche", "date proche", "oui date", "il y a une date", "oui"),
        "probleme": ("oui un courrier ou un paiement bloque", "courrier", "lettre", "paiement bloque", "droit coupe"),
        "aucun": ("non pas de date", "non", "pas de date", "aucune date", "rien de presse", "pas presse"),
        "inconnu": ("je ne sais pas", "jsp", "je sais pas", "sais pas", "chais pas", "aucune idee", "ne sait pas"),
    },
    "equipement": {
        "telephone": ("telephone avec internet", "un telephone avec internet", "smartphone", "telephone", "portable"),
        "ordinateur": ("ordinateur ou tablette", "ordinateur", "ordi", "pc", "tablette"),
        "aucun": ("rien qui marche", "rien", "aucun", "pas d'internet", "telephone sans internet", "non"),
    },
    "souhait": {
        "faire_pour": ("qu'on le fasse avec moi maintenant", "avec moi maintenant", "faire avec moi", "maintenant",
                       "pour moi", "a ma place"),
        "apprendre": ("apprendre a le faire seul", "apprendre", "seul", "seule", "autonome"),
        "regulier": ("quelqu'un qui m'aide regulierement", "regulierement", "suivi", "souvent"),
    },
}


@dataclass(frozen=True)
class Lexicon:
    """A compiled view of the tables above (built once, lazily)."""

    patterns: dict

    @classmethod
    def build(cls) -> "Lexicon":
        compile_all = lambda items: [re.compile(p) for p in items]  # noqa: E731
        return cls(patterns={
            "problem": compile_all(PROBLEM_PATTERNS),
            "deadline": compile_all(DEADLINE_PATTERNS),
            "first_claim": compile_all(FIRST_CLAIM_PATTERNS),
            "no_device": compile_all(NO_DEVICE_PATTERNS),
            "phone_only": compile_all(PHONE_ONLY_PATTERNS),
            "computer": compile_all(COMPUTER_PATTERNS),
            "recurrent": compile_all(RECURRENT_PATTERNS),
            "do_for_me": compile_all(DO_FOR_ME_PATTERNS),
            "learn": compile_all(LEARN_PATTERNS),
            "regular": compile_all(REGULAR_HELP_PATTERNS),
            "beginner": compile_all(BEGINNER_PATTERNS),
            "blocks": [(code, compile_all(p)) for code, p in BLOCK_PATTERNS],
            "barriers": [(code, compile_all(p)) for code, p in BARRIER_PATTERNS],
            "needs": [(code, compile_all(p)) for code, p in SPECIFIC_NEEDS],
            "topics": [(code, compile_all(p)) for code, p in LEARNING_TOPICS],
        })


_LEXICON: Optional[Lexicon] = None


def lexicon() -> Lexicon:
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = Lexicon.build()
    return _LEXICON


def _any(patterns: Iterable[re.Pattern], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _first(table, text: str) -> Optional[str]:
    for code, patterns in table:
        if _any(patterns, text):
            return code
    return None


def _all(table, text: str) -> list[str]:
    return [code for code, patterns in table if _any(patterns, text)]


def _phrase_in(phrase: str, words: list[str], text: str) -> bool:
    """Whole-word phrase match, tolerating one typo per long word (rapidfuzz)."""
    if re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text):
        return True
    target = phrase.split()
    if len(phrase) < 5:
        return False
    n = len(target)
    cutoff = 90 if len(phrase) < 8 else 85
    for i in range(len(words) - n + 1):
        window = " ".join(words[i:i + n])
        if abs(len(window) - len(phrase)) <= 2 and window[0] == phrase[0] and fuzz.ratio(window, phrase) >= cutoff:
            return True
    return False


def find_organisation(text: str) -> Optional[tuple[str, str]]:
    """Return (organisation code, Aidants Connect area) for the first body named in the text."""
    norm = normalize(text)
    words = norm.split()
    best: Optional[tuple[int, str, str]] = None
    for code, area, phrases in ORGANISATIONS:
        for phrase in phrases:
            if _phrase_in(phrase, words, norm):
                pos = norm.find(phrase.split()[0][:3])
                rank = pos if pos >= 0 else len(norm)
                if best is None or rank < best[0]:
                    best = (rank, code, area)
                break
    return (best[1], best[2]) if best else None


def find_procedure(text: str) -> Optional[str]:
    norm = normalize(text)
    words = norm.split()
    for code, phrases in PROCEDURES:
        if any(_phrase_in(p, words, norm) for p in phrases):
            return code
    return None


def find_stakes(text: str) -> list[str]:
    """Every stake signalled in the text, most pressing first."""
    norm = normalize(text)
    lex = lexicon().patterns
    found = []
    for code, key in (("delai", "deadline"), ("probleme", "problem"), ("premiere_demande", "first_claim")):
        if _any(lex[key], norm):
            found.append(code)
    return found


def find_equipment(text: str) -> Optional[str]:
    norm = normalize(text)
    lex = lexicon().patterns
    if _any(lex["no_device"], norm):
        return "aucun"
    if _any(lex["computer"], norm):
        return "ordinateur"
    if _any(lex["phone_only"], norm):
        return "telephone"
    return None


def match_choice(question: str, answer: str, score_cutoff: float = 80) -> Optional[str]:
    """Map a free-text answer to one of a question's choice codes (typo tolerant)."""
    from rapidfuzz import process

    norm = normalize(answer)
    if not norm:
        return None
    options = CHOICE_SYNONYMS.get(question, {})
    if norm in options:
        return norm
    candidates = [(code, phrase) for code, phrases in options.items() for phrase in phrases]
    # Exact phrase first: short answers like "non" must not fuzzy-match another option.
    for code, phrase in candidates:
        if norm == phrase:
            return code
    best = process.extractOne(norm, [p for _, p in candidates], scorer=fuzz.WRatio, score_cutoff=score_cutoff)
    if best is None:
        return None
    return candidates[best[2]][0]


def extract_facts(text: str) -> dict:
    """All facts found in one message. Keys are absent when nothing was found."""
    norm = normalize(text)
    lex = lexicon().patterns
    facts: dict = {}
    org = find_organisation(text)
    if org:
        facts["organisme"], facts["domaine"] = org
    procedure = find_procedure(text)
    if procedure:
        facts["demarche"] = procedure
    stakes = find_stakes(text)
    if stakes:
        facts["enjeu"] = stakes[0]
        facts["enjeux"] = stakes
    equipment = find_equipment(text)
    if equipment:
        facts["equipement"] = equipment
    block = _first(lex["blocks"], norm)
    if block:
        facts["blocage"] = block
    barrier = _first(lex["barriers"], norm)
    if barrier:
        facts["barriere"] = barrier
    needs = _all(lex["needs"], norm)
    if needs:
        facts["besoins"] = needs
    if _any(lex["recurrent"], norm):
        facts["recurrent"] = True
    if _any(lex["beginner"], norm):
        facts["debutant"] = True
    if _any(lex["learn"], norm):
        facts["apprentissage"] = True
        topic = _first(lex["topics"], norm)
        if topic:
            facts["sujet"] = topic
    if _any(lex["regular"], norm):
        facts["souhait"] = "regulier"
    elif facts.get("apprentissage"):
        facts["souhait"] = "apprendre"
    elif _any(lex["do_for_me"], norm):
        facts["souhait"] = "faire_pour"
    return facts


# Intents (from the statistical NLU) that carry a fact by themselves.
INTENT_FACTS = {
    "apprendre": {"apprentissage": True},
    # A statistical guess: it never outweighs an unknown deadline (see the aide_reguliere rule).
    "accompagnement": {"accompagnement_demande": True},
    "besoin_social": {"hors_champ": "social"},
    "refus_numerique": {"hors_champ": "refus"},
    "hors_sujet": {"hors_champ": "hors_sujet"},
}


def facts_from_message(text: str, intent: Optional[str] = None) -> dict:
    """Facts of one message: the lexicon's, plus what its intent implies. Button payloads carry none."""
    facts = extract_facts(text) if text and not text.startswith("/") else {}
    for key, value in INTENT_FACTS.get(intent or "", {}).items():
        facts.setdefault(key, value)
    return facts
