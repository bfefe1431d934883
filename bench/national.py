"""A deterministic, national-size directory in the standard "lieux de médiation numérique".

Places are spread like the population: communes of the reference (bot/directory/geo/reference.py) are
drawn with a probability proportional to their population, and each place is jittered inside
its commune (a wider disc for bigger towns). The mix of structures (France Services, libraries,
social centres, associations...) and of services, programmes, hours and freshness is a rough
imitation of the national export, so that search filters and scoring do realistic work.

Everything is fictitious except communes, postcodes, INSEE codes and approximate coordinates:
ids start with `bench-`, pivots with `BENCH`, e-mails and websites use `.example`, phone numbers
are in ARCEP's fiction ranges. Same seed and size, same file, byte for byte.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot.directory.areas import departement_of_insee
from bot.directory.models import (
    MODALITE_AUTONOMIE,
    MODALITE_COLLECTIF,
    MODALITE_DISTANCE,
    MODALITE_INDIVIDUEL,
    MULTI_SEPARATOR,
    PROGRAMME_AIDANTS_CONNECT,
    PROGRAMME_CONSEILLERS,
    PROGRAMME_FRANCE_SERVICES,
    SERVICE_DEMARCHES,
    STANDARD_FIELDS,
)

DEFAULT_PLACES = 20_000
DEFAULT_SEED = 20261124
# Fixed "today" of the generated file (date_maj is drawn before it); the search bench evaluates
# hours and staleness at this date too, so results do not depend on the day the bench runs.
REFERENCE_DATE = date(2026, 11, 24)
SOURCE = "Bench Aiguillage (données générées)"

KM_PER_DEGREE = 111.2

# --- Vocabulary shortcuts ----------------------------------------------------------------------

S_OUTILS = "Maîtrise des outils numériques du quotidien"
S_INSERTION = "Insertion professionnelle via le numérique"
S_SECURITE = "Utilisation sécurisée du numérique"
S_PARENTALITE = "Parentalité et éducation avec le numérique"
S_LOISIRS = "Loisirs et créations numériques"
S_MONDE = "Compréhension du monde numérique"
S_ACCES = "Accès internet et matériel informatique"
S_MATERIEL = "Acquisition de matériel informatique à prix solidaire"

A_PRESENTER = "Se présenter"
A_TELEPHONER = "Téléphoner"
A_MAIL = "Contacter par mail"
A_RDV = "Prendre un RDV en ligne"
A_PAS_DE_PUBLIC = "Ce lieu n'accueille pas de public"


@dataclass(frozen=True)
class Profile:
    """One kind of structure and the odds of each value (probabilities are independent draws)."""

    typologie: str
    weight: float  # share of the directory
    names: Tuple[str, ...]  # "{commune}" is replaced by the commune's name
    services: Dict[str, float]
    modalites: Dict[str, float]
    programmes: Dict[str, float]
    acces: Dict[str, float]
    hours: str  # key of HOURS
    remote: float  # probability of also offering "À distance"


# Shares are close to the national export's mix: many associations, libraries and social
# centres, about one place in seven a France Services.
PROFILES: Tuple[Profile, ...] = (
    Profile(
        "RFS", 0.14, ("France Services {commune}", "Espace France Services de {commune}"),
        {SERVICE_DEMARCHES: 1.0, S_ACCES: 0.8, S_OUTILS: 0.4, S_SECURITE: 0.15},
        {MODALITE_INDIVIDUEL: 1.0, MODALITE_AUTONOMIE: 0.7, MODALITE_COLLECTIF: 0.15},
        {PROGRAMME_FRANCE_SERVICES: 1.0, PROGRAMME_AIDANTS_CONNECT: 0.6, PROGRAMME_CONSEILLERS: 0.35},
        {A_PRESENTER: 1.0, A_TELEPHONER: 0.8, A_RDV: 0.4},
        "office", 0.25,
    ),
    Profile(
        "MUNI", 0.11, ("Mairie de {commune} – espace numérique", "Point numérique de {commune}"),
        {SERVICE_DEMARCHES: 0.8, S_OUTILS: 0.6, S_ACCES: 0.6},
        {MODALITE_INDIVIDUEL: 0.8, MODALITE_AUTONOMIE: 0.5, MODALITE_COLLECTIF: 0.3},
        {PROGRAMME_CONSEILLERS: 0.45, PROGRAMME_AIDANTS_CONNECT: 0.25},
        {A_PRESENTER: 1.0, A_TELEPHONER: 0.6},
        "office", 0.1,
    ),
    Profile(
        "CCAS", 0.06, ("CCAS de {commune}", "Centre communal d'action sociale de {commune}"),
        {SERVICE_DEMARCHES: 1.0, S_OUTILS: 0.4},
        {MODALITE_INDIVIDUEL: 1.0, MODALITE_AUTONOMIE: 0.2},
        {PROGRAMME_AIDANTS_CONNECT: 0.55, PROGRAMME_CONSEILLERS: 0.2},
        {A_PRESENTER: 0.8, A_TELEPHONER: 0.9, A_RDV: 0.2},
        "office", 0.15,
    ),
    Profile(
        "BIB", 0.14, ("Médiathèque de {commune}", "Bibliothèque municipale de {commune} – espace multimédia"),
        {S_OUTILS: 0.9, S_LOISIRS: 0.7, S_MONDE: 0.5, S_ACCES: 0.9, S_SECURITE: 0.3, SERVICE_DEMARCHES: 0.2},
        {MODALITE_COLLECTIF: 0.9, MODALITE_AUTONOMIE: 0.8, MODALITE_INDIVIDUEL: 0.35},
        {PROGRAMME_CONSEILLERS: 0.4, "Certification PIX": 0.15, "Bibliothèques numérique de référence": 0.05},
        {A_PRESENTER: 1.0, A_TELEPHONER: 0.4},
        "library", 0.05,
    ),
    Profile(
        "CS", 0.12, ("Centre social de {commune}", "Espace de vie sociale {commune}"),
        {SERVICE_DEMARCHES: 0.85, S_OUTILS: 0.8, S_PARENTALITE: 0.3, S_INSERTION: 0.2},
        {MODALITE_INDIVIDUEL: 0.9, MODALITE_COLLECTIF: 0.6, MODALITE_AUTONOMIE: 0.3},
        {PROGRAMME_CONSEILLERS: 0.45, PROGRAMME_AIDANTS_CONNECT: 0.3, "Point d'accès numérique CAF": 0.2},
        {A_PRESENTER: 1.0, A_TELEPHONER: 0.7},
        "office", 0.15,
    ),
    Profile(
        "ASSO", 0.20, ("Association Clic & Lien {commune}", "Les Connectés de {commune}",
                       "Numérique pour tous {commune}", "Entraide numérique {commune}"),
        {S_OUTILS: 0.8, SERVICE_DEMARCHES: 0.5, S_SECURITE: 0.3, S_INSERTION: 0.2, S_MATERIEL: 0.1},
        {MODALITE_INDIVIDUEL: 0.75, MODALITE_COLLECTIF: 0.5, MODALITE_AUTONOMIE: 0.1},
        {PROGRAMME_CONSEILLERS: 0.3, PROGRAMME_AIDANTS_CONNECT: 0.1, "Emmaüs Connect": 0.04,
         "La Croix Rouge": 0.03, "Promeneurs du net": 0.03},
        {A_PRESENTER: 0.7, A_TELEPHONER: 0.7, A_MAIL: 0.4},
        "volunteer", 0.25,
    ),
    Profile(
        "TIERS_LIEUX", 0.05, ("Tiers-lieu numérique de {commune}", "Fablab {commune}"),
        {S_LOISIRS: 0.8, S_MONDE: 0.6, S_INSERTION: 0.4, S_OUTILS: 0.3},
        {MODALITE_COLLECTIF: 0.9, MODALITE_AUTONOMIE: 0.6, MODALITE_INDIVIDUEL: 0.2},
        {PROGRAMME_CONSEILLERS: 0.25, "Grande école du numérique": 0.05},
        {A_PRESENTER: 1.0, A_MAIL: 0.5},
        "library", 0.1,
    ),
    Profile(
        "MQ", 0.05, ("Maison de quartier de {commune}", "Maison pour tous {commune}"),
        {S_OUTILS: 0.8, SERVICE_DEMARCHES: 0.6, S_PARENTALITE: 0.3},
        {MODALITE_INDIVIDUEL: 0.7, MODALITE_COLLECTIF: 0.6},
        {PROGRAMME_CONSEILLERS: 0.5},
        {A_PRESENTER: 1.0, A_TELEPHONER: 0.5},
        "volunteer", 0.05,
    ),
    Profile(
        "CAF", 0.04, ("Point numérique CAF de {commune}",),
        {SERVICE_DEMARCHES: 1.0, S_ACCES: 0.7},
        {MODALITE_AUTONOMIE: 1.0, MODALITE_INDIVIDUEL: 0.5},
        {"Point d'accès numérique CAF": 1.0},
        {A_PRESENTER: 1.0, A_RDV: 0.3},
        "office", 0.05,
    ),
    Profile(
        "EPCI", 0.05, ("Communauté de communes – conseiller numérique ({commune})",
                       "Bus numérique de {commune}"),
        {S_OUTILS: 0.9, SERVICE_DEMARCHES: 0.6, S_SECURITE: 0.3},
        {MODALITE_INDIVIDUEL: 0.8, MODALITE_COLLECTIF: 0.6},
        {PROGRAMME_CONSEILLERS: 0.8, PROGRAMME_AIDANTS_CONNECT: 0.2},
        {A_TELEPHONER: 0.9, A_RDV: 0.4, A_MAIL: 0.3},
        "roaming", 0.2,
    ),
    Profile(
        "MDS", 0.04, ("Maison départementale des solidarités – {commune}",),
        {SERVICE_DEMARCHES: 1.0, S_INSERTION: 0.3},
        {MODALITE_INDIVIDUEL: 1.0},
        {PROGRAMME_CONSEILLERS: 0.3, PROGRAMME_AIDANTS_CONNECT: 0.4},
        {A_TELEPHONER: 1.0, A_PRESENTER: 0.5},
        "office", 0.1,
    ),
)

# OSM opening hours by style; "" is unknown hours, the free-text one is unreadable on purpose
# (hand-written data), both are evaluated as "unknown" by the search.
HOURS: Dict[str, Tuple[Tuple[str, float], ...]] = {
    "office": (
        ("Mo-Fr 09:00-12:00,14:00-17:00; PH off", 0.35),
        ("Mo-Fr 08:30-12:30,13:30-17:00; PH off", 0.2),
        ("Mo-Th 09:00-12:00,13:30-17:00; Fr 09:00-12:00; PH off", 0.15),
        ("Mo,Tu,Th 09:00-12:00; We 14:00-17:00", 0.1),
        ('Tu,Th 09:00-12:00 "sur rendez-vous"', 0.08),
        ("Mo-Fr 09:00-12:30,13:30-17:30; Sa 09:00-12:00; PH off", 0.07),
        ("", 0.04),
        ("Sur rendez-vous uniquement", 0.01),
    ),
    "library": (
        ("Tu-Fr 13:00-18:00; Sa 10:00-17:00; PH off", 0.35),
        ("Tu 15:00-19:00; We 10:00-18:00; Fr 15:00-18:00; Sa 10:00-17:00", 0.25),
        ("We 14:00-18:00; Sa 10:00-12:00,14:00-17:00", 0.2),
        ("Tu-Sa 10:00-18:00", 0.12),
        ("", 0.08),
    ),
    "volunteer": (
        ("Mo,We,Fr 14:00-17:30", 0.2),
        ("Tu,Th 09:30-12:00", 0.2),
        ("We 14:00-17:00; Sa 09:30-12:00", 0.2),
        ("Sa 09:30-12:30", 0.1),
        ('Mo 14:00-17:00 "sur rendez-vous"', 0.1),
        ("", 0.17),
        ("Sur rendez-vous uniquement", 0.03),
    ),
    "roaming": (
        ('We 09:30-12:30 "selon le planning des communes"', 0.35),
        ("Tu,Th 09:00-12:30; Sa 09:30-12:00", 0.3),
        ("Mo-Fr 09:00-12:00", 0.2),
        ("", 0.15),
    ),
}

PRISES_EN_CHARGE = (
    ("Surdité", 0.03),
    ("Handicaps moteurs", 0.05),
    ("Handicaps mentaux", 0.02),
    ("Illettrisme", 0.05),
    ("Langues étrangères (anglais)", 0.04),
    ("Langues étrangères (autres)", 0.03),
    ("Déficience visuelle", 0.02),
)
PUBLICS = (("Seniors", 0.12), ("Jeunes", 0.08), ("Familles et/ou enfants", 0.06), ("Étudiants", 0.03),
           ("Femmes", 0.02))
FRAIS = (("Gratuit", 0.88), ("Gratuit sous condition", 0.07), ("Payant", 0.05))
LABELS = (("Formé à « Mon Espace Santé »", 0.06), ("Étapes numériques(La Poste)", 0.02),
          ("Fabriques de Territoire", 0.02), ("Formé à « DUPLEX » (illettrisme)", 0.01))
STREETS = ("rue de la Mairie", "place de l'Église", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur",
           "rue de la République", "place du Marché", "rue des Écoles", "allée des Tilleuls",
           "rue du Général de Gaulle", "rue Jules Ferry", "place de la Libération", "chemin des Vignes")
RESUMES = {
    SERVICE_DEMARCHES: "Aide pour vos démarches en ligne (CAF, impôts, retraite, ANTS), avec ou sans rendez-vous.",
    MODALITE_COLLECTIF: "Ateliers en petit groupe pour prendre en main ordinateur, smartphone et courriel.",
    "": "Accès libre à des ordinateurs et à internet, avec un médiateur pour vous guider.",
}
# ARCEP numbers reserved for fiction, by zone (last four digits are free).
FICTION_PHONES = {"01": "+3319900", "02": "+3326191", "03": "+3335301", "04": "+3346571", "05": "+3353649",
                  "06": "+3363998"}
ILE_DE_FRANCE = {"75", "77", "78", "91", "92", "93", "94", "95"}


@dataclass
class GeneratedDirectory:
    path: Path
    places: int
    seed: int
    bytes: int
    communes: int  # distinct communes that received at least one place
    departements: Counter = field(default_factory=Counter)


# --- Population-weighted sampling ---------------------------------------------------------------


class PopulationSampler:
    """Draws communes with probability proportional to population, and points around them."""

    def __init__(self, communes: Optional[Sequence] = None):
        if communes is None:
            from bot.directory.geo.communes import default_index

            communes = list(default_index())
        # Sorted by INSEE code so that the draw does not depend on the index's internal order.
        self.communes = sorted((c for c in communes if c.population > 0), key=lambda c: c.insee)
        self._cumulative = list(itertools.accumulate(c.population for c in self.communes))

    def commune(self, rng: random.Random):
        return self.communes[bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])]

    @staticmethod
    def spread_km(population: int) -> float:
        """Radius of the disc a place is jittered in: ~0.5 km in a village, ~7 km in Paris."""
        return min(7.0, 0.3 + 0.0045 * math.sqrt(population))

    def point(self, rng: random.Random, commune=None) -> Tuple[object, float, float]:
        """(commune, latitude, longitude) drawn uniformly in the commune's disc."""
        commune = commune or self.commune(rng)
        radius = self.spread_km(commune.population) * math.sqrt(rng.random())
        angle = rng.random() * 2 * math.pi
        lat = commune.latitude + radius * math.cos(angle) / KM_PER_DEGREE
        lon = commune.longitude + radius * math.sin(angle) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
        return commune, round(lat, 5), round(lon, 5)


