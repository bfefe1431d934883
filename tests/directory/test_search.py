"""Nearest-place search: level filters, specific needs, radius, ranking, remote help, scale."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from bot.directory.areas import RemoteAreas
from bot.directory.importing.importer import import_places
from bot.directory.matching import LEVELS, bounding_box, haversine_km, matches_level
from bot.directory.models import Place
from bot.directory.search import Need, find_places, find_remote, places_within

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2024, 5, 2, 10, 0, tzinfo=PARIS)  # Thursday 10:00
HOME = (48.1106, -1.6796)  # Rennes, place de la République
MARSEILLE = (43.2965, 5.3698)
KM_LAT = 1 / 111.2  # degrees of latitude per km
KM_LON = 1 / (111.2 * 0.6671)  # degrees of longitude per km at 48.1°N

DEMARCHES = "Aide aux démarches administratives"
INDIVIDUEL = "Accompagnement individuel"
COLLECTIF = "Dans un atelier collectif"
DISTANCE = "À distance"



@pytest.fixture()
def session(factory):
    with factory() as s:
        yield s


def place(pid, north_km=0.0, east_km=0.0, **kw):
    values = dict(
        id=pid,
        pivot="123456789",
        nom=pid,
        commune="Rennes",
        code_postal="35000",
        adresse="1 rue test",
        latitude=HOME[0] + north_km * KM_LAT,
        longitude=HOME[1] + east_km * KM_LON,
        date_maj=date(2024, 3, 1),
        services=DEMARCHES,
        modalites_accompagnement=INDIVIDUEL,
        horaires="Mo-Fr 09:00-17:00",
    )
    values.update(kw)
    return Place(**values)


def ids(matches):
    return [m.place.id for m in matches]


def search(session, level="urgence", specific=(), **kw):
    kw.setdefault("now", NOW)
    kw.setdefault("departement", "35")  # the person is in Rennes
    return find_places(session, HOME[0], HOME[1], Need(level, frozenset(specific)), **kw)


def test_level_filters(session):
    session.add_all([
        place("demarches-individuel", 1),
        place("demarches-atelier", 1.2, modalites_accompagnement=COLLECTIF),
        place("outils-individuel", 1.4, services="Maîtrise des outils numériques du quotidien"),
        place("tout", 1.6, modalites_accompagnement=f"{INDIVIDUEL}|{COLLECTIF}"),
        place("sans-public", 0.5, modalites_acces="Ce lieu n'accueille pas de public"),
    ])
    session.flush()
    assert set(ids(search(session, "urgence", limit=10).matches)) == {"demarches-individuel", "tout"}
    assert (set(ids(search(session, "inclusion", limit=10).matches))
            == {"demarches-individuel", "outils-individuel", "tout"})
    assert set(ids(search(session, "montee_en_competence", limit=10).matches)) == {"demarches-atelier", "tout"}


def test_specific_needs_must_be_met(session):
    session.add_all([
        place("plain", 0.5),
        place("deaf", 3, prise_en_charge_specifique="Surdité"),
        place("deaf-langs", 4, prise_en_charge_specifique="Surdité|Langues étrangères (autres)"),
        place("english", 2, prise_en_charge_specifique="Langues étrangères (anglais)"),
    ])
    session.flush()
    assert set(ids(search(session, specific={"Surdité"}).matches)) == {"deaf", "deaf-langs"}
    assert ids(search(session, specific={"surdite", "Langues étrangères (autres)"}).matches) == ["deaf-langs"]
    # an unqualified "Langues étrangères" accepts either language variant
    assert set(ids(search(session, specific={"Langues étrangères"}).matches)) == {"english", "deaf-langs"}


def test_radius_and_places_without_coordinates(session):
    session.add_all([
        place("near", 5),
        place("edge-out", 0, 15.3),
        place("far", -40),
        place("nowhere", latitude=None, longitude=None),
    ])
    session.flush()
    result = search(session, radius_km=15, limit=10)
    assert ids(result.matches) == ["near"] and result.radius_km == 15
    assert result.matches[0].distance_km == pytest.approx(5, abs=0.1)
    assert set(ids(search(session, radius_km=50, limit=10).matches)) == {"near", "edge-out", "far"}


def test_empty_result_is_normal(session):
    session.add(place("far", 100))
    session.flush()
    result = search(session)
    assert result.matches == [] and result.empty


def test_urgence_prefers_open_soon_over_slightly_nearer(session):
    session.add_all([
        place("near-next-week", 1, horaires="Tu 09:00-12:00"),  # Thursday now -> Tuesday
        place("open-now", 4),
        place("opens-afternoon", 2, horaires="Th 14:00-17:00"),
    ])
    session.flush()
    assert ids(search(session).matches) == ["opens-afternoon", "open-now", "near-next-week"]
    # For learning, distance dominates: the nearest comes first despite the wait
    session.execute(
        Place.__table__.update().values(modalites_accompagnement=COLLECTIF,
                                        services="Maîtrise des outils numériques du quotidien")
    )
    session.expire_all()
    assert ids(search(session, "montee_en_competence").matches)[0] == "near-next-week"


def test_urgence_programmes_get_a_bonus(session):
    session.add_all([
        place("plain", 1),
        place("aidants-connect", 3, dispositif_programmes_nationaux="Aidants Connect"),
        place("france-services", 3.5, dispositif_programmes_nationaux="France Services|Aidants Connect"),
    ])
    session.flush()
    assert ids(search(session).matches) == ["france-services", "aidants-connect", "plain"]
    # Not for workshops: the programme is irrelevant there
    assert ids(search(session, "inclusion").matches)[0] == "plain"


def test_programme_place_beyond_several_nearer_ones_is_still_found(session):
    session.add_all([place(f"plain-{i}", 1 + i * 0.1) for i in range(5)])
    session.add(place("france-services", 2.5, dispositif_programmes_nationaux="France Services|Aidants Connect"))
    session.flush()
    assert ids(search(session, limit=3).matches)[0] == "france-services"


def test_match_reports_opening_and_limit(session):
    session.add_all([place(f"p{i}", i * 0.5) for i in range(1, 6)] + [place("closed", 0.1, horaires="Sa 10:00-12:00")])
    session.flush()
    result = search(session, limit=3)
    assert len(result.matches) == 3
    first = result.matches[0]
    assert first.open_now is True and first.next_opening == NOW
    closed = [m for m in search(session, limit=10).matches if m.place.id == "closed"][0]
    assert closed.open_now is False and closed.next_opening == datetime(2024, 5, 4, 10, 0, tzinfo=PARIS)


def test_stale_hours_flag(session):
    session.add_all([
        place("fresh", 1, date_maj=date(2023, 6, 1)),
        place("stale", 2, date_maj=date(2023, 4, 1)),
        place("bad-hours", 3, horaires="sur rendez-vous"),
    ])
    session.flush()
    by_id = {m.place.id: m for m in search(session).matches}
    assert by_id["fresh"].hours_stale is False and by_id["stale"].hours_stale is True
    assert by_id["bad-hours"].open_now is None and by_id["bad-hours"].next_opening is None


def test_remote_list(session):
    session.add_all([
        place("local", 1),
        place("helpline", 500, modalites_accompagnement=DISTANCE, modalites_acces="Ce lieu n'accueille pas de public"),
        place("helpline-nocoord", latitude=None, longitude=None, modalites_accompagnement=DISTANCE),
        place("remote-workshops", 20, services="Loisirs et créations numériques", modalites_accompagnement=DISTANCE),
        place("both", 2, modalites_accompagnement=f"{INDIVIDUEL}|{DISTANCE}"),
        place("remote-deaf", 300, modalites_accompagnement=DISTANCE, prise_en_charge_specifique="Surdité"),
    ])
    session.flush()
    urgence = search(session)
    # the remote-only place is never an in-person match, whatever the distance
    assert "helpline" not in ids(search(session, radius_km=1000, limit=10).matches)
    assert set(ids(urgence.matches)) == {"local", "both"}
    # remote help matches the level (démarches for an urgence), excludes places already listed,
    # nearest first, places without coordinates last
    assert ids(urgence.remote) == ["remote-deaf", "helpline", "helpline-nocoord"]
    assert urgence.remote[2].distance_km is None
    assert "remote-workshops" in ids(search(session, "montee_en_competence", limit=10).remote)
    assert ids(search(session, specific={"Surdité"}).remote) == ["remote-deaf"]


def test_bounding_box_across_greenwich_and_antimeridian(session):
    session.add_all([
        place("west-of-greenwich", latitude=49.49, longitude=-0.05),
        place("east-of-greenwich", latitude=49.49, longitude=0.05),
        place("east-of-180", latitude=-16.5, longitude=179.95),
        place("west-of-180", latitude=-16.5, longitude=-179.95),
    ])
    session.flush()
    need = Need("urgence")
    near_greenwich = find_places(session, 49.49, 0.0, need, radius_km=10, now=NOW, limit=10)
    assert set(ids(near_greenwich.matches)) == {"west-of-greenwich", "east-of-greenwich"}
    across = find_places(session, -16.5, -179.99, need, radius_km=20, now=NOW, limit=10)
    assert set(ids(across.matches)) == {"east-of-180", "west-of-180"}
    min_lat, max_lat, ranges = bounding_box(-16.5, -179.99, 20)
    assert len(ranges) == 2


def test_unknown_level_is_rejected():
    with pytest.raises(ValueError):
        Need("urgent")


def test_bbox_prefilter_matches_naive_scan_on_20000_places(session):
    rng = random.Random(42)
    services = [DEMARCHES, "Maîtrise des outils numériques du quotidien",
                f"{DEMARCHES}|Loisirs et créations numériques"]
    modalites = [INDIVIDUEL, COLLECTIF, f"{INDIVIDUEL}|{COLLECTIF}", DISTANCE, "En autonomie"]
    rows = []
    for i in range(20000):
        if i % 4 == 0:  # a dense cluster around Rennes
            lat, lon = HOME[0] + rng.uniform(-0.4, 0.4), HOME[1] + rng.uniform(-0.6, 0.6)
        else:  # metropolitan France and overseas-like spots
            lat, lon = rng.uniform(41.3, 51.1), rng.uniform(-5.2, 9.6)
        rows.append(dict(
            id=f"p{i:05d}", pivot="123456789", nom=f"Lieu {i}", commune="X", code_postal="00000", adresse="-",
            latitude=lat, longitude=lon, date_maj=rng.choice([date(2024, 1, 1), date(2022, 6, 1)]), is_demo=False,
            dispositif_programmes_nationaux=rng.choice(["", "", "Aidants Connect", "France Services|Aidants Connect"]),
            services=rng.choice(services), modalites_accompagnement=rng.choice(modalites),
            horaires=rng.choice(["Mo-Fr 09:00-12:00", "Sa 10:00-12:00", "", "We 14:00-18:00"]),
            prise_en_charge_specifique=rng.choice(["", "", "Surdité", "Illettrisme|Surdité"]),
        ))
    session.execute(insert(Place.__table__), rows)
    session.flush()

    for center in [HOME, (43.6, 1.44), (50.9, 2.5), (45.0, -0.0)]:
        distances = [(r["id"], haversine_km(center[0], center[1], r["latitude"], r["longitude"])) for r in rows]
        for radius in (3.0, 15.0, 40.0):
            naive = {pid for pid, d in distances if d <= radius}
            got = {p.id for p, _ in places_within(session, center[0], center[1], radius)}
            assert got == naive, (center, radius)

    nearby = [Place(**r) for r in rows if haversine_km(HOME[0], HOME[1], r["latitude"], r["longitude"]) <= 10]
    for level in LEVELS:
        result = find_places(session, HOME[0], HOME[1], Need(level, frozenset({"Surdité"})), radius_km=10, now=NOW,
                             limit=100000)
        expected = {p.id for p in nearby if matches_level(p, level) and "Surdité" in p.prise_en_charge_list}
        assert expected and {m.place.id for m in result.matches} == expected
        scores = [m.score for m in result.matches]
        assert scores == sorted(scores)
        # the early stop used for a short list gives the same top places as a full ranking
        top = find_places(session, HOME[0], HOME[1], Need(level, frozenset({"Surdité"})), radius_km=10, now=NOW,
                          limit=3)
        assert ids(top.matches) == ids(result.matches[:3])
        assert all(isinstance(m.place, Place) for m in top.matches + top.remote)


def test_demo_directory_scenarios(factory, session):
    demo = Path(__file__).resolve().parents[2] / "bot" / "directory" / "data" / "demo-rennes.csv"
    assert import_places(factory, demo, demo=True).errors == []
    now = datetime(2026, 11, 26, 10, 0, tzinfo=PARIS)  # a Thursday morning
    blosne = (48.0870, -1.6600)

    urgence = find_places(session, *blosne, Need("urgence"), now=now, departement="35")
    assert urgence.matches[0].place.id == "demo-rennes-blosne-zagreb"
    assert all("Aide aux démarches administratives" in m.place.services_list for m in urgence.matches)
    assert "demo-allo-numerique-35" in ids(urgence.remote)
    inclusion = find_places(session, *blosne, Need("inclusion"), radius_km=30, limit=50, now=now)
    assert "demo-allo-numerique-35" not in ids(inclusion.matches)

    deaf = find_places(session, *blosne, Need("urgence", frozenset({"Surdité"})), now=now)
    assert set(ids(deaf.matches)) == {"demo-rennes-centre-signes-et-clics", "demo-saint-jacques-pole-social"}

    vitre = (48.1236, -1.2095)
    assert find_places(session, *vitre, Need("montee_en_competence"), now=now).matches == []
    assert ids(find_places(session, *vitre, Need("urgence"), now=now).matches) == ["demo-vitre-france-services"]

    # Marseille: nothing in person, and none of the remote places of Ille-et-Vilaine (Vitré is 741 km away)
    marseille = find_places(session, *MARSEILLE, Need("urgence"), radius_km=50, now=now, departement="13")
    assert marseille.matches == [] and marseille.remote == []
    assert find_remote(session, Need("urgence"), latitude=MARSEILLE[0], longitude=MARSEILLE[1], departement="13",
                       now=now) == []
    assert find_remote(session, Need("inclusion"), now=now) == []  # département unknown: nothing is national


def remote_place(pid, latitude, longitude, code_postal, code_insee=None, **kw):
    return place(pid, latitude=latitude, longitude=longitude, code_postal=code_postal, code_insee=code_insee,
                 modalites_accompagnement=kw.pop("modalites_accompagnement", DISTANCE), **kw)


def remote_ids(session, departement, where=MARSEILLE, remote_areas=RemoteAreas(), level="urgence"):
    latitude, longitude = where if where else (None, None)
    in_search = find_places(session, *(where or MARSEILLE), Need(level), now=NOW, departement=departement,
                            remote_areas=remote_areas).remote if where else None
    alone = find_remote(session, Need(level), latitude=latitude, longitude=longitude, departement=departement,
                        remote_areas=remote_areas, now=NOW)
    if in_search is not None:
        assert ids(in_search) == ids(alone)
    return ids(alone)


def test_a_remote_place_serves_its_own_departement(session):
    session.add_all([
        # Vitré (Ille-et-Vilaine), in person and remote: 741 km from Marseille
        remote_place("vitre", 48.1236, -1.2095, "35500", "35360",
                     modalites_accompagnement=f"{INDIVIDUEL}|{DISTANCE}"),
        # Arles (Bouches-du-Rhône), remote only, 75 km from Marseille
        remote_place("arles", 43.6766, 4.6278, "13200", "13004"),
        # Avignon (Vaucluse), remote only, 85 km from Marseille: nearer than many places of the 13, another département
        remote_place("avignon", 43.9493, 4.8055, "84000", "84007"),
        # no INSEE code: the postcode tells the département
        remote_place("aix-no-insee", 43.5297, 5.4474, "13100"),
        remote_place("ajaccio", 41.9192, 8.7386, "20000", None),
    ])
    session.flush()
    assert remote_ids(session, "13") == ["aix-no-insee", "arles"]
    assert remote_ids(session, "35", where=HOME) == ["vitre"]
    assert remote_ids(session, "84") == ["avignon"]
    assert remote_ids(session, "2A") == ["ajaccio"]
    assert remote_ids(session, "2B") == []
    assert remote_ids(session, "13", where=None) == ["aix-no-insee", "arles"]  # no position: by bonus, then id
    assert remote_ids(session, None) == []  # département unknown: only places serving the whole country


def test_a_remote_place_flagged_national_or_regional_is_offered_there(session):
    session.add_all([
        remote_place("vitre", 48.1236, -1.2095, "35500", "35360"),
        remote_place("allo-france", 48.8566, 2.3522, "75001", "75101"),
        remote_place("allo-bretagne", 48.3904, -4.4861, "29200", "29019"),
        remote_place("allo-nocoord", None, None, "75001", "75101"),
    ])
    session.flush()
    areas = RemoteAreas.parse("allo-france=france; allo-nocoord=france; allo-bretagne=bretagne; vitre=56")
    assert remote_ids(session, "13") == []
    assert remote_ids(session, "13", remote_areas=areas) == ["allo-france", "allo-nocoord"]
    assert remote_ids(session, None, where=None, remote_areas=areas) == ["allo-france", "allo-nocoord"]
    assert remote_ids(session, "22", where=HOME, remote_areas=areas) == ["allo-bretagne", "allo-france",
                                                                          "allo-nocoord"]
    assert remote_ids(session, "56", where=HOME, remote_areas=areas) == ["vitre", "allo-bretagne", "allo-france"]
    assert "vitre" not in remote_ids(session, "22", where=HOME, remote_areas=areas)
