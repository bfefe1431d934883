"""The one table of what a mediator reads for the triage's codes: bodies, procedures, stakes, equipment, wishes,
needs, who wrote, who referred, and the sensitive flags.

The codes are those of bot/triage/understanding.py (and the answers of bot/triage/dialogue.py), stored in the
referral's facts. Each set is a LabelledCode: `Body.label_of("caf")` is "Caisse d'allocations familiales (CAF)";
a code without a label (a newer lexicon, an older row) is shown by `label_or_none` as nothing rather than as a code.
bot/handoff/recap.py is the only reader: the console, the notifications and the desk's slip all go through it.
"""

from __future__ import annotations

from typing import Any, Optional

from bot.core.codes import LabelledCode


class Body(LabelledCode):
    """`organisme`: the body the procedure is with."""

    CAF = ("caf", "Caisse d'allocations familiales (CAF)")
    FRANCE_TRAVAIL = ("france_travail", "France Travail (ex-Pôle emploi)")
    TAXES = ("impots", "Impôts (Direction générale des finances publiques)")
    ANTS = ("ants", "Agence nationale des titres sécurisés (ANTS) : permis, carte grise")
    ANTS_IDENTITY = ("ants_identite", "Carte d'identité ou passeport (mairie et ANTS)")
    PREFECTURE = ("prefecture", "Préfecture (titres de séjour, ANEF)")
    HEALTH_INSURANCE = ("ameli", "Assurance maladie (CPAM, ameli)")
    PENSION = ("retraite", "Caisse de retraite (Carsat, MSA, Agirc-Arrco)")
    MDPH = ("mdph", "Maison départementale des personnes handicapées (MDPH)")
    BANK = ("banque", "Banque")
    MUTUAL = ("mutuelle", "Mutuelle ou complémentaire santé")
    INSURANCE = ("assurance", "Assurance")
    CROUS = ("crous", "Crous (vie étudiante)")
    CONSULATE = ("consulat", "Consulat ou ambassade")
    TRAINING = ("formation", "Mon compte formation (CPF)")
    SUPPLIER = ("fournisseur", "Fournisseur d'énergie, de téléphone ou d'internet")
    COURT = ("justice_tribunal", "Tribunal")
    HOUSING = ("logement", "Logement social")
    ENERGY = ("energie", "Chèque énergie")
    SCHOOL = ("ecole", "École, collège, lycée ou études")
    JUSTICE = ("justice", "Justice (casier judiciaire, plainte, aide juridictionnelle)")
    OTHER = ("autre", "Organisme non précisé")


class Procedure(LabelledCode):
    """`demarche`, in words, as it follows "pour": "pour la déclaration trimestrielle de ressources"."""

    QUARTERLY_DECLARATION = ("declaration_trimestrielle", "la déclaration trimestrielle de ressources")
    JOBSEEKER_UPDATE = ("actualisation", "l'actualisation mensuelle")
    INCOME_DECLARATION = ("declaration_revenus", "la déclaration de revenus")
    RESIDENCE_PERMIT = ("titre_sejour", "la demande ou le renouvellement du titre de séjour")
    REGISTRATION_CERTIFICATE = ("carte_grise", "la carte grise (certificat d'immatriculation)")
    DRIVING_LICENCE = ("permis", "le permis de conduire")
    IDENTITY = ("identite", "la carte d'identité ou le passeport")
    RSA = ("rsa", "le RSA (revenu de solidarité active)")
    HOUSING_BENEFIT = ("apl", "l'aide au logement (APL)")
    ACTIVITY_BONUS = ("prime_activite", "la prime d'activité")
    HEALTH_CARD = ("carte_vitale", "la carte Vitale")
    REGISTRATION = ("inscription", "une inscription")
    PENSION = ("retraite", "la retraite")
    SOCIAL_HOUSING = ("logement_social", "la demande de logement social")


class Stake(LabelledCode):
    """`enjeu`: what is at stake, in one sentence, when no sentence of STAKE_SENTENCES fits better."""

    DEADLINE = ("delai", "Une date limite approche : sans démarche faite à temps, un droit ou un paiement peut "
                         "être perdu.")
    PROBLEM = ("probleme", "Un droit ou un paiement est déjà bloqué, coupé ou réclamé.")
    FIRST_CLAIM = ("premiere_demande", "Une première demande est à faire pour ouvrir un droit.")
    NONE = ("aucun", "Pas de date limite ni de paiement en danger.")
    UNKNOWN = ("inconnu", "La personne ne sait pas s'il y a une date limite.")


# What is at stake for a given procedure (demarche, enjeu): the sentence the mediator reads first.
STAKE_SENTENCES = {
    ("declaration_trimestrielle", "delai"): "Le RSA sera suspendu si la déclaration n'est pas faite.",
    ("declaration_trimestrielle", "probleme"): "Le RSA ou la prime d'activité est déjà suspendu ou bloqué.",
    ("actualisation", "delai"): "Sans actualisation à temps, l'allocation chômage s'arrête et l'inscription à "
                                "France Travail est annulée.",
    ("actualisation", "probleme"): "La personne est radiée de France Travail ou son allocation est bloquée.",
    ("declaration_revenus", "delai"): "Une majoration s'applique si la déclaration de revenus n'est pas faite à temps.",
    ("titre_sejour", "delai"): "Le titre de séjour arrive à expiration : sans demande à temps, la personne perd son "
                               "droit au séjour, et avec lui son travail ou ses aides.",
    ("titre_sejour", "probleme"): "Le titre de séjour a expiré ou la demande est bloquée : travail et aides menacés.",
    ("rsa", "probleme"): "Le RSA est suspendu ou bloqué.",
    ("apl", "probleme"): "L'aide au logement est suspendue ou bloquée : le loyer est en jeu.",
    ("prime_activite", "probleme"): "La prime d'activité est suspendue ou bloquée.",
}