def sample_points(count: int, seed: int, sampler: Optional[PopulationSampler] = None) -> List[Tuple[float, float]]:
    """`count` population-weighted (latitude, longitude) points, e.g. where people search from."""
    sampler = sampler or PopulationSampler()
    rng = random.Random(seed)
    return [sampler.point(rng)[1:] for _ in range(count)]


# --- Rows ---------------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: Sequence[Tuple[str, float]]) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights)[0]


def _some(rng: random.Random, odds) -> List[str]:
    items = odds.items() if isinstance(odds, dict) else odds
    return [value for value, p in items if rng.random() < p]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _phone_zone(departement: str, longitude: float, latitude: float) -> str:
    if departement.startswith(("97", "98")):
        return "06"
    if departement in ILE_DE_FRANCE:
        return "01"
    if latitude > 46.5:
        return "02" if longitude < 1.5 else "03"
    return "05" if longitude < 3.0 else "04"


def make_row(index: int, rng: random.Random, sampler: PopulationSampler) -> Dict[str, str]:
    """One place of the standard, as CSV text values."""
    profile = rng.choices(PROFILES, weights=[p.weight for p in PROFILES])[0]
    commune, lat, lon = sampler.point(rng)
    name = rng.choice(profile.names).format(commune=commune.name)
    slug = f"{_slug(name)[:40].strip('-')}-{index}"

    services = _some(rng, profile.services) or [next(iter(profile.services))]
    modalites = _some(rng, profile.modalites) or [next(iter(profile.modalites))]
    acces = _some(rng, profile.acces) or [next(iter(profile.acces))]
    if rng.random() < profile.remote:
        modalites.append(MODALITE_DISTANCE)
        if rng.random() < 0.05:  # a helpline: remote only, no reception
            modalites, acces = [MODALITE_DISTANCE], [A_PAS_DE_PUBLIC, A_TELEPHONER]
    programmes = _some(rng, profile.programmes)
    roaming = profile.hours == "roaming" and rng.random() < 0.4
    key = SERVICE_DEMARCHES if SERVICE_DEMARCHES in services else (
        MODALITE_COLLECTIF if MODALITE_COLLECTIF in modalites else "")
    # Skewed towards recent updates; about a third are older than a year (hours to confirm).
    age_days = int(rng.triangular(0, 900, 0))
    phone = "" if rng.random() < 0.1 else (
        FICTION_PHONES[_phone_zone(commune.departement, lon, lat)] + f"{rng.randrange(10_000):04d}")

    row = dict.fromkeys(STANDARD_FIELDS, "")
    row.update(
        id=f"bench-{index:06d}",
        pivot=f"BENCH{index:09d}",
        nom=name,
        commune=commune.name,
        code_postal=rng.choice(commune.postcodes),
        code_insee=commune.insee,
        adresse=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        latitude=f"{lat:.5f}",
        longitude=f"{lon:.5f}",
        typologie=profile.typologie,
        telephone=phone,
        courriels=f"contact@{slug}.example" if rng.random() < 0.8 else "",
        site_web=f"https://{slug}.example/" if rng.random() < 0.5 else "",
        horaires=_pick(rng, HOURS[profile.hours]),
        presentation_resume=RESUMES[key],
        source=SOURCE,
        itinerance="Itinérant" if roaming else "Fixe",
        date_maj=(REFERENCE_DATE - timedelta(days=age_days)).isoformat(),
        services=MULTI_SEPARATOR.join(services),
        publics_specifiquement_adresses=MULTI_SEPARATOR.join(_some(rng, PUBLICS)),
        prise_en_charge_specifique=MULTI_SEPARATOR.join(_some(rng, PRISES_EN_CHARGE)),
        frais_a_charge=_pick(rng, FRAIS),
        dispositif_programmes_nationaux=MULTI_SEPARATOR.join(programmes),
        formations_labels=MULTI_SEPARATOR.join(_some(rng, LABELS)),
        modalites_acces=MULTI_SEPARATOR.join(acces),
        modalites_accompagnement=MULTI_SEPARATOR.join(modalites),
        prise_rdv=f"https://rdv.{slug}.example/" if A_RDV in acces else "",
    )
    return row


def generate_directory(path, places: int = DEFAULT_PLACES, seed: int = DEFAULT_SEED,
                       sampler: Optional[PopulationSampler] = None) -> GeneratedDirectory:
    """Write a CSV of `places` generated places to `path` (same seed and size: same bytes)."""
    path = Path(path)
    sampler = sampler or PopulationSampler()
    rng = random.Random(seed)
    departements: Counter = Counter()
    communes = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=STANDARD_FIELDS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for index in range(1, places + 1):
            row = make_row(index, rng, sampler)
            writer.writerow(row)
            communes.add(row["code_insee"])
            departements[departement_of_insee(row["code_insee"])] += 1
    return GeneratedDirectory(path=path, places=places, seed=seed, bytes=path.stat().st_size,
                              communes=len(communes), departements=departements)
