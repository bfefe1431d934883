"""Console logic without HTTP: accounts, login throttling, visibility, transitions, audit log."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.console import accounts, service
from bot.console.accounts import AccountError
from bot.core.db import session_scope
from bot.handoff.referrals import Referral, ReferralRequest, create_referral, erase_for_sender
from tests.console_support import PASSWORD, T0, account, build_db


@pytest.fixture()
def db(tmp_path, monkeypatch):
    return build_db(tmp_path, monkeypatch)


def test_password_is_stored_as_salted_scrypt_and_checked():
    first, second = accounts.hash_password("un mot de passe solide"), accounts.hash_password("un mot de passe solide")
    assert first.startswith("scrypt$") and "solide" not in first
    assert first != second  # per-account salt
    assert accounts.verify_password("un mot de passe solide", first)
    assert not accounts.verify_password("un mot de passe solidE", first)
    assert not accounts.verify_password("x", "n'importe quoi")


def test_production_cost_is_not_weakened():
    # Only the `db` fixture lowers the cost (monkeypatch); this test does not use it.
    assert accounts.SCRYPT_N >= 2 ** 14 and accounts.SCRYPT_R >= 8
    assert accounts.hash_password("un mot de passe solide").split("$")[1:4] == [str(accounts.SCRYPT_N), "8", "1"]


def test_account_rules(db):
    with session_scope(db["factory"]) as session:
        with pytest.raises(AccountError, match="mot_de_passe_court"):
            accounts.create_account(session, "x@example.org", "court", "lieu-a")
        with pytest.raises(AccountError, match="lieu_obligatoire"):
            accounts.create_account(session, "x@example.org", PASSWORD, None)
        with pytest.raises(AccountError, match="lieu_inconnu"):
            accounts.create_account(session, "x@example.org", PASSWORD, "nulle-part")
        with pytest.raises(AccountError, match="email_existant"):
            accounts.create_account(session, "MED-A@example.org ", PASSWORD, "lieu-a")
        coord = accounts.create_account(session, "c2@example.org", PASSWORD, "lieu-a", role="coordinateur")
        assert coord.place_id is None and coord.is_coordinator


def test_login_creates_a_hashed_session_and_logout_ends_it(db):
    with session_scope(db["factory"]) as session:
        result = accounts.login(session, " Med-A@Example.org", PASSWORD, now=T0)
        assert result.status == accounts.LOGIN_OK and result.token and result.csrf_token
        stored = session.execute(select(accounts.ConsoleSession)).scalars().all()
        assert [s.token_hash for s in stored] == [hashlib.sha256(result.token.encode()).hexdigest()]
    with session_scope(db["factory"]) as session:
        auth = accounts.resolve_token(session, result.token, now=T0 + timedelta(hours=1))
        assert auth.account.email == "med-a@example.org" and auth.csrf_token == result.csrf_token
        assert accounts.resolve_token(session, result.token, now=T0 + timedelta(hours=9)) is None  # expired
    with session_scope(db["factory"]) as session:
        result = accounts.login(session, "med-a@example.org", PASSWORD, now=T0)
        assert accounts.logout(session, result.token)
        assert accounts.resolve_token(session, result.token, now=T0) is None


def test_bad_login_is_generic_and_repeated_failures_slow_any_email_alike(db):
    for email in ("med-a@example.org", "personne@example.org"):
        with session_scope(db["factory"]) as session:
            results = [accounts.login(session, email, "mauvais mot de passe", now=T0) for _ in range(6)]
        # Same answers whether the account exists or not: nothing to enumerate.
        assert [r.status for r in results] == [accounts.LOGIN_BAD] * 5 + [accounts.LOGIN_LOCKED]
        assert results[-1].retry_at == T0 + timedelta(seconds=1)
    # A delay, not a lock-out: once it has passed, the right password works.
    with session_scope(db["factory"]) as session:
        assert accounts.login(session, "med-a@example.org", PASSWORD, now=T0 + timedelta(seconds=1)).status \
            == accounts.LOGIN_OK


def test_deactivated_account_cannot_log_in_and_loses_its_sessions(db):
    with session_scope(db["factory"]) as session:
        token = accounts.login(session, "med-b@example.org", PASSWORD, now=T0).token
        assert accounts.deactivate_account(session, "med-b@example.org")
    with session_scope(db["factory"]) as session:
        assert accounts.resolve_token(session, token, now=T0) is None
        assert accounts.login(session, "med-b@example.org", PASSWORD, now=T0).status == accounts.LOGIN_BAD


def test_mediator_sees_only_own_place_and_coordinator_sees_all(db):
    med_a, med_b, coord = (account(db["factory"], e) for e in
                           ("med-a@example.org", "med-b@example.org", "coord@example.org"))
    refs = db["referrals"]
    with session_scope(db["factory"]) as session:
        # a1 is an open urgence: first, although a2 is newer
        assert [r.reference for r in service.list_referrals(session, med_a)] == [refs["a1"][1], refs["a2"][1]]
        assert [r.reference for r in service.list_referrals(session, med_b)] == [refs["b1"][1]]
        assert len(service.list_referrals(session, coord)) == 3
        with pytest.raises(service.NotFound):
            service.open_referral(session, med_a, refs["b1"][0])
        with pytest.raises(service.NotFound):
            service.claim(session, med_a, refs["b1"][0])
        assert service.find_reference(session, med_a, refs["b1"][1]) is None
        loose = refs["a1"][1].lower().replace("-", " ")
        assert service.find_reference(session, med_a, loose).id == refs["a1"][0]
        assert service.find_reference(session, coord, refs["b1"][1]).id == refs["b1"][0]
        assert service.due_callbacks_for(session, med_a) == []
        assert service.due_callbacks_for(session, coord, T0) == []


def test_claim_note_close_and_invalid_transitions(db):
    med_a, med_a2 = account(db["factory"], "med-a@example.org"), account(db["factory"], "med-a2@example.org")
    rid = db["referrals"]["a1"][0]
    with session_scope(db["factory"]) as session:
        referral = service.claim(session, med_a, rid, now=T0 + timedelta(hours=1))
        assert referral.status == "prise_en_charge" and referral.claimed_by == med_a.id
        with pytest.raises(service.ConsoleError, match="deja_prise_en_charge"):
            service.claim(session, med_a2, rid)
        service.add_note(session, med_a2, rid, "  Rappelée, RDV mardi <b>10h</b>  ",
                         now=T0 + timedelta(hours=1, minutes=5))
        with pytest.raises(service.ConsoleError, match="note_vide"):
            service.add_note(session, med_a, rid, "   ")
        with pytest.raises(service.ConsoleError, match="resultat_invalide"):
            service.close(session, med_a, rid, "abandon")
        closed = service.close(session, med_a, rid, "fait", now=T0 + timedelta(hours=2))
        assert closed.status == "cloturee" and closed.outcome == "fait" and closed.closed_at is not None
        for attempt in (lambda: service.claim(session, med_a, rid), lambda: service.close(session, med_a, rid, "fait"),
                        lambda: service.reassign(session, med_a, rid, "lieu-b", "motif")):
            with pytest.raises(service.ConsoleError, match="deja_cloturee"):
                attempt()
    with session_scope(db["factory"]) as session:
        view = service.open_referral(session, med_a, rid, now=T0 + timedelta(hours=3))
        assert [h.action for h in view.history] == ["creation", "prise_en_charge", "cloture"]
        assert [n.text for n in view.notes] == ["Rappelée, RDV mardi <b>10h</b>"]
        actions = [e.action for e in service.journal(session, med_a)]
        assert actions == ["consultation", "cloture", "note", "prise_en_charge"]


def test_reassign_moves_the_referral_to_the_other_place(db):
    med_a, med_b = account(db["factory"], "med-a@example.org"), account(db["factory"], "med-b@example.org")
    rid = db["referrals"]["a2"][0]
    with session_scope(db["factory"]) as session:
        service.claim(session, med_a, rid, now=T0 - timedelta(minutes=5))  # history is ordered by time
        with pytest.raises(service.ConsoleError, match="motif_obligatoire"):
            service.reassign(session, med_a, rid, "lieu-b", " ")
        with pytest.raises(service.ConsoleError, match="meme_lieu"):
            service.reassign(session, med_a, rid, "lieu-a", "x")
        with pytest.raises(service.ConsoleError, match="lieu_inconnu"):
            service.reassign(session, med_a, rid, "ailleurs", "x")
        moved = service.reassign(session, med_a, rid, "lieu-b", "Plus proche de chez elle", now=T0)
        assert moved.place_id == "lieu-b" and moved.status == "ouverte" and moved.claimed_by is None
    with session_scope(db["factory"]) as session:
        with pytest.raises(service.NotFound):
            service.open_referral(session, med_a, rid)
        view = service.open_referral(session, med_b, rid)
        assert [n.text for n in view.notes] == ["Plus proche de chez elle"]
        assert view.history[-1].action == "reassignation" and view.history[-1].detail == "lieu-a->lieu-b"
        # Both places find the hand-over in their journal.
        assert "reassignation" in [e.action for e in service.journal(session, med_a)]
        assert "reassignation" in [e.action for e in service.journal(session, med_b)]


def test_erasing_a_person_removes_notes_but_keeps_the_audit_trail(db):
    med_b = account(db["factory"], "med-b@example.org")
    rid = db["referrals"]["b1"][0]
    with session_scope(db["factory"]) as session:
        service.add_note(session, med_b, rid, "Numéro de dossier 123")
    with session_scope(db["factory"]) as session:
        assert erase_for_sender(session, "person-b1") == 1
    with session_scope(db["factory"]) as session:
        assert session.execute(select(service.Note)).scalars().all() == []
        entries = session.execute(select(service.JournalEntry)).scalars().all()
        assert [e.action for e in entries] == ["note"] and "123" not in (entries[0].detail or "")
        assert session.get(Referral, rid) is None


def test_authenticate_request_for_other_blueprints(db):
    class FakeRequest:
        def __init__(self, cookies):
            self.cookies = cookies

    accounts.configure(db["factory"], clock=lambda: T0)
    try:
        with session_scope(db["factory"]) as session:
            coord = accounts.login(session, "coord@example.org", PASSWORD, now=T0).token
            mediator = accounts.login(session, "med-a@example.org", PASSWORD, now=T0).token
        found = accounts.authenticate_request(FakeRequest({accounts.COOKIE_NAME: coord}))
        assert found.email == "coord@example.org" and found.is_coordinator
        assert not accounts.authenticate_request(FakeRequest({accounts.COOKIE_NAME: mediator})).is_coordinator
        assert accounts.authenticate_request(FakeRequest({accounts.COOKIE_NAME: "forged"})) is None
        assert accounts.authenticate_request(FakeRequest({})) is None
        accounts.configure(clock=lambda: T0 + timedelta(hours=9))  # sessions last 8 hours
        assert accounts.authenticate_request(FakeRequest({accounts.COOKIE_NAME: coord})) is None
    finally:
        accounts._factory, accounts._clock = None, accounts._utcnow


def test_a_note_never_keeps_a_password_or_a_social_security_number(db):
    med_a = account(db["factory"], "med-a@example.org")
    with session_scope(db["factory"]) as session:
        note = service.add_note(session, med_a, db["referrals"]["a1"][0],
                                "Son mot de passe : Soleil2024! et NIR 1 84 12 76 451 089 46, à rappeler", T0)
        assert "Soleil2024" not in note.text and "451 089" not in note.text
        assert note.text.endswith("à rappeler")


def test_urgences_come_first_by_deadline_then_by_age_then_the_rest_newest_first(db):
    med_a = account(db["factory"], "med-a@example.org")
    made = {}
    with session_scope(db["factory"]) as session:
        for i, (key, level, deadline) in enumerate((
                ("late", "urgence", "2026-12-20"), ("none_old", "urgence", None), ("soon", "urgence", "2026-12-08"),
                ("none_new", "urgence", None), ("learn", "montee_en_competence", None),
                ("closed", "urgence", "2026-12-07"))):
            facts = {"organisme": "caf", "enjeu": "delai", **({"echeance": deadline} if deadline else {})}
            referral = create_referral(session, ReferralRequest(level=level, reasons=[], facts=facts,
                                                                place_id="lieu-a", channel="desk",
                                                                sender_id=f"order-{key}"),
                                       now=T0 + timedelta(hours=1 + i))
            made[referral.reference] = key
            if key == "closed":
                referral.status = service.STATUS_CLOSED
        order = [made.get(r.reference, r.reference) for r in service.list_referrals(session, med_a)]
    refs = db["referrals"]
    # the fixture's a1 is an urgence without a deadline, made before all of these
    assert order == ["soon", "late", refs["a1"][1], "none_old", "none_new",
                     "closed", "learn", refs["a2"][1]]


# --- issue 15, section 5: who closed, the places to hand over to, the place's notification ---------------

def test_a_closed_referral_names_who_closed_it_and_when_not_who_claimed_it(db):
    med_a, med_a2 = account(db["factory"], "med-a@example.org"), account(db["factory"], "med-a2@example.org")
    rid = db["referrals"]["a1"][0]
    with session_scope(db["factory"]) as session:
        service.claim(session, med_a, rid, now=T0 + timedelta(hours=1))
        view = service.open_referral(session, med_a, rid, now=T0 + timedelta(hours=1, minutes=1))
        assert view.closed_by is None  # claimed, not closed
        service.close(session, med_a2, rid, "fait", now=T0 + timedelta(hours=2))
    with session_scope(db["factory"]) as session:
        view = service.open_referral(session, med_a, rid, now=T0 + timedelta(hours=3))
        assert view.referral.claimed_by == med_a.id and view.closed_by == med_a2.id
        assert view.referral.closed_at == T0 + timedelta(hours=2)
        assert view.accounts[view.closed_by] == "med-a2@example.org"


def test_a_referral_closed_without_a_claim_names_its_closer(db):
    med_a = account(db["factory"], "med-a@example.org")
    rid = db["referrals"]["a2"][0]
    with session_scope(db["factory"]) as session:
        service.close(session, med_a, rid, "injoignable", now=T0 + timedelta(hours=2))
        assert service.open_referral(session, med_a, rid).closed_by == med_a.id


def mini_communes():
    from bot.directory.geo.communes import CommuneIndex
    from bot.directory.geo.reference import Commune

    return CommuneIndex([Commune("35238", "Rennes", ("35000",), 48.1113, -1.6800, "35", 220000),
                         Commune("35360", "Vitré", ("35500",), 48.1228, -1.2098, "35", 19000)],
                        {"35": "Ille-et-Vilaine", "22": "Côtes-d'Armor"})


def place_positions(session, positions: dict) -> None:
    from bot.directory.models import Place

    for pid, (lat, lon, approx, commune, postcode, insee) in positions.items():
        place = session.get(Place, pid)
        if place is None:
            place = Place(id=pid, pivot="00000000000000", nom=pid.capitalize(), adresse="x",
                          date_maj=T0.date())
            session.add(place)
        place.latitude, place.longitude, place.position_approx = lat, lon, approx
        place.commune, place.code_postal, place.code_insee = commune, postcode, insee
    session.flush()


def test_places_to_hand_over_to_come_nearest_first_with_their_departement(db):
    med_a = account(db["factory"], "med-a@example.org")
    rid = db["referrals"]["a1"][0]
    with session_scope(db["factory"]) as session:
        place_positions(session, {
            "lieu-a": (48.1113, -1.6800, False, "Rennes", "35000", "35238"),  # the referral's place
            "lieu-b": (48.1228, -1.2098, True, "Vitré", "35500", None),        # at its commune's centre
            "lieu-c": (48.1211, -1.6035, False, "Cesson-Sévigné", "35510", "35051"),
            "zebre": (None, None, False, "Dinan", "22100", "22050"),            # no position: last, by name
            "atelier": (None, None, False, None, None, None),
            "loin": (48.5140, -2.7650, False, "Saint-Brieuc", "22000", "22278"),
        })
        referral = session.get(Referral, rid)
        others = service.other_places(session, med_a, referral, communes=mini_communes())
    assert [p.id for p in others] == ["lieu-c", "lieu-b", "loin", "atelier", "zebre"]
    by_id = {p.id: p for p in others}
    assert by_id["lieu-c"].area == "Cesson-Sévigné, Ille-et-Vilaine (35)"
    assert by_id["lieu-c"].distance == "5,8" and not by_id["lieu-c"].approximate
    assert by_id["lieu-b"].area == "Vitré, Ille-et-Vilaine (35)"
    assert by_id["lieu-b"].distance == "environ 35"  # the place's position is its commune's
    assert by_id["loin"].area == "Saint-Brieuc, Côtes-d'Armor (22)"
    assert by_id["zebre"].distance == "" and by_id["zebre"].area == "Dinan, Côtes-d'Armor (22)"
    assert by_id["atelier"].area == ""


def test_without_a_position_for_the_place_distances_start_from_the_persons_commune(db):
    med_a = account(db["factory"], "med-a@example.org")
    rid = db["referrals"]["a1"][0]
    with session_scope(db["factory"]) as session:
        place_positions(session, {
            "lieu-a": (None, None, False, "Rennes", "35000", None),  # no position for the referral's place
            "lieu-b": (48.1228, -1.2098, False, "Vitré", "35500", "35360"),
            "lieu-c": (48.1211, -1.6035, False, "Cesson-Sévigné", "35510", "35051"),
        })
        referral = session.get(Referral, rid)
        referral.facts = dict(referral.facts, commune_insee="35360")  # the person lives in Vitré
        others = service.other_places(session, med_a, referral, communes=mini_communes())
        # Without the person's commune either: no distance, every place by name.
        referral.facts = {"organisme": "caf"}
        unplaced = service.other_places(session, med_a, referral, communes=mini_communes())
    assert [(p.id, p.distance) for p in others] == [("lieu-b", "environ 1"), ("lieu-c", "environ 29")]
    assert [(p.id, p.distance) for p in unplaced] == [("lieu-c", ""), ("lieu-b", "")]  # France…, Médiathèque…


def test_a_withdrawn_place_is_not_offered(db):
    from bot.directory.models import Place

    med_a = account(db["factory"], "med-a@example.org")
    with session_scope(db["factory"]) as session:
        session.get(Place, "lieu-c").withdrawn_at = T0
        referral = session.get(Referral, db["referrals"]["a1"][0])
        assert [p.id for p in service.other_places(session, med_a, referral, communes=mini_communes())] == ["lieu-b"]


def test_the_places_notification_state_sums_up_its_channels(db):
    from bot.handoff.notifications.outbox import OutboxMessage

    assert service.notification_state([]) is None
    assert service.notification_state(["envoye", "envoye"]) == "envoye"
    assert service.notification_state(["envoye", "en_attente"]) == "en_attente"
    assert service.notification_state(["envoye", "echec", "en_attente"]) == "echec"  # one way did not work
    refs = db["referrals"]
    with session_scope(db["factory"]) as session:
        for key, kind, status in (("a1", "email", "envoye"), ("a1", "webhook", "echec"), ("a2", "email", "en_attente")):
            rid, reference = refs[key]
            session.add(OutboxMessage(referral_id=rid, reference=reference, place_id="lieu-a", kind=kind,
                                      target="x", payload={}, status=status, attempts=1, next_attempt_at=T0,
                                      created_at=T0, updated_at=T0))
        session.flush()
        states = service.notification_states(session, [rid for rid, _ in refs.values()])
    assert states == {refs["a1"][0]: "echec", refs["a2"][0]: "en_attente"}  # b1: nothing was queued


def test_a_places_area_says_what_is_known_of_it():
    communes = mini_communes()
    assert service.place_area("Vitré", "35360", "35500", communes) == "Vitré, Ille-et-Vilaine (35)"
    assert service.place_area("Ajaccio", "2A004", None, communes) == "Ajaccio (2A)"  # no name for 2A here
    assert service.place_area(None, None, "35500", communes) == "Ille-et-Vilaine (35)"
    assert service.place_area("Quelque part", None, None, communes) == "Quelque part"
