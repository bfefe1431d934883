"""What surrounds an alarming word: a danger that is over, or a figure of speech.

Many people mention an assault, a fire or a suicide attempt because a procedure asks about it: "j'ai
été agressée en 2023, la CAF me réclame le récépissé", "après l'incendie de mars on a été relogés".
Others use danger as a figure: "je vais exploser avec ce captcha", "noyé sous les papiers". This table
lets the screen tell them from a danger happening now. It never silences a message that also says the
danger is present ("il recommence", "ce soir", "en ce moment").

Read over the expanded text of ``bot.triage.emergencies.expand`` (lower case, no accents, apostrophes as spaces).
"""

from __future__ import annotations

import re
from functools import lru_cache

# The danger is told as past: a date, "l'an dernier", "il y a trois ans", "c'était", "ancien SDF".
PAST = (
    # months or years ago; "la semaine dernière" is too recent to be sure the danger is over
    r"(?:l an|lan|l annee|lannee|le mois|l ete|lete|l hiver|le printemps|l automne) (?:dernier|derniere|passee?)|last year",
    r"(?:il y a|y a|ya|depuis) (?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quelques|plusieurs) (?:ans?|annees?|mois)",
    r"en (?:19|20)\d\d", r"(?:en|au mois de|debut|fin|mi) (?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)",
    r"c est fini depuis|c est du passe|a l epoque|autrefois|dans le passe|quand j etais|avant moi|ancien(?:ne)? (?:sdf|sans abri)",
    r"cet (?:ete|hiver|automne)|ce printemps",
    r"(?:pendant|durant) (?:les vacances|l ete|l hiver|(?:\d+|deux|trois|plusieurs) (?:ans|mois|semaines))",
    r"(?:apres|suite a|depuis|a la suite d)(?: \w+){0,2} (?:l |mon |ma |son |sa |notre |leur |cette |cet |ce |une |un )?(?:agression|incendie|accident|avc|infarctus|overdose|cambriolage|tentative|explosion|fuite|noyade|hospitalisation|deces|divorce|separation|violences?|fugue|crise)",
    r"(?:frappait|battait|tapait|menacait|enfermait|insultait|fuguait|dormait|vivait|etait a la rue)",
)
# The danger is over: the person is safe, healed, housed, far from the violent partner.
RESOLVED = (
    r"(?:il|elle|ils|elles|on|je|nous|tout le monde|mon \w+|ma \w+) (?:va|vont|vais|allons) (?:tres |super |plutot |vraiment |beaucoup |bien )?(?:bien|mieux)",
    r"c est passe|(?:ce n est|c est|ce n etait|c etait) rien|(?:il|elle) joue deja|(?:est|suis) (?:guerie?|remise?|sortie? de l hopital)",
    r"(?:tout (?:est|va)|c est|ca va|sa va) (?:calme|repare|rentre dans l ordre|bien maintenant|mieux)",
    r"(?:est|suis|sommes|sont|etre) (?:en securite|a l abri|hors de danger|stable|sortie? d affaire|reloge\w*|loge\w*|gueri\w*|sevre\w*|suivie? (?:par|en|au))",
    r"s en (?:est|sont) (?:sorti\w*|remis\w*|bien remis\w*)|(?:il|elle) s en remet|rien de grave|plus de peur que de mal|personne (?:n a ete |de )?(?:blesse|grave)",
    r"(?:il est|elle est) (?:parti|partie|en prison|rentre\w*|revenu\w*)|(?:a|ai) quitte (?:mon|son|le) (?:conjoint|mari|compagnon)",
    r"maintenant (?:je suis|on est|il est|elle est|c est|ok|ca va|tout)|aujourd hui (?:ca va|je suis|il va|elle va|tout va)",
    r"heureusement",
    # a lasting consequence told for the paperwork: "il a fait un AVC et ne peut plus s'occuper de ses papiers"
    r"(?:ne )?(?:peut|peux|peuvent|pouvait) plus (?:s occuper|gerer|faire|remplir) (?:de |d )?(?:ses|mes|leurs|son|sa|les) (?:papiers|demarches|comptes|affaires|dossiers|courriers)",
)
# The danger is happening now, whatever else the message says: never silenced.
PRESENT = (
    r"(?:en ce moment|ce soir|cette nuit|tout de suite|a l instant|actuellement|recommence\w*|de nouveau|a nouveau|vite|aidez|en cours)",
    r"(?:est|sont) (?:la|en train|dehors|devant|dans)|j ai peur|on a peur|vient de|viennent de|il est \d+ ?h",
    # a plan for later is present danger: "jeudi", "la semaine prochaine", "d'ici là"
    r"demain|la semaine prochaine|le mois prochain|d ici la|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche",
    r"ne (?:decroche|repond) plus|depuis (?:\d+|deux|trois|quelques) (?:jours|heures|nuits)|derniere nuit|la derniere",
)
# Danger as a figure of speech about procedures ("je vais exploser avec ce captcha").
_PAPERWORK = (r"(?:site|caf|papiers?|paperasse|dossiers?|formulaires?|impots|administration|justificatifs?|documents?|"
              r"courriers?|attestation|appli\w*|mot de passe|code|captcha|numero fiscal|scanner|declaration|cerfa|"
              r"relances?|urssaf|france travail|pole emploi|ordinateur|ordi|box|connexion|simulateur|prefecture|"
              r"actualisation|mutuelle|banque|imprimante|wifi|internet|fichier|mail|mails)")
