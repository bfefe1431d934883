"""The triage conversation, turn by turn, with in-memory services (no Rasa, no database)."""

from datetime import date
from types import SimpleNamespace

from bot.core import messages
from bot.directory.hours import format_day
from bot.triage.dialogue import Turn, handle

RENNES = SimpleNamespace(insee="35238", name="Rennes", postcodes=("35000", "35200", "35700"),
                         latitude=48.11, longitude=-1.68, departement="35", population=220000)
SAINT_DENIS_93 = SimpleNamespace(insee="93066", name="Saint-Denis", postcodes=("93200",), latitude=48.93,
                                 longitude=2.35, departement="93", population=110000)
SAINT_DENIS_974 = SimpleNamespace(insee="97411", name="Saint-Denis", postcodes=("97400",), latitude=-20.88,
                                  longitude=55.45, departement="974", population=150000)


class FakeServices:
    """places: True (a place within the first radius), False (only within the wide radius), "none" (nothing
    within the wide radius either); remote: whether remote help serves the person's area; opens: the day the
    place opens next (ISO, None: hours unknown; today: open now); delivered: what Services.delivery says."""

    TODAY = "2026-12-06"  # a Sunday

    def __init__(self, places=True, remote=True, opens="2026-12-07", delivered="envoye"):
        self.places = places
        self.remote_help = remote
        self.opens = opens
        self.delivered = delivered
        self.referrals = []
        self.searches = []
        self.remote_asked = []

    def locate(self, text, whole_answer):
        t = text.lower()
        if "rennes" in t or "35000" in t:
            return SimpleNamespace(status="found", commune=RENNES, candidates=(RENNES,))
        if "saint denis" in t or "st denis" in t or t.strip() == "93200":
            return SimpleNamespace(status="ambiguous", commune=None, candidates=(SAINT_DENIS_974, SAINT_DENIS_93))
        return SimpleNamespace(status="not_found", commune=None, candidates=()) if whole_answer else None

    def commune(self, insee):
        return {c.insee: c for c in (RENNES, SAINT_DENIS_93, SAINT_DENIS_974)}.get(insee)

    def commune_label(self, commune):
        return f"{commune.name} ({commune.departement})"

    def radius(self, wide):
        return 50.0 if wide else 15.0

    def search(self, latitude, longitude, level, needs, radius_km, insee=None):
        self.searches.append((level, tuple(needs), radius_km))
        if self.places == "none" or (not self.places and radius_km < 50):
            return SimpleNamespace(matches=[])
        return SimpleNamespace(matches=[SimpleNamespace(name="Espace Blosne", level=level)])

    def remote(self, level, needs, latitude=None, longitude=None, insee=None):
        self.remote_asked.append((latitude, longitude, insee))
        return [SimpleNamespace(name="Aide à distance", level=level)] if self.remote_help else []

    def present(self, match):
        open_now = self.opens == self.TODAY
        when = None if self.opens is None else (
            "aujourd'hui, dimanche 6 décembre, jusqu'à 12h" if open_now
            else f"le {self.date_text(self.opens)} à 9h")
        return {"id": "demo-1", "nom": match.name, "adresse": "1 rue X", "code_postal": "35000", "commune": "Rennes",
                "telephone": "02 99 00 00 00", "distance": "1,2",
                "ouverture": "Ouvert maintenant" if open_now else "Ouvre bientôt",
                "prochaine_ouverture": when or "Horaires non connus", "ouvre_le": self.opens,
                "ouvert_maintenant": open_now, "demo": True, "horaires_a_confirmer": False}

    def date_text(self, iso_day):
        day = date.fromisoformat(iso_day)
        return format_day(day, day)

    def delivery(self, reference):
        return self.delivered

    def create_referral(self, state, channel, sender_id):
        self.referrals.append((state["level"], channel, sender_id, dict(state["facts"])))
        return "ABC-DEFG"

    def slip_lines(self, reference):
        return [{"libelle": "Démarche", "texte": "la démarche"}]

    def helpline(self):
        return {"ligne_nom": "Ligne test", "ligne_telephone": "01 02 03 04 05"}


