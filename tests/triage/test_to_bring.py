"""What to bring: a list of items that fits what the person said, never a sentence cut on its commas."""

from bot.triage.rules import INCLUSION, MONTEE, URGENCE
from bot.triage.to_bring import in_a_sentence, items
from bot.triage.understanding import facts_from_message


def test_a_tablet_learner_brings_the_tablet_and_questions_nothing_about_a_phone_or_computer():
    facts = facts_from_message("je voudrais apprendre a faire des appels video sur ma tablette avec mes petits enfants")
    listed = items(facts, MONTEE)
    assert listed == ["votre tablette, chargée", "vos questions, notées sur un papier"]
    assert not any("téléphone" in item or "ordinateur" in item for item in listed)
    assert not any(item.startswith("et ") for item in listed)  # the old "et vos questions" bullet


def test_a_caf_urgence_lists_the_caf_papers_then_the_phone_for_the_codes():
    listed = items({"organisme": "caf", "enjeu": "delai"}, URGENCE)
    assert listed == ["votre numéro d'allocataire CAF", "vos fiches de paie ou vos autres ressources",
                      "les lettres de la CAF", "votre téléphone portable, si vous en avez un"]


def test_no_device_said_in_words_means_no_device_to_bring():
    facts = facts_from_message("jdois faire ma declaration caf, jai pas dordi")
    assert facts["equipement"] == "aucun" and "appareil" not in facts
    assert not any("téléphone" in item or "ordinateur" in item for item in items(facts, URGENCE))


def test_the_named_device_wins_over_the_kind_of_access():
    assert items({"organisme": "impots", "equipement": "ordinateur", "appareil": "tablette"}, INCLUSION)[-1] \
        == "votre tablette, chargée"
    phone = items({"organisme": "impots", "equipement": "telephone"}, INCLUSION)[-1]
    assert phone == "votre téléphone portable, chargé"


def test_an_unknown_body_gets_identity_and_letters():
    assert items({"organisme": "mdph"}, URGENCE)[:2] == ["une pièce d'identité", "les lettres ou messages reçus"]


def test_a_learner_who_said_nothing_of_a_device_is_told_any_device_if_they_have_one():
    assert items({"apprentissage": True}, MONTEE)[0] == "votre téléphone, tablette ou ordinateur, si vous en avez un"


def test_items_read_as_one_sentence_with_et_before_the_last():
    assert in_a_sentence(["a", "b", "c"]) == "a, b et c"
    assert in_a_sentence(["a"]) == "a"
    assert in_a_sentence([]) == ""
