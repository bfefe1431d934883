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
- indirect wishes to die -> 3114, each with its ordinary look-alike left alone: "ne plus me réveiller"
  (not "me réveiller à 5h"), "disparaître" (not "disparaître des fichiers"), "plus la force de continuer"
  (not "... ces démarches"), "je vais sauter" only at the end or before a place (not "sauter une étape"),
  "tout arrêter" only near words about life, "se tuer au travail / à la tâche" is an idiom. A relative
  reporting it ("il veut se suicider", "elle parle de mourir") -> 3114 too.
- means set aside: "j'ai préparé des / tous mes cachets" -> 3114, but "préparé mes médicaments pour la
  semaine" -> nothing; swallowed: "avalé des / 30 cachets", "pris des médicaments pour mourir" -> 15;
  "a pris des médocs" or "avalé ses médicaments" -> nothing (a daily dose as far as we can tell).
- "il fait une crise" about someone else -> 15; "crise de colère / nerfs / angoisse / foie" and the
  writer's own "je fais une crise" -> nothing.
- a child left alone, beaten, unfed, locked up, touched, with bruises, run away or vanished -> 119; a
  neighbour's child crying is not enough without blows, calls for help or "every night". "Disparu du
  dossier" stays administrative.
- an adult's bruises, fear of going home or of the partner, being locked in -> 3919; a stranger hitting
  ("un homme m'a frappée") -> 17.
- an armed person nearby, being followed, someone still inside the home -> 17; "quelqu'un est entré chez
  moi" told in the past (for a complaint or documents) -> nothing.
- "mis à la porte" -> 115, except "de pôle emploi" / "par mon patron" (struck off, fired).
- "au secours" as the whole message -> 112; "au secours, je comprends rien à ce site" -> nothing.
- "sans domicile stable" (the administrative term of domiciliation) -> nothing; "sans domicile (fixe)" -> 115.
- a parent hitting a child told by someone else ("un élève : son père le frappe") -> 119.
- a danger told as over or as a figure of speech is left to the safety screen's context table and classifier
  (``bot.triage.safety``): "agressée en 2023, la CAF me réclame le récépissé" gets no number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.core.text import normalize
from bot.triage.emergencies_foreign import foreign_kinds

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
_CHILD = r"(?:enfants?|fils|filles?|bebes?|petite?s?|gamin\w*|gosses?|mome?s?|ado|ados|adolescente?s?|mineure?s?|neveux?|nieces?|nourrissons?)"
_DET = r"(?:son|sa|ses|mon|ma|mes|les|le|la|l|un|une|des|leur|leurs|notre|nos|cet|cette|ce)"
_HIT = (
    r"(?:(?<!faute de )frap+\w*|bat|battu\w*|bats|battre|(?:tape|tapent|taper)(?! sur (?:les|le|mon) (?:nerfs|systeme))|"
    r"cogne\w*|violente\w*|maltrait\w*|gifl\w*|tabass\w*|"
    r"brutalis\w*|viol|viole\w*|violer|secoue\w*|etrangl\w*)"
)
_PARTNER = (
    r"(?:mari|conjoint\w*|compagnon|compagne|copain|copine|concubin\w*|partenaire|petit ami|petite amie|"
    r"ex|ex mari|ex conjoint|ex compagnon|mec|homme|epoux|epouse|femme)"
)
_PARENT = r"(?:pere|mere|beau pere|belle mere|parents?|daron\w*|papa|maman)"
_WITH = r"(?:avec|avc|ac)"
_NOW = r"(?:ce soir|cette nuit|sta nuit|aujourd hui|maintenant|demain soir|depuis \w+ (?:jours?|nuits?|semaines?))"
_NOT_A_LOSS = r"(?! d(?:e|u)? (?!mort\b))"  # "en danger de perdre son apl" is not physical danger
# "mourir de rire / d'ennui / de faim" are figures of speech.
_DIE = r"mourir(?! (?:de|d) (?:rire|rigoler|honte|ennui|fatigue|faim|chaud|froid|envie|impatience|curiosite|peur)\b)"
_OFTEN = r"(?:encore |deja |souvent |toujours |de nouveau |parfois |tout le temps |tous les jours |une fois de plus )?"
_WISH = r"(?:veux|veut|voudrais|voudrai|aimerais|aimerai|souhaite|prefere|prefererais|envie de|envie d)"
# Someone whose health a relative reports.
_PERSON = (
    rf"(?:il|elle|{_CHILD}|{_PARENT}|mari|femme|conjoint\w*|compagnon|compagne|copain|copine|frere|soeur|"
    r"grand mere|grand pere|mamie|papi|voisin\w*|monsieur|dame)"
)
_MEDS = r"(?:medicaments|medocs|cachets|comprimes|pilules|somniferes|anxiolytiques|antidepresseurs)"
_WEAPON = r"(?:couteaux?|armes?|fusils?|pistolets?|flingues?|revolvers?|battes?|haches?|machettes?|sabres?|cutters?|barres? de fer)"
# Someone present, as a neighbour or a frightened resident names them.
_SOMEONE = (
    r"(?:quelqu un|un homme|des hommes|un type|des types|un mec|des mecs|un gars|des gars|un individu|des individus|"
    r"un inconnu|des inconnus|une personne|des personnes|des jeunes|un voisin|le voisin|mon voisin|il|ils)"
)
# Places where a threat is at hand, not a story told for a procedure.
_AT_HOME = (
    r"(?:devant (?:ma|la|notre) porte|devant chez (?:moi|nous)|en bas de chez (?:moi|nous)|sous (?:mes|nos) fenetres|"
    r"dans (?:la|ma|notre) cage d escalier|dans (?:l|les) escaliers?|dans le hall|dans l immeuble|dans le couloir|"
    r"chez (?:moi|nous)|dans (?:ma|la|notre) maison|dans (?:mon|l|notre) appart\w*)"
)
_NIGHTLY = r"(?:toutes les nuits|tous les soirs|chaque nuit|chaque soir|tous les jours|sans arret|de douleur|au secours|a l aide)"