def converse(services, *turns):
    state, transcript = None, []
    for turn in turns:
        if isinstance(turn, str):
            turn = Turn(text=turn, sender_id="tester")
        replies, state = handle(state, turn, services)
        transcript.append([r.key for r in replies])
        last_replies = replies
    return state, transcript, last_replies


def choice(value):
    return Turn(text=f'/choix{{"valeur": "{value}"}}', intent="choix", choice=value, sender_id="tester")


def test_acceptance_urgence_in_one_message_then_consent_gives_reference():
    services = FakeServices()
    text = ("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
            "jai pas dordi, jsuis a rennes")
    state, transcript, replies = converse(services, Turn(text=text, intent="demarche", sender_id="tester"),
                                          choice("oui"))
    first = transcript[0]
    assert first[0] == "utter_resultat_urgence"  # no question asked: the message said it all
    assert "utter_lieu" in first and first[-1] == "utter_demande_consentement"
    assert services.searches[0][0] == "urgence"
    assert "utter_urgence_vite" in first  # the place opens tomorrow, before the deadline (the 5th)
    assert transcript[1][0] == "utter_envoye_lieu"  # a channel of the place accepted it (FakeServices.delivery)
    assert state["reference"] == "ABC-DEFG"
    card = replies[0].custom
    assert card["niveau"] == "urgence" and card["reference"] == "ABC-DEFG"
    # The next step is the action (where, when, what to bring, before when); the later path comes "Ensuite".
    step = replies[1].text()
    assert transcript[1][1] == "utter_prochaine_etape"
    assert "Espace Blosne" in step and "le lundi 7 décembre à 9h" in step and "avant le" in step
    assert "numéro d'allocataire" in step and "téléphone" not in step  # "jai pas dordi" said no device
    assert card["prochaine_etape"] in step and card["ensuite"] == messages.text("utter_prochaine_etape_inclusion")
    assert transcript[1][-1] == "utter_prochaine_etape_inclusion"
    assert services.referrals[0][0] == "urgence"


def test_a_whole_story_after_a_greeting_is_not_asked_the_town_again():
    services = FakeServices()
    text = ("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
            "jai pas dordi, jsuis a rennes")
    state, transcript, _ = converse(services, Turn(text="bonjour", intent="saluer", sender_id="tester"),
                                    Turn(text=text, intent="demarche", sender_id="tester"))
    assert transcript[0] == ["utter_saluer", "utter_ask_demarche"]
    assert transcript[1][0] == "utter_resultat_urgence" and "utter_ask_commune" not in transcript[1]
    assert state["facts"]["commune"] == "Rennes"


def test_questions_are_asked_only_for_what_is_missing_and_free_text_answers_work():
    services = FakeServices()
    state, transcript, _ = converse(
        services,
        Turn(text="slt jvoudrais mactualiser pole emploi", intent="demarche"),
        Turn(text="jsp", intent="ne_sait_pas"),
        Turn(text="je suis a rennes", intent="informer"),
    )
    assert transcript[0] == ["utter_ask_enjeu"]
    assert transcript[1] == ["utter_ask_commune"]  # unsure about a deadline: urgence, no more questions
    assert transcript[2][0] == "utter_resultat_urgence"
    assert state["reasons"] == ["dans_le_doute"]


def test_never_more_than_five_questions():
    services = FakeServices()
    answers = ["bonjour", "euh", "euh", "euh", "euh", "xqzw", "toujours rien", "rien"]
    state, transcript, _ = converse(services, *answers)
    asked = [key for turn in transcript for key in turn
             if key.startswith("utter_ask_") and key not in ("utter_ask_commune_precision",
                                                             "utter_ask_commune_code_postal")]
    assert len(set(asked)) == len(asked) <= 5


def test_learning_wish_goes_to_workshops_after_the_commune():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    Turn(text="Rennes"))
    assert transcript[0] == ["utter_ask_commune"]
    assert transcript[1][0] == "utter_resultat_montee_en_competence"
    assert services.searches[-1][0] == "montee_en_competence"


def test_homonyms_are_asked_about_then_resolved_by_button():
    services = FakeServices()
    state, transcript, replies = converse(services, Turn(text="je veux apprendre internet", intent="apprendre"),
                                          Turn(text="saint denis"))
    assert transcript[1] == ["utter_ask_commune_precision"]
    assert [b["title"] for b in replies[0].buttons] == ["Saint-Denis (974)", "Saint-Denis (93)"]
    _, state2 = handle(state, choice("insee:93066"), services)
    assert state2["facts"]["commune_insee"] == "93066"