class Equipment(LabelledCode):
    """`equipement`."""

    PHONE = ("telephone", "Un téléphone avec internet")
    COMPUTER = ("ordinateur", "Un ordinateur ou une tablette")
    NONE = ("aucun", "Pas d'appareil qui marche ou pas d'internet (peut-être un téléphone sans internet)")


class Device(LabelledCode):
    """`appareil`: the device the person named as theirs ("ma tablette")."""

    TABLET = ("tablette", "Une tablette")
    COMPUTER = ("ordinateur", "Un ordinateur")
    PHONE = ("telephone", "Un téléphone portable")


class Wish(LabelledCode):
    """`souhait`: faire pour (or faire avec), apprendre, be accompanied."""

    DO_FOR = ("faire_pour", "Faire pour ou faire avec : qu'on fasse la démarche avec elle, maintenant")
    LEARN = ("apprendre", "Apprendre à le faire seule")
    REGULAR = ("regulier", "Être aidée régulièrement")


class Difficulty(LabelledCode):
    """`blocage` and `barriere` other than language and reading (those are flags)."""

    CODES = ("codes", "Mot de passe ou identifiant perdu, compte bloqué")
    EMAIL = ("email", "Pas d'adresse e-mail, ou e-mail inaccessible")
    FEAR = ("peur", "Peur ou stress devant la démarche")
    PERSONAL_SPACE = ("espace_personnel", "Ne trouve pas son espace personnel")
    LIFE_EVENT = ("accident", "Un événement de vie récent (décès, séparation, hospitalisation, perte d'emploi…)")


class Topic(LabelledCode):
    """`sujet`: what the person wants to learn."""

    VIDEO = ("visio", "Les appels vidéo")
    SMARTPHONE = ("smartphone", "Se servir d'un smartphone ou d'une tablette")
    EMAIL = ("email", "Le courrier électronique")
    OFFICE = ("bureautique", "Traitement de texte et tableur")
    JOBS = ("emploi", "CV et recherche d'emploi")
    SAFETY = ("securite", "Se protéger des arnaques et des virus")
    BANKING = ("banque", "Banque et achats en ligne")
    BASICS = ("bases", "Les bases : ordinateur, internet")


class Referrer(LabelledCode):
    """Who referred: the channel the conversation came through (a named desk replaces the desk's label)."""

    DESK = ("desk", "Un accueil (page Aiguillage au guichet)")
    SMS = ("sms", "La personne elle-même, par SMS")
    TELEGRAM = ("telegram", "La personne elle-même, par Telegram")
    HELPLINE = ("helpline", "La ligne d'aide téléphonique")
    VOICE = ("voice", "La personne elle-même, par un appel téléphonique (menu vocal)")


class DeskContact(LabelledCode):
    """`contact`: the way back to a person referred at a desk (never the number itself: the console shows it)."""

    SMS = ("sms", "téléphone laissé à l'accueil (SMS possible)")
    CALL = ("appel", "téléphone fixe laissé à l'accueil (appels seulement, pas de SMS)")


class Flag(LabelledCode):
    """Sensitive context, flagged without details."""

    VITAL_EMERGENCY = ("urgence_vitale", "Un numéro d'urgence vitale a été donné dans la même conversation.")
    SAFETY_CHECKED = ("verification_securite_posee", "Un danger possible a été signalé : la vérification de "
                                                     "sécurité a été faite avec la personne.")
    SAFETY_DANGER = ("verification_securite_danger", "La personne a dit être en danger : un numéro d'urgence lui "
                                                     "a été donné.")
    LANGUAGE = ("langue", "La personne ne lit ou ne parle pas bien le français : parler simplement, prévoir un "
                          "interprète si besoin.")
    READING = ("lecture", "La personne a du mal à lire ou à écrire.")
    WRITTEN_BY_RELATIVE = ("redacteur_proche", "Quelqu'un a écrit pour la personne : un proche.")
    WRITTEN_BY_PROFESSIONAL = ("redacteur_professionnel", "Quelqu'un a écrit pour la personne : un professionnel "
                                                          "ou un bénévole.")


# The headings of the recap's lines, in the order they are shown.
LINE_LABELS = {
    "organisme": "Organisme",
    "demarche": "Démarche",
    "enjeu": "Ce qui est en jeu",
    "echeance": "Date limite",
    "equipement": "Équipement",
    "appareil": "Appareil qu'elle a nommé",
    "souhait": "Souhait",
    "difficultes": "Difficultés",
    "besoins": "Besoins particuliers",
    "sujet": "Veut apprendre",
    "commune": "Commune",
    "contact": "Contact",
}
# A desk referral without a number: the place can only wait for the person.
NO_CONTACT_LABEL = "Pas de contact"
NO_CONTACT_TEXT = "la personne viendra au lieu"
REFERRER_LABEL = "Orientée par"
PLACE_LABEL = "Lieu"
FLAGS_LABEL = "À savoir"
NO_PLACE = "Aucun lieu"
# The deadline, as a mediator reads it: "avant le vendredi 11 décembre".
DEADLINE_BEFORE = "avant le {date}"
# Needs from the national standard (prise_en_charge_specifique) that are flags here, not lines.
LANGUAGE_NEEDS = ("Langues étrangères (anglais)", "Langues étrangères (autres)")
READING_NEEDS = ("Illettrisme",)


def label_or_none(codes: type[LabelledCode], code: Any) -> Optional[str]:
    """The label of a code of that set, None for anything else (never a raw code in front of a reader)."""
    try:
        return codes(code).label
    except ValueError:
        return None