# The table reviewed by social workers: (kind, phrase patterns). The number comes from NUMBERS.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "child_danger",
        (
            rf"{_HIT} (?:sur )?(?:{_DET} )?{_CHILD}",  # "mon voisin bat son enfant"
            rf"{_CHILD}(?: de \d+ ans| (?:du|des|de la|de l|d en|d a) \w+)? (?:est |sont |a ete |ont ete |se fait |se font )?(?:battre|frapper|taper|agress\w*|battu\w*|frap+e\w*|tape\w*|cogne\w*|gifle\w*|tabasse\w*|maltraite\w*|violente\w*|viole\w*|abuse\w*)",
            rf"{_CHILD} (?:est |sont |qui est |qui sont )?en danger{_NOT_A_LOSS}",
            r"maltraitance|inceste|attouchements?|pedophil\w*|pedocriminel\w*",
            rf"{_PARENT} (?:me|m) (?:a )?(?:{_HIT}|enferme\w*)",
            rf"(?:son|sa|ses|leur) {_PARENT} (?:le|la|les|l) (?:a )?{_OFTEN}(?:{_HIT}|enferme\w*)",  # "un élève : son père le frappe"
            rf"(?:enleve|kidnappe|pris) (?:mon|ma|mes|notre|nos) {_CHILD}",
            rf"{_CHILD} (?:a ete|ont ete|s est fait|est|sont) (?:enleve|kidnappe)\w*|(?:enlevement|rapt) (?:d un|d une|de mon|de ma|de mes|de son|de sa) {_CHILD}",
            # left alone: a baby alone is enough; an older child alone for nights or days
            r"(?:bebes?|nourrissons?) (?:est |sont |reste |restent |laisse\w* )?(?:tout |toute )?seule?s?\b(?! (?:responsable|titulaire)\b)",
            rf"{_CHILD}(?: \w+){{0,3}}? (?:est|sont|reste\w*|laisse\w*|abandonne\w*)(?: laisse\w*| tout| toute| toutes| tous)* seule?s? "
            r"(?:depuis|toute la|toutes les|la nuit|des jours|des heures|plusieurs|chaque|tous les|pendant|\d+|deux|trois|quatre|"
            r"dans l|dans la|dans le|dans une|dans un|a la maison|chez|enferme\w*|sans)",
            rf"laisse\w* (?:{_DET} )?{_CHILD}(?: \w+){{0,2}}? (?:tout |toute )?seule?s? (?:depuis|toute la|toutes les|la nuit|des jours|plusieurs|chaque|tous les|pendant des|\d+ jours)",
            r"abandonne\w* (?:un|son|sa|leur|le|ses|leurs|les) (?:bebe|nourrisson)s?|(?:bebe|nourrisson)s? abandonne\w*",
            # screaming with blows, or heard by a neighbour night after night
            rf"{_CHILD}(?: \w+){{0,6}}? (?:hurl\w*|crie\w*|cris|pleur\w*)(?: \w+){{0,6}}? (?:des coups|coups|frap+\w*|battu\w*|tape\w*|au secours|a l aide|de douleur)",
            rf"(?:entend\w*|voisin\w*|d a cote|d en face|du dessus|du dessous)(?: \w+){{0,3}}? {_CHILD}(?: \w+){{0,3}}? (?:hurl\w*|crie\w*|cris)(?: \w+){{0,3}}? {_NIGHTLY}",
            rf"{_CHILD} (?:des voisins?|du voisin|de la voisine|d a cote|d en face|du dessus|du dessous) (?:hurl\w*|crie\w*)(?: \w+){{0,3}}? {_NIGHTLY}",
            # not fed, locked up
            rf"{_CHILD} (?:n est|ne sont|est|sont) (?:pas|plus|jamais|pas assez|mal) nourri\w*",
            rf"{_CHILD} (?:ne )?(?:mange|mangent) (?:pas|plus|rien)(?: \w+){{0,3}}? (?:depuis|des jours|plusieurs jours)",
            rf"(?:nourri\w*|donne\w*) (?:pas|plus|jamais|rien)(?: a manger)? (?:a )?(?:{_DET} )?{_CHILD}",
            rf"{_CHILD}(?: (?:du|des|de la|de l|d en|d a) \w+)? (?:est|sont|a ete|ont ete|reste|restent|qui est) (?:tout |toujours )?enferme\w*(?! dehors)",
            rf"enferme\w* (?:{_DET} )?{_CHILD}(?! dehors)",
            # sexual abuse in plain words
            rf"(?:touche\w*|tripot\w*|caresse\w*) (?:a )?(?:ma|mon|mes|sa|son|ses|notre|nos|leur|leurs) {_CHILD}",
            rf"abuse\w* (?:de|d) (?:ma|mon|mes|sa|son|ses|notre|nos|leur|leurs) {_CHILD}",
            # marks of blows on a child
            rf"{_CHILD} (?:a|ont|avait|revient avec|rentre avec) (?:des |plein de )?(?:bleus|marques de coups|traces de coups)",
            # a minor who ran away or vanished (not "disparu du dossier")
            rf"{_CHILD}(?: \w+){{0,3}}? (?:a fugue\w*|ont fugue\w*|fugue|a fait une fugue|ont fait une fugue|est en fugue|sont en fugue)",
            rf"{_CHILD}(?: de \d+ ans)? (?:a|ont|est|sont) disparu\w*(?! (?:des|du|de la|de l|de mon|de ma|de son|de sa|sur|dans|de) "
            r"(?:ecran|dossier|liste|fichier|compte|site|declaration|attestation|radar|espace|appli|application|logiciel|caf|papier|formulaire|releve|portail|base|photo)\w*\b)",
        ),
    ),
    (
        "violence_women",
        (
            rf"(?:mon|ma|mon ex|le|l) {_PARTNER} (?:me|m|m a|ma) (?:a )?{_OFTEN}{_HIT}",  # "mon mari me frappe"
            rf"(?:mon|ma|le) {_PARTNER} (?:me|m|ma) (?:a )?(?:menace\w*|tue|fait du mal|fait mal|etrangl\w*|harcel\w*|enferm\w*|sequestr\w*)",
            rf"il (?:me|m|ma) (?:a )?{_OFTEN}(?:{_HIT}|enferm\w*)",
            r"il (?:va|veut|menace de) (?:encore )?me (?:frapper|taper|battre|tabasser|cogner)",  # death threats stay 17
            r"il est (?:tres |trop |super |devenu |de plus en plus )?violent\b",
            # strangling in plain words
            r"serre\w* (?:le|mon) cou|mains? autour (?:du|de mon) cou|(?:m|me) (?:a )?(?:prise? |attrape\w* |tenue? )?(?:a|par) la gorge",
            r"violences? (?:conjugales?|domestiques?|familiales?|faites aux femmes|sexuelles?)",
            rf"violences? (?:de|par|du) (?:mon|ma|mon ex) {_PARTNER}",
            rf"(?:mon|ma|mon ex|le) {_PARTNER} est (?:tres |trop |super )?violente?",
            r"femmes? battues?|je suis battue|victime de violences?|subis des violences|(?:on|il|ils) m a violee?",
            r"je me suis fait(?:e)? violer|viol conjugal",
            # blows named as nouns: "il m'a mis des claques" (not "un coup de main")
            rf"(?:il|mon {_PARTNER}|mon ex) (?:me|m|m a|ma) (?:met|mets|mis|donne|donnes|file|fout|fou) (?:des |une |un |plein de )?"
            r"(?:coups?(?! d(?:e|u)? (?:main|fil|pouce|oeil|telephone|stress|coeur|chance|balai|neuf|frein|pied au cul)\b)|claques?|gifles?|baffes?|beignes?|tartes?)",
            r"(?:me|m|m a|ma) (?:a )?pousse\w* (?:dans|contre|par|en bas de) (?:l escalier|les escaliers|le mur|terre|la fenetre)",
            r"bleus (?:partout|sur tout le corps|sur (?:le|les|mon|ma|mes) (?:visage|bras|corps|cou|jambes?|figure))|couverte? de bleus|(?:marques|traces) de coups",
            # fear of the home or of the partner
            r"peur de (?:rentrer|retourner) (?:chez moi|chez nous|a la maison|a l appart\w*|a mon domicile)",
            rf"peur de (?:mon|ma|mon ex) {_PARTNER}\b",
        ),
    ),
    (
        "medical",
        (
            r"urgence (?:vitale|medicale)",
            r"(?:un|en|fait|fais|faire) (?:un )?malaise",
            r"respir\w* (?:presque |quasi |quasiment |vraiment |tres |de plus en plus )?(?:plus|pas|mal|difficilement)|respire a peine|"
            r"(?:peut|peux|arrive|arrivons) (?:plus|pas) (?:a )?respir\w*",
            r"(?:s|il|elle|bebe) etouf+e\w*",
            r"(?:crise|arret) cardiaque|infarctus|(?:un|d un|fait|fais|faire|eu) avc|crise d epilepsie|crise d asthme|convuls\w*",
            # "il fait une crise" (seizure); not anger, nerves or anxiety, and not the writer
            rf"(?:qui|{_PERSON}) "
            r"(?:fait|a fait|est en train de faire|est en|refait|a refait) (?:une )?crise(?! (?:de|d|du) (?:colere|nerfs|angoisse|panique|rire|larmes|jalousie|foie|ado\w*|hysterie|la|l|folie|boulimie)\b)",
            r"over ?dose|surdose|intoxication|empoisonnement|(?:s est|a ete|suis|est) empoisonne\w*",
            r"(?:il|elle|qui|bebe|personne) (?:est |reste )?inconscient\w*|(?:perdu|perd) connaissance|evanoui\w*",
            r"(?<!\bc )(?<!\bce qui )(?:est|reste|sont) (?:toujours |completement |encore )?inconscient\w*(?! de)",
            r"ne se reveille (?:plus|pas)|(?:il|elle|bebe) ne bouge plus",
            rf"{_PERSON} (?:est |s est )?(?:tombe\w*|par terre|au sol)(?: \w+){{0,4}}? (?:ne )?(?:se releve|bouge|reagit|repond) (?:plus|pas)",
            r"(?:peut|peux|arrive) (?:plus|pas) (?:a )?se relever",
            r"(?:ne )?(?:se releve|reagit) (?:plus|pas)",
            r"saigne\w* (?:beaucoup|abondamment|enormement|partout|de la tete|du crane|de partout|sans arret|sans s arreter|bcp)|hemorragie|pisse le sang|perd beaucoup de sang",
            r"(?:douleur|mal) (?:a|dans) la poitrine|douleurs? thoraciques?",
            r"(?:avale|pris) (?:\w+ ){0,3}?(?:boites?|plaquettes?|trop|tous|toutes|plein|tube) (?:\w+ ){0,2}?"
            r"(?:medicaments|medocs|cachets|comprimes|pilules|somniferes)",
            # swallowed pills or a poison ("avalé ses médicaments" is the daily dose, not an alarm)
            rf"(?:avale|ingere) (?:des|de|d|les|plusieurs|beaucoup de|plein de|pleins de|\d+) (?:\w+ )?{_MEDS}",
            r"(?:avale|bu|ingere) (?:de la |du |de l |d |un |une )?(?:javel|produit menager|produit d entretien|detergent|deboucheur|destop|poison|mort aux rats|white spirit|essence|antigel|pile|piles)\b",
            r"tentative de suicide|tente de (?:me|se) suicider|s est (?:pendu|ouvert les veines)",
            rf"(?:pris|avale) (?:\w+ ){{0,3}}?{_MEDS} pour (?:mourir|en finir|me tuer|ne plus me reveiller|dormir)",
            # a floppy or blue baby, bleeding in pregnancy
            rf"(?:bebe|nourrisson|{_CHILD}|il|elle) (?:est |devient |a les levres )?(?:tout |toute )?(?:mou|molle|bleu|bleue|violet|violette)\b(?! (?:de|d)\b)",
            r"enceinte(?: \w+){0,4}? (?:saigne\w*|perd du sang|perds du sang)|saigne\w*(?: \w+){0,4}? enceinte",
            r"(?:besoin d une|faut une|envoyez une|appelez une|vite une) ambulance|ambulance vite|(?:appelez|envoyez|besoin du|vite le|faut appeler le) samu",
        ),
    ),
    (
        "suicide",
        (
            rf"(?:veux|voudrais|veut|vais|souhaite|prefere|prefererais|aimerais) (?:juste |plutot |bien )?{_DIE}",
            r"envie de (?:mourir|crever|disparaitre|me tuer|me suicider)",
            r"(?:veux|vais|voudrais|envie de|pense a) me (?:suicid\w*|tuer(?! a la tache| au travail| au boulot| a la peine))",
            r"me suicid\w*|suicidaire|idees? (?:noires|suicidaires)|pense\w* au suicide",
            r"en finir(?! avec (?!la vie|ma vie|moi|tout\b))",
            # reported by a relative or a mediator: "il veut se tuer", "elle parle de mourir"
            r"mettre fin a (?:ses|leurs|tes) jours|(?:veut|veulent|va|vont|menace de|parle de|parle de se|pense a) se (?:suicider|tuer(?! a la tache| au travail| au boulot| a la peine)|pendre|jeter|foutre en l air)|parle de (?:mourir|se suicider|en finir|suicide)",
            r"mettre fin a (?:mes jours|ma vie)|me foutre en l air|me jeter (?:sous|par|du haut|d un)|me pendre|m ouvrir les veines",
            r"(?:envie de|envie d|veut|veux|va|vais|parle de|pense a) (?:se|me|te) (?:foutre en l air|flinguer|supprimer)",
            r"(?:veux|veut|ai|a) (?:plus|pu) (?:envie de )?vivre|marre de (?:la vie|vivre)|(?:plus|pu) (?:envie|la force) de vivre",
            # never wake up / sleep forever
            rf"(?:{_WISH}|et|espere) (?:ne )?(?:plus|pu|jamais|pas) (?:jamais )?me reveiller(?! (?:a|pour|avant|si|aussi|tot|en|le|la|les|chaque|tous|demain a)\b)",
            rf"{_WISH} (?:juste )?(?:m endormir|dormir)(?: et)? (?:pour toujours|a jamais|pour l eternite|definitivement|pour de bon)",
            # disappear: from life, not from a file ("disparaître des fichiers de la caf")
            rf"(?:{_WISH}|vais) (?:juste )?disparaitre(?! (?:des|du|d|de)\b)",
            r"disparaitre (?:de|d) (?:cette vie|ce monde|la surface|la terre|cette terre|la vie de tout le monde)",
            r"(?:veux|voudrais|envie d|envie de) (?:plus|pas) exister|(?:plus|pu) envie d exister|marre d exister",
            rf"(?:{_WISH}|vais) (?:juste )?crever(?! (?:de|d) (?:faim|chaud|froid|rire|ennui|envie)\b)",
            # no strength left (not for "these procedures")
            r"plus (?:la force|le courage|l energie|envie|la volonte) de (?:continuer|me battre|lutter|tenir)"
            r"(?! (?:ces|ce|cette|les|mes|mon|ma|le|la|l|a (?:remplir|faire|chercher|envoyer|relancer|appeler|attendre|courir))\b)",
            r"(?:la|ma) vie n a (?:plus|pas|aucun) (?:de )?sens|la vie ne vaut (?:plus|pas) (?:la peine|le coup)|sert a rien de vivre|supporte (?:plus|pas) (?:la vie|ma vie|de vivre)",
            # "tout arrêter" only next to words about life
            r"tout arreter(?: \w+){0,6}? (?:la vie|ma vie|vivre|plus de sens|en peux plus|a quoi bon|plus la force|mourir|disparaitre)\b",
            r"(?:vie|vivre|en peux plus|a quoi bon|plus la force)(?: \w+){0,6}? (?:veux|vais|envie de|voudrais) tout arreter",
            # jump, in a plan ("sauter une étape", "sauter le pas" stay ordinary)
            r"(?:vais|veux|voudrais|envie de|pense a|prete a) (?:me )?(?:sauter|jeter)"
            r"(?= $| (?:du (?!lit)|par|d un|d une|de la|de mon|dans le vide|dans la seine|dans le fleuve|sous|depuis|en bas|du haut)\b)",
            # nobody would care, a goodbye letter, means set aside
            r"personne (?:ne )?me (?:regrett\w*|pleur\w*)|personne (?:ne )?(?:remarquerait|verrait|remarquera) (?:mon absence|si je (?:disparaissais|mourais|partais))",
            r"(?:tout le monde|ils|mes enfants|ma famille|mes proches) (?:serait|seraient|sera|seront|vivrait|vivraient) mieux sans moi|(?:serais|serait) mieux mort\w*",
            r"lettres? d adieux?|mots? d adieux?",
            rf"(?:prepare|stocke|accumule|amasse|mis de cote) (?:tous mes |toutes mes |des |plein de |assez de |une boite de |les boites de |des boites de |une reserve de |beaucoup de ){_MEDS}",
            r"(?:prepare|achete|trouve) (?:une|la) corde",
        ),
    ),
    (
        "police",
        (
            r"(?:quelqu un|quelqu|on|ils|il|des gens|des hommes|un homme|des personnes) (?:essaie|essaye|tente|veut|veulent|essaient|essayent|tentent) d (?:entrer|rentrer|forcer|defoncer)",
            r"(?:force|forcent|defonce\w*|casse\w*) (?:ma|la|notre) porte",
            r"cambriolage en cours|(?:en train de|veut|veulent|essaie\w*|essaye\w*) (?:me |nous )?cambrioler|un intrus|des intrus",
            rf"menace\w* (?:{_WITH}|d) (?:un|une) (?:couteau|arme|pistolet|fusil|flingue|revolver|batte|hache)",
            r"(?<!\by )(?:a|ont) (?:un|une) (?:couteau|arme|pistolet|fusil|flingue)",
            # "on veut me tuer", but not "on veut me tuer avec ces papiers"
            r"menaces? de mort|menace\w* de (?:me|nous) tuer|(?:veut|veulent|va|vont) (?:me|nous) tuer"
            r"(?! avec (?:ces|leurs|leur|vos|tous|toutes|ses|des|les) (?:papiers|demarches|dossiers|formulaires|questions|procedures|mails|courriers|impots)\b)",
            r"(?:me|m) (?:agress\w*|a agress\w*)|agression|(?:fait|faite) agress\w*",
            r"sequestr\w*",
            r"(?:je|j|moi) suis en danger" + _NOT_A_LOSS + r"|(?:nous sommes|on est) en danger" + _NOT_A_LOSS,
            # an armed person nearby (a knife in a recipe is not a threat)
            rf"{_SOMEONE} (?:arme\w* |qui est |est )?(?:avec|qui a|qui ont|arme\w* d|arme\w* avec) (?:un|une|des|son|sa) {_WEAPON}",
            r"(?:homme|type|mec|gars|individu|inconnu|personne|voisin|jeune)s? arme\w*",
            rf"{_AT_HOME}(?: \w+){{0,2}}? (?:avec|arme\w* d) (?:un|une|des|son|sa) {_WEAPON}",
            # followed or watched right now (not "mon conseiller me suit depuis 2 ans")
            rf"(?:{_SOMEONE}|on|mon ex|une voiture) (?:me|nous) (?:suit|suivent|poursuit|poursuivent|traque\w*|guette\w*|piste\w*)"
            r"(?! (?:a|au|aux|sur|pour|dans mes demarches|dans mon dossier|depuis \d+ ans|depuis (?:des|plusieurs|deux|trois) (?:ans|annees|mois))\b)",
            r"(?:suis|sommes) suivie?s? par (?:un (?:homme|type|mec|inconnu|individu|gars)|des (?:hommes|types|mecs|inconnus|individus|gars)|quelqu un|une voiture)",
            rf"harcel\w*(?: \w+){{0,6}}? (?:{_AT_HOME}|me suit|nous suit)",
            # someone inside the home while the writer hides
            r"(?:quelqu un|inconnus?|hommes?|intrus|cambrioleurs?|ils?)(?: \w+){0,5}? (?:je suis|je me suis|je me|on est|on s est|on se|nous sommes|nous nous sommes) cache\w*",
            r"cambrioleurs? (?:est|sont) (?:encore |toujours |en ce moment |la |ici )?(?:dans|chez|la|ici|en bas)",
            r"(?:entre\w*|rentre\w*|intrus|cambrioleurs?)(?: \w+){0,4}? (?:il|ils|elle) (?:est|sont) (?:encore|toujours) (?:la|ici|dedans|chez moi|dans)",
            r"peur pour ma vie",
            r"(?:va|vont|veut|veulent) (?:me|nous) (?:frapper|tabasser|egorger|planter|poignarder)",
            r"(?:un homme|un type|un mec|un inconnu|des hommes|des types|des mecs|des inconnus|quelqu un|on|un individu|des jeunes|un voisin|mon voisin|le voisin) "
            rf"(?:me|m|m a|ma|m ont|nous a|nous ont) (?:a )?{_HIT}",
            r"crie\w* (?:au secours|a l aide|a la mort)|hurle\w* (?:au secours|a l aide)",
            r"(?:appelez|envoyez|venez vite|vite)(?: \w+){0,2}? (?:la police|les flics|les gendarmes|la gendarmerie)|(?:police|gendarmes?|flics) vite",
        ),
    ),
    (
        "shelter",
        (
            r"(?:suis|sommes|est|sont|etre|retrouve\w*|mis\w*|jete\w*|me voila|bientot) a la rue(?! (?:de|du|des|d|saint|st)\b)",
            r"(?:je|on|nous) (?:suis|est|sommes) (?:sans abri|sans logement|sans toit|sdf)",
            r"sans abris?|sdf|sans domicile(?! stable)|sans toit",  # "sans domicile stable" is an administrative term
            rf"dehors {_NOW}|{_NOW} dehors",
            r"(?:dormir|dors|dort|dormons|dorment|dormi|coucher|couche|passer la nuit) (?:dehors|dans la rue|a la rue)",
            r"(?:dormir|dors|dort|dormons|dorment|dormi|couche|passer la nuit|vis|vit|vivons) dans (?:ma|la|une|notre|sa|mon|un) (?:voiture|auto|bagnole|caisse|gare|tente|parc|cage d escalier|hall)",
            rf"(?:pas|plus) (?:de|d) (?:logement|toit|endroit|hebergement|abri)s? (?:pour )?(?:{_NOW}|dormir|ou dormir)",
            r"(?:ou|nulle part ou|pas ou|rien pour) dormir",
            r"nul(?:le)? part ou (?:aller|dormir|loger)|(?:pas|plus|aucun) d? ?endroit ou (?:aller|dormir|loger)",
            r"(?:ai|a|avons|ont) (?:pas|plus) (?:de|d) toit",
            rf"{_NOW} (?:\w+ ){{0,3}}?(?:pas|plus) (?:de|d) (?:toit|logement|hebergement|abri)",
            r"dehors avec (?:un|une|mon|ma|mes|des|les|nos|notre|deux|trois|\d+) (?:\w+ )?(?:bebes?|enfants?|petits?|gosses?|nourrissons?|filles?|fils)",
            r"(?:le )?115 (?:repond|decroche) (?:pas|plus|jamais)|(?:pas de|aucune) place au 115|115 (?:est )?(?:plein|sature)",
            r"vire\w* (?:du|de mon|de ma|de l|de la|de notre) (?:foyer|logement|appart\w*|hotel|chambre|squat|centre d hebergement|maison|studio|domicile)",
            r"hebergement d urgence|(?:appeler|appelle|appele|contacter|joindre) (?:le )?115",
            r"(?:m a|m ont|nous a|nous ont|ai ete|avons ete|a ete|ont ete|suis|sommes|me suis fait|nous sommes fait) expulse\w* (?:de|du|d) (?:mon |ma |notre |l |la |le )?(?:logement|appartement|appart|maison|domicile|studio|chambre|hlm|foyer|hotel|chez moi|chez nous)",
            r"(?:m a|m ont|nous a|nous ont|suis|sommes|ai ete|avons ete) (?:mis\w* dehors|jete\w* dehors|vire\w* de chez)",
            # put out of the home ("mis à la porte de pôle emploi / par mon patron" is administrative or a job)
            r"(?:mis\w*|mettre|fout\w*|fou|jete\w*|fichu\w*) a la porte"
            r"(?: de chez (?:moi|nous|lui|elle|eux|mes|mon|ma)\w*| de la maison| de (?:mon|ma|notre|l) (?:appart\w*|logement|maison|domicile|foyer|chambre|studio|hotel))?"
            r"(?! (?:de|du|d|des|par mon (?:patron|employeur|chef)|par la boite)\b)",
        ),
    ),
    (
        "general",
        (
            r"accident grave|grave accident|gravement blesse\w*|blesses? graves?",
            r"incendie (?:chez|dans|en cours|a la maison)|il y a (?:un incendie|le feu)|au feu|le feu (?:chez|dans|a la maison)",
            r"(?:ca|la maison|l appart\w*|l immeuble|la cuisine) brule",
            r"fuite de gaz|odeur de gaz|explosion de gaz|(?:il y a eu|y a eu|entendu) une explosion",
            # a bare cry for help as the whole message ("au secours, le site plante" stays ordinary)
            r"(?<=^ )(?:au secours|a l aide)(?: (?:vite|svp|s il vous plait|aidez moi|aidez nous|au secours))*(?= $)",
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
    "jvoudrai": "je voudrais", "jvoudrais": "je voudrais", "voudrai": "voudrais", "jaimerai": "j aimerais",
    "jsp": "je sais pas", "jsais": "je sais", "chais": "je sais", "jen": "j en", "jpp": "j en peux plus",
    "pr": "pour", "bcp": "beaucoup", "tjrs": "toujours", "tjs": "toujours", "mnt": "maintenant", "mtn": "maintenant",
    "dmain": "demain", "2main": "demain", "nulpart": "nulle part",
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
    {"violente", "violent", "violents", "violentes", "menage", "menaces", "respira", "compagnie", "compagnies",
     # everyday words one edit from a key word ("adresse" is not "agresse")
     "adresse", "adresses", "adressee", "adresser", "adressez", "reconnaissance", "conscient", "violettes", "falaise",
     "relogement", "hebergeant", "agresseur", "agresseurs", "cambriole", "cambriolee", "cambrioles"}
)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    # One alternation per kind: the same matches as one search per pattern, three times faster.
    return tuple((kind, re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b"))
                 for kind, patterns in RULES)


@lru_cache(maxsize=4096)
def _correct(token: str) -> str:
    if len(token) < 7 or token in _PROTECTED or token in _KEYWORDS or not token.isalpha():
        return token
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    limit = 1 if len(token) < 9 else 2
    best = process.extractOne(token, _KEYWORDS, scorer=Levenshtein.distance, score_cutoff=limit)
    return best[0] if best is not None else token


@lru_cache(maxsize=1024)  # the screen's layers read the same message's expansion several times
def expand(text: str) -> str:
    """Normalised text with SMS spellings expanded and mistyped key words corrected, space padded.

    The safety screen's other layers read the same expanded text."""
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
        expanded = expand(text)  # no truncation: a cry for help at the end of a long message still counts
        foreign = foreign_kinds(text, expanded)  # the same kinds, said in another language
        found: list[VitalEmergency] = []
        for kind, pattern in _compiled():
            if pattern.search(expanded) or kind in foreign:
                found.append(VitalEmergency(kind, NUMBERS[kind]))
        return found
    except Exception:
        return []


def detect_emergency(text: Any) -> VitalEmergency | None:
    """The vital emergency to answer first (number to give at once), or None."""
    found = detect_all(text)
    return found[0] if found else None