def test_a_postcode_several_communes_share_is_asked_about_as_a_postcode():
    # "Il y a plusieurs villes « Vitré »" was said for 35500, and listed Balazé and Erbrée.
    services = FakeServices()
    state, transcript, replies = converse(services, Turn(text="je veux apprendre internet", intent="apprendre"),
                                          Turn(text="93200"))
    assert transcript[1] == ["utter_ask_commune_code_postal"]
    assert replies[0].text().startswith("Plusieurs communes ont le code postal 93200.")
    assert "écrivez son nom" in replies[0].text()  # five are listed: the person's may be a sixth
    _, state2 = handle(state, choice("insee:93066"), services)
    assert state2["facts"]["commune_insee"] == "93066"


def test_unknown_town_is_asked_again_without_counting_a_new_question():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je veux apprendre internet", intent="apprendre"),
                                    Turn(text="xqzw"), Turn(text="35000"))
    assert transcript[1] == ["utter_commune_inconnue"]
    assert transcript[2][0] == "utter_resultat_montee_en_competence"


def test_refusing_consent_shares_nothing():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    Turn(text="rennes"), Turn(text="non", intent="non"))
    assert transcript[-1] == ["utter_sans_envoi"]
    assert services.referrals == []
    assert state["reference"] is None


def test_unclear_consent_is_asked_again():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    Turn(text="rennes"), Turn(text="peut etre"))
    assert transcript[-1] == ["utter_pas_compris_reponse", "utter_demande_consentement"]
    assert services.referrals == []


def test_no_place_nearby_offers_alternatives_then_wider_search():
    services = FakeServices(places=False)
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    Turn(text="rennes"), choice("plus_loin"))
    assert transcript[1][-1] == "utter_aucun_lieu"
    assert "utter_lieu" in transcript[2]
    assert services.searches[-1][2] == 50.0


def test_remote_help_when_the_person_cannot_travel():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    choice("a_distance"))
    assert transcript[1][0] == "utter_resultat_montee_en_competence"
    assert "utter_aide_a_distance" in transcript[1]


def test_shared_location_skips_the_commune_question():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    Turn(text="/position", intent="position", latitude=48.11734, longitude=-1.68012))
    assert transcript[1][0] == "utter_resultat_montee_en_competence"
    assert (state["facts"]["latitude"], state["facts"]["longitude"]) == (48.12, -1.68)  # not the exact spot


def test_after_a_referral_the_reference_is_repeated():
    services = FakeServices()
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    Turn(text="rennes"), choice("oui"), Turn(text="et maintenant ?"))
    assert transcript[-1] == ["utter_deja_envoye"]


def test_referral_facts_never_hold_the_message_text():
    services = FakeServices()
    converse(services, Turn(text="je voudrais apprendre a faire des visios mon mdp est [MOT_DE_PASSE]",
                            intent="apprendre"), Turn(text="rennes"), choice("oui"))
    facts = services.referrals[0][3]
    assert all("MOT_DE_PASSE" not in str(v) for v in facts.values())


def test_asking_to_be_called_back_names_the_place_and_hands_its_id_to_the_channel():
    services = FakeServices()
    text = ("bjr jdois faire ma declaration trimestrielle caf avant le 5 sinon ils coupent le rsa, "
            "jai pas dordi, jsuis a rennes")
    state, _, _ = converse(services, Turn(text=text, intent="demarche", sender_id="tester"), choice("oui"))
    replies, _ = handle(state, choice("rappel"), services)
    assert [r.key for r in replies] == ["utter_rappel_note"]
    assert replies[0].custom == {"type": "rappel", "lieu": "demo-1"} and "Espace Blosne" in replies[0].text()
    replies, _ = handle(state, choice("pas_de_rappel"), services)
    assert [r.key for r in replies] == ["utter_pas_de_rappel"] and replies[0].custom is None
    replies, _ = handle(None, choice("rappel"), services)  # no place proposed yet: nothing to book
    assert replies[0].custom is None