FIGURATIVE = (
    rf"(?:lol|mdr|ptdr|xd|haha\w*)(?=.*\b{_PAPERWORK}\b)|\b{_PAPERWORK}\b.*\b(?:lol|mdr|ptdr|xd|haha\w*)",
    r"si (?:on|je|ils|elle|il) (?:me |m |doit |dois |redemande|re)\w*(?: \w+){0,8} (?:encore|redemande|numero|justificatif|document|papier|dossier|formulaire|mot de passe|code|scanner|captcha)",
    r"(?:noye\w*|me noyer|me noie|submerge\w*|enseveli\w*) (?:sous|dans) (?:les |la |des |mes |ces )?(?:papiers|paperasse|dossiers|courriers|factures|demarches|formulaires|mails)",
    r"(?:exploser|explose|peter un cable|peter les plombs|craquer|devenir fou|devenir folle|perdre la tete)(?: \w+){0,4} (?:avec|a cause de|si|ce|cette|ces|les|la|le) (?:\w+ )?(?:captcha|site|caf|papiers?|dossiers?|formulaires?|impots|administration|justificatifs?|documents?|appli\w*|mot de passe|code)",
    r"(?:cerveau|tete) (?:qui )?(?:en feu|va exploser|explose)|le coeur qui lache a chaque",
    r"a deux doigts (?:de|d) (?:la |une |faire une )?(?:crise|arret|infarctus|craquer|exploser)|clou dans (?:mon|le) cercueil",
    rf"(?:me pendre|me jeter|me tirer une balle|mourir|crever|exploser|etouffe\w*|m etouffer|overdose|crise cardiaque|"
    rf"arracher les cheveux|tout casser)(?: \w+){{0,3}} (?:avec|sous|de|si|avant de|a cause de|par) (?:\w+ ){{0,4}}{_PAPERWORK}\b",
    r"(?:j ai )?failli (?:faire une crise|mourir|m evanouir|tomber)|😂|🙄|🤣|😅",
    r"(?:frole\w*|failli|cru (?:faire|avoir|que j allais faire)|manque de faire) (?:\w+ ){0,2}(?:la |une |un )?(?:crise|arret) cardiaque",
    r"a en (?:crever|mourir|pleurer|hurler)|(?:me|se) tue\w* a (?:\w+er|dire|faire|repeter|expliquer|ecrire)\b",
    rf"(?:mettre le feu|tout bruler|bruler|brule|faire sauter|faire exploser|exploser|casser|balancer|dechirer) (?:a |au )?(?:tous |toutes )?"
    rf"(?:ce|cette|ces|le|la|les|leur|leurs|mon|ma|mes|du|des) (?:\w+ )?{_PAPERWORK}\b",
    r"(?:caf|impots|administration|site|banque|pole emploi|france travail|prefecture|dossier|ce truc|ca) (?:\w+ ){0,2}(?:m a |va me |vont me |me )?(?:flingue\w*|tue\w*|achev\w*|assassin\w*)",
)


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {name: re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")
            for name, patterns in (("past", PAST), ("resolved", RESOLVED), ("present", PRESENT),
                                   ("figurative", FIGURATIVE))}


def told_as_over(expanded: str) -> bool:
    """The danger mentioned is over (past and settled, or said to be resolved), and nothing says it is back."""
    tables = _compiled()
    if tables["present"].search(expanded):
        return False
    return bool(tables["resolved"].search(expanded)) or bool(tables["past"].search(expanded))


def figure_of_speech(expanded: str) -> bool:
    return bool(_compiled()["figurative"].search(expanded))
