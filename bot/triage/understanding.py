"""Deterministic fact extraction from what people write.

The statistical NLU only says what kind of message it is (intent). The facts that the triage
rules use (which body, is there a deadline, what equipment...) come from the readable lexicon
below, so a social worker can check why a fact was found. Matching works on normalised text
(no accents, lower case) and tolerates one typo in longer words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Optional, Union

from rapidfuzz import fuzz, process

from bot.core.text import normalize
from bot.triage.deadlines import deadline_date

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
    ("retraite", "travail", ("retraite", "carsat", "info retraite", "pension de retraite", "msa", "reversion",
                             "pension de reversion", "agirc", "arrco")),
    ("mdph", "social", ("mdph", "rqth", "carte mobilite inclusion", "aeeh", "carte d'invalidite", "apa",
                        "allocation personnalisee d'autonomie", "carte de stationnement")),
    ("banque", "argent", ("banque", "bancaire", "carte bleue", "carte bancaire", "livret a", "credit agricole",
                          "banque postale", "compte bancaire", "tresor public")),
    ("mutuelle", "social", ("mutuelle", "complementaire", "prevoyance")),
    ("assurance", "argent", ("assurance", "assureur", "assurance habitation", "assurance auto", "assurance voiture")),
    ("crous", "famille", ("crous", "bourse etudiante", "logement etudiant", "messervices etudiant")),
    ("consulat", "etranger", ("consulat", "ambassade", "laissez passer", "laissez-passer")),
    ("formation", "travail", ("cpf", "mon compte formation", "compte formation")),
    ("fournisseur", "argent", ("edf", "engie", "fournisseur d'electricite", "fournisseur d'energie", "operateur",
                               "orange", "sfr", "bouygues", "free mobile")),
    ("justice_tribunal", "justice", ("tribunal", "audience", "convocation au tribunal", "juge")),
    ("logement", "logement", ("logement social", "demande de logement", "hlm", "dossier logement")),
    ("energie", "argent", ("cheque energie",)),
    ("ecole", "famille", ("pronote", "ecole directe", "bourse scolaire", "inscription scolaire", "cantine", "l'ecole",
                          "affelnet", "voeux d'affectation", "rentree scolaire", "inscrire mon fils", "inscrire ma fille",
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
    r"\bresili", r"\bclotur", r"\bimpaye", r"\b(avis de |une |la )?saisie (sur|de|des) (salaire|compte|biens|meubles)",
    r"\becrit saisie", r"\b(plus|pas) (d')?acces a (mon|son|leur|mes|ses) (argent|compte|salaire)",
    r"\b(banque|bancaire|carte bleue|carte bancaire|cb)\b.*\b(bloqu|clotur|ferm|suspend|saisi)",
    r"\b(bloqu|clotur|ferm|suspend)\w* (le|mon|son|sa|leur|la) (compte bancaire|carte bancaire|carte bleue|carte)\b",
    r"\b(courriers?|lettres?) (de la \w+ )?reviennent",
    # a job or a home at stake because the procedure is stuck
    r"\b(risque|peur|vais|va|vont) (de )?perdre (mon|son|sa|leur|ma) (travail|emploi|boulot|poste|logement|contrat|place)",
    r"\bperiode d'essai\b", r"\b(peux|peut|pourrai|pourra) (pas|plus) (aller|me rendre|se rendre) (au travail|a l'usine|au boulot)",
    r"\berreur (dans|sur) (mon|le|ma) (dossier|compte|declaration)",
    # a claim refused, not a person refusing the computer
    r"\b(demande|dossier|droits?|aide|titre|visa|allocation|pret|inscription|rsa|apl|aah)s?( \w+){0,3} (a ete |ont ete |est |sont |m'a ete |)refuse",
    r"\brefus (de|d'|du) (ma|mon|sa|son|la|le|leur|l')", r"\b(m'|lui |leur |nous )(a|ont) (ete )?refuse", r"\brefuse (ma|mon|sa|son|la|le|leur) (demande|dossier|aide|droit)", r"\bbloque[es]? (mon|le|ma|mes) "
    r"(paiement|versement|droit|allocation|rsa|apl)", r"\b(paiement|versement|droits?|allocation|rsa|apl|aide) "
    r"(bloque|arrete|stoppe|suspendu)", r"\bexpire(?! dans| le| l| la| bientot| fin| avant| en| au| jusqu)", r"\bperime(?! dans| le| l| bientot| avant)", r"\b(recu|eu) (un|une) (courrier|lettre|mail|sms)"
    r"\b.*\b(coup|suspen|radi|rembours|stop|arret|supprim)", r"\bva (etre )?(coupe|suspendu|radie)",
]
DEADLINE_PATTERNS = [
    r"\bavant (le|la|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|ce soir|\d)", r"\bdate limite",
    r"\bdernier (delai|jour)", r"\bau plus tard", r"\bdans (\d+|deux|trois|quatre|cinq|quelques) jours?\b",
    r"\b(rdv|rendez vous) (le|lundi|mardi|mercredi|jeudi|vendredi|demain)", r"\bconvocation", r"\bconvoque",
    r"\b(ce|avant|pour|jusqu'a|d'ici|d ici) (lundi|mardi|mercredi|jeudi|vendredi|samedi)\b", r"\bfin du mois\b",
    r"\bdelai\b", r"\b(expire|perime|fin de validite)\w* (dans|le|bientot|fin)",
    r"\bavant (l'|l )(ete|hiver|automne|echeance|expiration|audience|rentree)", r"\b(arrive|arrivent) a (echeance|expiration|terme)",
    r"\b(ferme|fermeture|clos|cloture|termine|finit|se termine) (le |ce |cette )?(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|soir|semaine|\d)",
    r"\b(ce|cette) mois( ci)?\b.*\b(doit|dois|faut|partir|envoyer|deposer)|\b(doit|dois|faut) (partir|etre envoye|etre depose)\w* (ce|cette|avant)",
    r"\bd'?ici (lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|la fin|\d)",
    r"\bsous (\d+|deux|trois|quatre|cinq|huit|dix|quinze|quelques) (jours?|semaines?)\b",
    # a right that ends, or something that starts, on a near date: "mon AAH s'arrête fin juin", "commence lundi"
    r"\b(s'?arrete|se termine|finit|prend fin|s'?acheve)\w* (fin |debut |mi |le |en |au |a la fin (du|de) )?"
    r"(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|\d|mois|semaine)",
    r"\b(commence|debute|demarre)\w* (lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|le \d|ce |cette |dans )",
]
# A time word alone is not a deadline ("il fait beau aujourd'hui"): it counts when the message is about
# a procedure, a letter or a payment, or when it answers the deadline question and says nothing else.
TIME_WORD_PATTERNS = [
    r"\b(aujourd'?hui|ajd|auj|ajourdhui|demain|dmain|2main|ce soir|tout de suite|cette semaine)\b",
    r"\burgen(t|te|ce|ces|ts|tes)\b", r"\bvite\b", r"\bsinon\b", r"\bpresse\b", r"\bau plus vite\b",
]
TIED_TO_PROCEDURE_PATTERNS = [
    r"\b(courrier|lettre|mail|sms|message|paiement|payer|paye|versement|verse|facture|dossier|rdv|rendez vous|"
    r"papiers?|documents?|declar\w*|demande|formulaire|inscri\w*|attestation|justificatif|renouvel\w*|envoyer|"
    r"deposer|depot|rendre|remplir|valider|signer|coupe|suspendu|droits?|aide|allocation|compte|site|espace|"
    r"titre|carte|permis|rsa|apl|impots?|caf|actualis\w*|procedure|demarche|plainte|contrat|bail|loyer)\b",
]
# Words that may stand around a time word in a bare answer to the deadline question ("oui c'est pour demain").
ANSWER_FILLERS = frozenset(
    "oui non ouais si c c' est c'est cest pour avant d'ici jusqu'a a au le la les l' faut faire fait doit dois "
    "il elle on je j' ca sa ce tres trop vraiment plutot bien date limite dernier delai jour matin soir midi "
    "max maximum grand plus tard tot deja bientot et ou mais enfin bon euh svp merci avant-hier".split()
)
# With a deadline or a problem, these words show a procedure even when its body is unknown
# ("l'assurance veut une attestation avant lundi sinon contrat annulé").
GENERIC_PROCEDURE_PATTERNS = [
    r"\b(dossier|demande|attestation|justificatif|papiers?|documents?|formulaire|espace client|compte en ligne|"
    r"inscription|devis|contrat|declar\w*|valider|envoyer|deposer|telecharger|renouvel\w*|rendez vous|rdv|site)\b",
]
# Negations and hedges: the person says there is no hurry. Never a deadline then.
NO_STAKE_PATTERNS = [
    r"\b(pas|plus|pa|po) (du tout |vraiment |trop |tres |si |tellement )?(urgent|urgente|urgents|presse|pressee|pressant|pressante)\b",
    r"\brien (de |d')?(urgent|presse|pressant)\b", r"\brien ne (presse|urge)\b", r"\b(sans|aucune|pas d'?|pas de) urgence\b",
    r"\b(ca|sa|cela) (ne )?(presse|urge) pas\b", r"\bpas (pour|a) (tout de suite|maintenant|aujourd'?hui|demain|cette semaine)\b",
    r"\b(j'?ai|j ai|on a|il a|elle a|ils ont|nous avons|vous avez|g) (tout |bien |largement |encore )?(le|du) temps\b",
    r"\b(aucune?|pas de|pas d'|y a pas de|ya pas de|il n'y a pas de|pas vraiment de|sans|pas encore de|toujours pas de) "
    r"(date|delai|echeance|date limite|limite)s?\b",
    r"\bquand vous (pouvez|pourrez|aurez le temps)\b", r"\bpas de rush\b", r"\bun de ces (jours|quatre)\b",
    r"\bpas le feu\b", r"\bpas de (stress|souci) pour la date\b", r"\b(ca|cela|elle|il) peut attendre\b",
    r"\bvalable jusqu", r"\b(l'|l )?(an|annee) prochaine?\b", r"\bdans (\d+|deux|trois|quatre|cinq|quelques) (ans|annees)\b",
    r"\b(pas|rien) avant (l'|l |le mois|la fin|\d)", r"\bprevu (dans|pour) (\d+|deux|trois|quelques) (mois|ans)\b",
]
FIRST_CLAIM_PATTERNS = [
    r"\bpremiere (demande|fois)", r"\bjamais (fait|demande|eu) (de |d'|l'|la |ma )?(demande|droit|dossier)",
    r"\b(m'?|s'?|me |je m'?)inscri(re|s|t)\b", r"\bouvrir (mes|un|les) droits?", r"\bperdu mon (emploi|travail|boulot)",
    r"\b(faire|deposer|envoyer|commencer) (une|ma|sa|la|leur|son) (premiere )?demande (de|d'|du|d) ?(rsa|apl|prime|aah|chomage|logement|titre|reversion|apa|pension)",
    r"\b(nouvelle|nouvel) (residente?|arrivante?|locataire|allocataire)\b", r"\bvient d'?arriver\b", r"\barrivee? ce mois",
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
COMPUTER_PATTERNS = [r"\b(j'?ai|avec|g|a|as|ont|avons) (un|mon|son|sa|une|leur) (ordi|ordinateur|pc|tablette)\b",
                     r"\b(j'?ai|a|ont) internet\b"]
# The device the person named as theirs (`appareil`), so that what to bring fits it ("votre tablette"); the
# equipment code above only says what kind of access they have. Read only when no "no device" phrase matched.
DEVICE_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("tablette", (r"\b(ma|sa|une|leur|la|cette|ta|notre) (tablette|ipad)\b", r"\bipad\b")),
    ("ordinateur", (r"\b(mon|son|un|leur|le|cet|ton|notre) (ordi|ordinateur|pc|portable pc|laptop)\b",)),
    ("telephone", (r"\b(mon|son|un|leur|le|ce|ton|notre) (smartphone|telephone|portable|tel|iphone)\b",
                   r"\b(smartphone|iphone)\b")),
]

# --- Blocks and barriers --------------------------------------------------------------------------
BLOCK_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("codes", (r"\boubli\w* (mon|mes|le|les) (mot de passe|mdp|code|identifiant)", r"\b(mot de passe|mdp|code|"
               r"identifiant)s?( \w+){0,2} (oublie|perdu|bloque)\w*", r"\bcompte( [\w.]+){0,2} (est )?(bloque|verrouille)", r"\barrive (pas|plus|jamais) a (me )?(connecter|souvenir|retrouver)", r"\bconnecter\b.*\b(pas|plus)\b",
               r"\bcompte (bloque|verrouille)", r"\bfranceconnect\b", r"\bfrance connect\b")),
    ("email", (rf"\b{_NEG}{_ART}(adresse )?(mail|email|e mail|courriel|boite mail)",
               r"\b(mail|boite mail|email) (marche plus|bloque|pirate)")),
    ("peur", (r"\bpeur (de|d')", r"\bj'?ose pas\b", r"\bstress", r"\bangoisse")),
    ("espace_personnel", (r"\btrouve pas (mon|l') espace", r"\bespace (perso|personnel)",)),
]
BARRIER_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("langue", (r"\b(parle|parlent|lis|lit|comprends|comprend|comprennent|ecris|ecrit) (pas|mal|peu)( bien)?( le)? francais",
                r"\bpas (bien )?(le )?francais\b", r"\btradu(ction|cteur|ire)", r"\binterprete",
                r"\bje parle (que |seulement |uniquement )?(arabe|anglais|turc|russe|ukrainien|espagnol|portugais|"
                r"roumain|tamoul|dari|pachto|soninke|wolof|lingala|chinois|albanais|georgien)")),
    ("lecture", (r"\b(sais?|sait|savent) (pas|plus) (bien )?(lire|ecrire)", r"\b(lis|lire) (mal|difficilement)", r"\billettr",
                 r"\banalphabet", r"\bdu mal a lire")),
    ("accident", (r"\bdeces\b", r"\bdecede", r"\bhospitalis", r"\bseparation\b", r"\bdivorc", r"\bincendie",
                  r"\bperdu (mon|son|sa) (emploi|travail|boulot|mari|femme|epoux|epouse|conjoint)", r"\blicencie",
                  r"\b(mari|femme|epoux|epouse|conjoint|pere|mere) (est )?(mort|morte|decede)", r"\bveu(f|ve)\b")),
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
    ("Illettrisme", (r"\b(sais?|sait|savent) (pas|plus) (bien )?(lire|ecrire)", r"\billettr", r"\banalphabet", r"\bdu mal a lire")),
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
    r"\b(avec|aupres d') ?(quelqu'? ?un|qqn|une personne|vous|un conseiller|une conseillere|un mediateur|une mediatrice)\b",
    r"\bfaire ensemble\b", r"\b(qu'?on|que quelqu'?un) (m'|lui |leur )?(aide|explique|accompagne)",
    r"\b(faites?|fais|faire) (le |la |les |ca |ça )?(pour moi|a ma place)", r"\ba ma place\b",
    r"\b(avec moi|m'aider maintenant|maintenant)\b", r"\bqu'?on (le |la |me le )?fasse",
]
LEARN_PATTERNS = [
    r"\bapprendre\b", r"\bapprenne\b", r"\bformation", r"\batelier", r"\bcours (d'|de |d )?(informatique|"
    r"ordi|internet|numerique|smartphone)", r"\bm'?initier", r"\binitiation", r"\bme former\b", r"\bpix\b",
    r"\bsavoir (utiliser|(me|se|s'|te|nous|vous) servir|faire (seul|toute?|moi))", r"\b(autonome|autonomie)\b",
    r"\bsavoir (faire )?\w+( \w+){0,3} (tout )?seule?s?\b",
    r"\bdecouvrir (internet|l'informatique|le numerique|l'ordinateur|l'ordi|le smartphone)",
    r"\ba (son|mon|leur|votre) rythme\b",
    r"\b(faire|me debrouiller|y arriver) (tout )?seule?s?\b", r"\bcomprendre comment",
]
REGULAR_HELP_PATTERNS = [
    r"\bregulierement\b", r"\bquelqu'?un qui (m'aide|m aide|puisse m'aider|vienne)", r"\bsuivi\b",
    # "j'accompagne une dame" is a professional writing, not a wish to be accompanied
    r"(?<!j')(?<!j )(?<!nous )\baccompagn", r"\bde temps en temps\b", r"\bplusieurs fois\b",
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

# --- Out of scope without a procedure: each has its own reason --------------------------------------
NOISE_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("essai", (r"^(test|tests|tst|testing|teste|essai|essais|ceci est un (test|essai)|c'?est un (test|essai)|"
               r"message (de )?test|test \d+|\d{1,4}|1 2 3|abc|azerty|qwerty|blabla|bla bla|test test|"
               r"(coucou|bonjour|salut|allo) (c'?est )?(un )?test|on teste|je teste|je fais un (test|essai))$",)),
    ("publicite", (r"\bhttps?\b", r"\bwww\b", r"\b(gagne[zr]?|gagnant)\b.*\b(euros?|iphone|cadeau|voyage|bon d'achat|prix)\b",
                   r"\bcliquez?\b", r"\b(promo|promotion|soldes|code promo|bon plan|livraison gratuite|offre (exceptionnelle|speciale|limitee))\b",
                   r"\b(casino|bitcoin|crypto\w*|forex|trading|paris sportifs|viagra|cialis)\b",
                   r"\b(rencontres?|celibataires?) (coquine|pres de chez|dans votre|sans)", r"\b(credit|pret) (rapide|facile|sans justificatif)\b",
                   r"\b(abonnez|abonne toi|suivez (moi|nous)|parrainage|tirage au sort|jeu concours)\b",
                   r"\b(achetez|vendons|vends|a vendre|prix imbattable|-\d+ ?%|\d+ ?% de reduction)\b",
                   r"\b(gagnez|gagner) (de l'argent|\d+)", r"\bvous avez (ete selectionne|gagne)\b", r"\btravail a domicile (bien )?paye\b")),
    # "au guichet" alone is where a desk agent stands: a wish or a request must come with it
    ("refus", (r"\b(veux|veut|voudrais|voudrait|prefere|preferons|souhaite|aimerais|aimerait|demande|envoyez|envoyer)"
               r"( \w+){0,6} (en main propre|au guichet|a un guichet|un guichet|formulaire papier|version papier|"
               r"sur papier|par (la )?poste|par courrier|avis papier)\b",
               r"\b(veux|veut|voulons|veulent|aime|aimer|souhaite) (pas|plus|jamais) (faire |passer |aller )?(\w+ )?(par|sur|avec) (internet|le site|l'ordinateur|l'ordi|le numerique)",
               r"\b(refuse|refusent)\w* (de passer par |d'utiliser |l'|le |categoriquement (de passer par )?)?(internet|ordinateur|ordi|numerique|en ligne)",
               r"\b(pas|jamais) (aimer|confiance (en|dans)) (internet|l'ordinateur|le numerique)",
               r"\barreter le (tout )?numerique\b")),
    ("insulte", (r"\b(connard|connards|connasse|conne|con|cons|debile|idiot|idiote|abruti|abrutie|cretin|cretine|"
                 r"encule|enculee|enfoire|enfoiree|fdp|pute|salope|salaud|batard|batarde|bouffon|boloss|tocard|"
                 r"nique|niquer|ntm|tg|merdique|naze|nulle?s? a chier)\b",
                 r"\bta gueule\b", r"\bfils de (pute|chien|ta mere)\b", r"\b(t'? ?es|tu es|vous etes|robot|bot|machine) (\w+ )?(nul|nulle|con|bete|inutile|stupide|de merde)\b",
                 r"\btu sers a rien\b", r"\b(va|allez) (te|vous) faire\b", r"\bde merde\b", r"^merde$", r"\bdegage\b",
                 r"\bferme la\b")),
]

# --- Who writes: for someone else, the facts are about that person ------------------------------------
WRITER_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    ("professionnel", (r"\bje suis (l'|la |le |un |une )?(assistante?|travailleu[rs]e?|educat\w*|conseill\w*|mediat\w*|"
                       r"agent|agente|benevole|infirmi\w*|aidante?|aide a domicile|animat\w*|secretaire|ecrivain public|"
                       r"referente?|coordinat\w*|cesf|as |auxiliaire|tutrice|tuteur|curat\w*|intervenante?|stagiaire)",
                       # "Mme Diallo doit...": a title, then the rest of the message (a lone "M" says nothing)
                       r"^(usager|usagere|monsieur|madame|mme|mr|m|mlle|beneficiaire|personne|famille|jeune|dame)\b\W+\w",
                       r"\b(une|un|la|le|cette|ce|notre|mon|ma) (dame|monsieur|personne|usagere?|beneficiaire|famille|jeune|"
                       r"patiente?|residente?|eleve|adherente?|locataire|retraitee?) (que|qu') ?(j'?|nous |on )"
                       r"(accompagne|aide|recois|reçois|suis|suit|accueille|rencontre|vois)",
                       r"\bj'?accompagne (une|un|mme|m|madame|monsieur)\b", r"\b(mon|ma|notre|nos|mes) (usager|usagere|beneficiaire|"
                       r"patiente?|residente?|adherente?|locataire)s?\b", r"\b(a|à) l'accueil\b", r"\bse presente\b",
                       r"\b(association|asso|ccas|foyer|centre social|mission locale|epicerie solidaire|france services) "
                       r"(ou|où) je (travaille|suis)")),
    ("proche", (r"\b(c'?est|j'?ecris|je demande|je viens|je vous ecris|je contacte) (\w+ )?pour (ma|mon|mes|une|un) ",
                r"\b(ma|mon|mes) (mere|maman|pere|papa|fils|fille|soeur|frere|voisine?|voisins|grand mere|grand pere|"
                r"mamie|papi|papy|tante|oncle|cousine?|belle mere|beau pere|belle soeur|beau frere|copine|amie?|"
                r"enfants?|parents|grands parents|petite? fille|petit fils|neveu|niece|colocataire|coloc) "
                r"(a|ont|est|sont|doit|doivent|veut|voudrait|n'?arrive|arrive|ne sait|sait|cherche|ne peut|peut|n'?a|"
                r"recoit|a recu|vient|habite|parle|comprend|ne comprend|touche|perd|n'?ont|attend|aurait|avait)\b",
                r"\b(pour|de) (ma|mon) (mere|maman|pere|papa|grand mere|grand pere|mamie|papi|voisine?|soeur|frere|tante|oncle)\b",
                r"\b(elle|il) (ne )?(sait|parle|lit|comprend|a|n'a|doit|veut|recoit|touche)\b")),
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
            "time_word": compile_all(TIME_WORD_PATTERNS),
            "tied": compile_all(TIED_TO_PROCEDURE_PATTERNS),
            "no_stake": compile_all(NO_STAKE_PATTERNS),
            "generic_procedure": compile_all(GENERIC_PROCEDURE_PATTERNS),
            "noise": [(code, compile_all(p)) for code, p in NOISE_PATTERNS],
            "writer": [(code, compile_all(p)) for code, p in WRITER_PATTERNS],
            "first_claim": compile_all(FIRST_CLAIM_PATTERNS),
            "no_device": compile_all(NO_DEVICE_PATTERNS),
            "phone_only": compile_all(PHONE_ONLY_PATTERNS),
            "computer": compile_all(COMPUTER_PATTERNS),
            "devices": [(code, compile_all(p)) for code, p in DEVICE_PATTERNS],
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


def says_no_hurry(text: str) -> bool:
    """"pas urgent", "rien de pressé", "j'ai le temps", "aucune date": the person says there is no hurry."""
    return _any(lexicon().patterns["no_stake"], normalize(text))


def _time_word_is_deadline(norm: str, answering_deadline: bool) -> bool:
    lex = lexicon().patterns
    if not _any(lex["time_word"], norm):
        return False
    if _any(lex["tied"], norm) or find_organisation(norm) is not None:
        return True
    if answering_deadline:
        # A bare answer ("demain", "oui c'est pour ce soir"), not "il fait beau aujourd'hui".
        words = [w for w in re.sub(r"\b(aujourd'?hui|ajd|auj|demain|dmain|2main|ce soir|tout de suite|cette semaine|"
                                   r"urgen\w*|vite|presse|au plus vite|sinon)\b", " ", norm).split()]
        return all(w in ANSWER_FILLERS for w in words)
    return False


def find_stakes(text: str, answering_deadline: bool = False) -> list[str]:
    """Every stake signalled in the text, most pressing first.

    A hedge ("pas urgent", "j'ai le temps") removes the deadline and the need of a first claim now; a problem
    already there stays."""
    norm = normalize(text)
    lex = lexicon().patterns
    found = []
    no_hurry = _any(lex["no_stake"], norm)
    if not no_hurry and (_any(lex["deadline"], norm) or _time_word_is_deadline(norm, answering_deadline)):
        found.append("delai")
    if _any(lex["problem"], norm):
        found.append("probleme")
    if not no_hurry and _any(lex["first_claim"], norm):
        found.append("premiere_demande")  # "needed now" is contradicted by "pas pressé"
    if no_hurry and not found:
        found.append("aucun")
    return found


def find_noise(text: str) -> Optional[str]:
    """Spam or advertising, an insult, or a test message: out of scope, each with its own reason."""
    return _first(lexicon().patterns["noise"], normalize(text))


def find_writer(text: str) -> Optional[str]:
    """"professionnel" or "proche" when someone writes for another person."""
    return _first(lexicon().patterns["writer"], normalize(text))


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


def match_choice(question: str, answer: str, score_cutoff: float = 85) -> Optional[str]:
    """Map a free-text answer to one of a question's choice codes (typo tolerant).

    The whole answer is compared, never a piece of it: "il fait beau aujourd'hui" must not match "oui"
    inside "aujourd'hui". A longer answer counts when it contains a choice's phrase of two words or more
    ("non y a pas de date"), or when it is three words at most and contains a one-word phrase ("ben non")."""
    norm = normalize(answer)
    if not norm:
        return None
    options = CHOICE_SYNONYMS.get(question, {})
    if norm in options:
        return norm
    candidates = [(code, phrase) for code, phrases in options.items() for phrase in phrases]
    for code, phrase in candidates:
        if norm == phrase:
            return code
    best = process.extractOne(norm, [p for _, p in candidates], scorer=fuzz.ratio, score_cutoff=score_cutoff)
    if best is not None:
        return candidates[best[2]][0]
    words = norm.split()
    for code, phrase in sorted(candidates, key=lambda c: -len(c[1])):
        if (" " in phrase or len(words) <= 3) and re.search(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])", norm):
            return code
    return None


def extract_facts(text: str, answering: Optional[str] = None, said_at: Union[datetime, date, None] = None) -> dict:
    """All facts found in one message. Keys are absent when nothing was found.

    `answering` is the question the message answers, if any: a bare time word then counts as a deadline.
    `said_at`: when the message was written (now by default); a deadline's date ("avant vendredi") is resolved
    from that day in Europe/Paris and kept as `echeance`, an ISO date (bot/triage/deadlines.py)."""
    norm = normalize(text)
    lex = lexicon().patterns
    facts: dict = {}
    org = find_organisation(text)
    if org:
        facts["organisme"], facts["domaine"] = org
    procedure = find_procedure(text)
    if procedure:
        facts["demarche"] = procedure
    stakes = find_stakes(text, answering_deadline=answering == "enjeu")
    if stakes:
        facts["enjeu"] = stakes[0]
        facts["enjeux"] = [s for s in stakes if s != "aucun"]
        due = deadline_date(text, said_at) if "delai" in stakes else None
        if due is not None:
            facts["echeance"] = due.isoformat()
        if "organisme" not in facts and {"delai", "probleme"} & set(stakes) and _any(lex["generic_procedure"], norm):
            facts["organisme"] = "autre"  # a procedure whose body we do not know: the mediator reads it
    noise = find_noise(text)
    if noise:
        facts["hors_champ"] = noise
        if noise == "refus":
            facts["refus_explicite"] = True  # said in words, not only guessed by the model
    writer = find_writer(text)
    if writer:
        facts["redacteur"] = writer
    equipment = find_equipment(text)
    if equipment:
        facts["equipement"] = equipment
    device = _first(lex["devices"], norm) if equipment != "aucun" else None
    if device:
        facts["appareil"] = device
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
    "apprendre": {"apprentissage": True, "souhait": "apprendre"},
    # A statistical guess: it never outweighs an unknown deadline (see the aide_reguliere rule).
    "accompagnement": {"accompagnement_demande": True},
    "besoin_social": {"hors_champ": "social"},
    "refus_numerique": {"hors_champ": "refus"},
    "hors_sujet": {"hors_champ": "hors_sujet"},
}


def facts_from_message(text: str, intent: Optional[str] = None, answering: Optional[str] = None,
                       said_at: Union[datetime, date, None] = None) -> dict:
    """Facts of one message: the lexicon's, plus what its intent implies. Button payloads carry none."""
    facts = extract_facts(text, answering, said_at) if text and not text.startswith("/") else {}
    for key, value in INTENT_FACTS.get(intent or "", {}).items():
        facts.setdefault(key, value)
    return facts