def test_nothing_within_the_wide_radius_is_said_plainly_with_the_helpline_and_remote_help():
    services = FakeServices(places="none")
    state, transcript, replies = converse(services, Turn(text="je voudrais apprendre a faire des visios",
                                                         intent="apprendre"), Turn(text="rennes"))
    # both radii searched at once: "chercher plus loin" would find nothing, so it is not offered
    assert [s[2] for s in services.searches] == [15.0, 50.0]
    assert transcript[1][1:] == ["utter_rien_pres_de_vous", "utter_autres_aides"]
    assert "Ligne test au 01 02 03 04 05" in replies[1].text() and "50 km" in replies[1].text()
    assert [b["title"] for b in messages.catalogue().buttons("utter_autres_aides")] == ["Une aide à distance",
                                                                                       "Une ligne d'aide"]
    assert services.remote_asked[0][2] == "35238"  # remote help for the person's commune
    assert state["pending"] == "alternatives" and state["wide"] is True


def test_chercher_plus_loin_never_loops_and_never_repeats_a_radius():
    services = FakeServices(places="none")
    state, transcript, replies = converse(services, Turn(text="je voudrais apprendre a faire des visios",
                                                         intent="apprendre"), Turn(text="rennes"),
                                          choice("plus_loin"), Turn(text="chercher plus loin"), choice("plus_loin"))
    for turn in transcript[2:]:
        assert turn == ["utter_pas_plus_loin", "utter_autres_aides"]
    assert all(" km" not in r.text() for r in replies)
    assert state["pending"] == "alternatives"
    # the choices that remain: remote help and the helpline, never "chercher plus loin"
    assert all(r.buttons is None for r in replies)  # the domain's buttons of utter_autres_aides
    assert max(s[2] for s in services.searches) == 50.0
    remote, state = handle(state, choice("a_distance"), services)
    assert [r.key for r in remote] == ["utter_aide_a_distance", "utter_demande_consentement"]


def test_nothing_near_and_no_remote_help_for_the_area_ends_on_the_helpline():
    services = FakeServices(places="none", remote=False)
    state, transcript, replies = converse(services, Turn(text="je voudrais apprendre a faire des visios",
                                                         intent="apprendre"), Turn(text="rennes"))
    assert transcript[1][1:] == ["utter_rien_pres_de_vous", "utter_pas_d_aide_a_distance"]
    assert "01 02 03 04 05" in replies[1].text()
    assert [b["title"] for b in replies[2].buttons] == ["Une ligne d'aide"]  # no remote help to offer
    assert state["pending"] == "alternatives"
    again, state = handle(state, choice("plus_loin"), services)
    assert [r.key for r in again] == ["utter_pas_plus_loin", "utter_pas_d_aide_a_distance"]
    assert all(" km" not in r.text() for r in again)
    unclear, state = handle(state, Turn(text="euh"), services)
    assert [r.key for r in unclear] == ["utter_pas_compris_reponse", "utter_pas_d_aide_a_distance"]
    typed, state = handle(state, Turn(text="une aide a distance"), services)
    assert [r.key for r in typed] == ["utter_pas_d_aide_a_distance", "utter_ligne_aide"]


def test_further_search_offers_remote_help_only_when_some_serves_the_area():
    services = FakeServices(places=False, remote=False)
    state, transcript, replies = converse(services, Turn(text="je voudrais apprendre a faire des visios",
                                                         intent="apprendre"), Turn(text="rennes"))
    assert transcript[1][-1] == "utter_aucun_lieu"
    assert [b["title"] for b in replies[-1].buttons] == ["Chercher plus loin", "Une ligne d'aide"]
    typed, _ = handle(state, Turn(text="a distance"), services)
    assert [r.key for r in typed] == ["utter_pas_d_aide_a_distance", "utter_ligne_aide"]


def test_remote_help_without_a_town_asks_for_national_help_only():
    services = FakeServices(remote=False)
    state, transcript, _ = converse(services, Turn(text="je voudrais apprendre a faire des visios", intent="apprendre"),
                                    choice("a_distance"))
    assert services.remote_asked == [(None, None, None)]
    assert transcript[1][1:] == ["utter_ligne_aide"]
