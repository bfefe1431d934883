"""Triage rules: which level of need, and why.

The rules are a plain table, read top to bottom. The first group that has a matching rule
gives the level; every matching rule of that group is a reason. Urgence rules come first
because missing an urgence costs far more than over-triage. Each rule's reason, in French,
is the domain response `utter_raison_<code>` (see `domain/responses_triage.yml`).

Facts (all optional) come from `bot.triage.understanding.extract_facts` and from the answers:
  organisme, domaine, demarche   which body and procedure
  enjeu      delai | probleme | premiere_demande | aucun | inconnu   (question 2)
  enjeux     every stake found in the text (enjeu is the first)
  equipement aucun | telephone | ordinateur                          (question 3)
  souhait    faire_pour | apprendre | regulier                       (question 4)
  commune    a commune was located                                   (question 5)
  barriere   langue | lecture | accident
  blocage    codes | email | peur | espace_personnel
  recurrent, apprentissage, debutant (booleans), besoins (list)
  hors_champ social | refus | hors_sujet | publicite | insulte | essai
  redacteur  proche | professionnel   someone writes for another person (the facts are about that person)
  refus_explicite  the refusal of the online route is said in words (not only guessed by the model)
  accompagnement_demande  the NLU read a wish for regular help (a guess, weaker than the lexicon)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

URGENCE = "urgence"
INCLUSION = "inclusion"
MONTEE = "montee_en_competence"
HORS_CHAMP = "hors_champ"
LEVELS = (URGENCE, INCLUSION, MONTEE, HORS_CHAMP)

# The five questions of the brief, in the order they are asked.
QUESTIONS = ("demarche", "enjeu", "equipement", "souhait", "commune")


def _has_procedure(f: dict) -> bool:
    return bool(f.get("organisme") or f.get("demarche"))


def _stakes(f: dict) -> set:
    return set(f.get("enjeux") or ()) | {f.get("enjeu")}


def _refuses_online(f: dict) -> bool:
    """Does not want to go online: their right, unless a deadline or a problem is at stake. With a procedure
    named, only a refusal said in words counts (the model's guess alone does not outweigh the procedure)."""
    return (f.get("hors_champ") == "refus" and (f.get("refus_explicite") or not _has_procedure(f))
            and not _stakes(f) & {"delai", "probleme"})


def _cannot_do_alone(f: dict) -> bool:
    return f.get("equipement") == "aucun" or f.get("barriere") in ("langue", "lecture", "accident")


@dataclass(frozen=True)
class Rule:
    code: str            # names the reason response utter_raison_<code>
    level: str
    applies: Callable[[dict], bool]
    summary: str         # one line for the social worker reading this table


RULES: tuple[Rule, ...] = (
    # --- urgence: a right, an allocation or a deadline is at stake now --------------------------
    Rule("delai_proche", URGENCE, lambda f: "delai" in _stakes(f) and _has_procedure(f),
         "A deadline within days, with a right or money at stake."),
    Rule("droit_menace", URGENCE, lambda f: "probleme" in _stakes(f),
         "Something already went wrong: benefit cut or suspended, struck off, letter, penalty."),
    Rule("droit_a_ouvrir", URGENCE, lambda f: "premiere_demande" in _stakes(f),
         "A right never opened and needed now (first application, registration)."),
    Rule("seul_impossible", URGENCE,
         lambda f: _has_procedure(f) and _cannot_do_alone(f) and f.get("enjeu") != "aucun" and not _refuses_online(f),
         "A procedure the person cannot do alone now: no device or connection, does not read French, life accident."),
    Rule("dans_le_doute", URGENCE,
         lambda f: _has_procedure(f) and f.get("enjeu") == "inconnu" and not _refuses_online(f),
         "Unsure whether a date or a right is at stake: treated as an urgence."),
    # --- out of scope: answered, not triaged ------------------------------------------------------
    Rule("besoin_social", HORS_CHAMP, lambda f: f.get("hors_champ") == "social" and not _has_procedure(f),
         "A social need that is not digital: a social worker (CCAS, Département)."),
    Rule("refus_numerique", HORS_CHAMP, lambda f: _refuses_online(f)
         and not (f.get("apprentissage") and not f.get("refus_explicite")),
         "Does not want to go digital: paper, phone and counter routes remain a right (a deadline or a problem "
         "still comes first)."),
    Rule("publicite", HORS_CHAMP, lambda f: f.get("hors_champ") == "publicite" and not _has_procedure(f),
         "Spam or advertising: nothing to triage."),
    Rule("insulte", HORS_CHAMP, lambda f: f.get("hors_champ") == "insulte" and not _has_procedure(f),
         "An insult without any request: answered calmly, not triaged."),
    Rule("message_test", HORS_CHAMP, lambda f: f.get("hors_champ") == "essai" and not _has_procedure(f),
         "A test message (\"test\", \"essai\", \"123\")."),
    Rule("hors_sujet", HORS_CHAMP, lambda f: f.get("hors_champ") == "hors_sujet" and not _has_procedure(f)
         and not f.get("apprentissage"), "Not about a procedure or digital skills."),
    # --- inclusion: progressive autonomy, a recurring helper ------------------------------------
    Rule("difficulte_recurrente", INCLUSION, lambda f: bool(f.get("recurrent")),
         "A recurring difficulty, or depends on relatives or neighbours."),
    Rule("bloque", INCLUSION, lambda f: bool(f.get("blocage")),
         "Could do it but is blocked: forgotten codes, no usable e-mail, fear of a mistake."),
    Rule("aide_reguliere", INCLUSION, lambda f: f.get("souhait") == "regulier"
         or (bool(f.get("accompagnement_demande")) and not (_has_procedure(f) and "enjeu" not in f)),
         "Wants someone who helps regularly."),
    Rule("faire_avec", INCLUSION,
         lambda f: _has_procedure(f) and f.get("enjeu") == "aucun" and f.get("souhait") == "faire_pour",
         "A procedure without a deadline, to be done with someone."),
    Rule("sans_urgence", INCLUSION, lambda f: _has_procedure(f) and f.get("enjeu") == "aucun"
         and not f.get("souhait") and not f.get("apprentissage") and not _cannot_do_alone(f),
         "A procedure the person says is not urgent: done with someone, at their pace."),
    Rule("acces_equipement", INCLUSION,
         lambda f: _has_procedure(f) and f.get("enjeu") == "aucun" and _cannot_do_alone(f),
         "No deadline, but cannot do it alone: access and individual help first."),
    # --- montée en compétence: learning, no deadline ----------------------------------------------
    Rule("envie_apprendre", MONTEE, lambda f: bool(f.get("apprentissage")) and not _has_procedure(f),
         "Wants to learn, no procedure at stake."),
    Rule("apprendre_la_demarche", MONTEE, lambda f: _has_procedure(f) and f.get("souhait") == "apprendre"
         and not _stakes(f) & {"delai", "probleme", "premiere_demande", "inconnu"},
         "Wants to learn to do the procedure alone, no deadline."),
    Rule("bases_a_acquerir", MONTEE, lambda f: bool(f.get("debutant")) and not _has_procedure(f),
         "Has never used a computer: the basics come before any procedure."),
)

# Groups in priority order: the first group with a matching rule decides.
PRIORITY = (URGENCE, HORS_CHAMP, INCLUSION, MONTEE)


@dataclass
class TriageResult:
    level: Optional[str]
    reasons: list[str] = field(default_factory=list)    # rule codes
    missing: list[str] = field(default_factory=list)    # question codes still needed
    next_step: Optional[str] = None                    # level proposed after this one
    equipment_first: bool = False                      # no device: access before skills
    provisional: bool = False                          # the questions still missing may change the level

    def as_dict(self) -> dict:
        return {"level": self.level, "reasons": list(self.reasons), "missing": list(self.missing),
                "next_step": self.next_step, "equipment_first": self.equipment_first,
                "provisional": self.provisional}


def matching_rules(facts: dict) -> list[Rule]:
    return [rule for rule in RULES if rule.applies(facts)]


def decide(facts: dict, asked: tuple[str, ...] = ()) -> TriageResult:
    """Classify from the facts known so far, and list the questions still needed.

    `asked` holds the questions already put to the person: an unanswered question is not asked
    twice, and once every useful question is asked the best decision is taken with what is known.
    """
    matched = matching_rules(facts)
    level: Optional[str] = None
    for group in PRIORITY:
        hits = [r for r in matched if r.level == group]
        if hits:
            level = group
            reasons = [r.code for r in hits]
            break
    else:
        reasons = []

    missing: list[str] = []
    provisional = False
    if level is None:
        missing = _questions_to_decide(facts, asked)
        if not missing:
            # Every question was asked and nothing decided: the safest useful answer.
            level, reasons = _default_decision(facts)
        elif _has_procedure(facts) and "enjeu" not in facts:
            # Never miss an urgence: while the stake of a procedure is unknown, it is treated as one.
            level, reasons, provisional = URGENCE, ["dans_le_doute"], True
    elif reasons == ["sans_urgence"]:
        # Only "not urgent" is known: the device and the wish are still asked, they may change the help.
        missing = [q for q in ("equipement", "souhait") if q not in facts and q not in asked]
        provisional = bool(missing)
    elif level in (INCLUSION, MONTEE) and _has_procedure(facts) and "enjeu" not in facts and "enjeu" not in asked:
        # A blocked or learning person may still have a deadline: question 2 is asked before settling.
        missing = ["enjeu"]
        provisional = True

    if level in (URGENCE, INCLUSION, MONTEE) and not facts.get("commune") and "commune" not in asked:
        missing.append("commune")

    next_step = INCLUSION if level == URGENCE else (MONTEE if level == INCLUSION else None)
    return TriageResult(level=level, reasons=reasons, missing=missing, next_step=next_step,
                        equipment_first=facts.get("equipement") == "aucun", provisional=provisional)


def _questions_to_decide(facts: dict, asked: tuple[str, ...]) -> list[str]:
    needed: list[str] = []
    if not _has_procedure(facts) and not facts.get("apprentissage") and not facts.get("debutant"):
        needed.append("demarche")
    if _has_procedure(facts) or "demarche" in needed:
        if "enjeu" not in facts:
            needed.append("enjeu")
        if "equipement" not in facts:
            needed.append("equipement")
        if "souhait" not in facts:
            needed.append("souhait")
    return [q for q in needed if q not in asked]


def _default_decision(facts: dict) -> tuple[str, list[str]]:
    if _has_procedure(facts):
        # A procedure whose stake stayed unclear: in doubt, urgence.
        if facts.get("enjeu") in (None, "inconnu"):
            return URGENCE, ["dans_le_doute"]
        return INCLUSION, ["faire_avec"]
    return INCLUSION, ["par_defaut"]
