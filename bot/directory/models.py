"""Places of digital mediation, stored as in the national standard "lieux de médiation numérique".

The controlled vocabularies below are the standard's own values (schema v1.0.2). They live here,
not in a file read at run time, so the bot never depends on the shared reference folder.
Multi-valued fields are kept as the standard's `|`-joined text; `*_list` properties split them.
"""

from __future__ import annotations

import uuid
import weakref
from datetime import date
from typing import List, Optional, Union

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    event,
    false,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from bot.core.db import Base
from bot.core.retention_policy import keep

MULTI_SEPARATOR = "|"

# --- Controlled vocabularies of the standard (canonical spelling = the schema's patterns) ---

SERVICE_DEMARCHES = "Aide aux démarches administratives"
SERVICES = (
    SERVICE_DEMARCHES,
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)

MODALITE_AUTONOMIE = "En autonomie"
MODALITE_INDIVIDUEL = "Accompagnement individuel"
MODALITE_COLLECTIF = "Dans un atelier collectif"
MODALITE_DISTANCE = "À distance"
MODALITES_ACCOMPAGNEMENT = (MODALITE_AUTONOMIE, MODALITE_INDIVIDUEL, MODALITE_COLLECTIF, MODALITE_DISTANCE)

ACCES_PAS_DE_PUBLIC = "Ce lieu n'accueille pas de public"
MODALITES_ACCES = (
    "Se présenter",
    "Téléphoner",
    "Contacter par mail",
    "Prendre un RDV en ligne",
    ACCES_PAS_DE_PUBLIC,
    "Envoyer un mail avec une fiche de prescription",
)

PUBLICS = ("Jeunes", "Étudiants", "Familles et/ou enfants", "Seniors", "Femmes")

PRISES_EN_CHARGE = (
    "Surdité",
    "Handicaps moteurs",
    "Handicaps mentaux",
    "Illettrisme",
    "Langues étrangères (anglais)",
    "Langues étrangères (autres)",
    "Déficience visuelle",
)

FRAIS = ("Gratuit", "Gratuit sous condition", "Payant")

PROGRAMME_AIDANTS_CONNECT = "Aidants Connect"
PROGRAMME_FRANCE_SERVICES = "France Services"
PROGRAMME_CONSEILLERS = "Conseillers numériques"
DISPOSITIFS = (
    PROGRAMME_AIDANTS_CONNECT,
    "Bibliothèques numérique de référence",
    "Certification PIX",
    PROGRAMME_CONSEILLERS,
    "Emmaüs Connect",
    PROGRAMME_FRANCE_SERVICES,
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
)

# The schema's pattern writes "Étapes numériques(La Poste)" without a space; we keep its spelling
# so that a re-export validates, and the importer also accepts the spaced form.
FORMATIONS_LABELS = (
    "Formé à « Mon Espace Santé »",
    "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)",
    "Étapes numériques(La Poste)",
    "Fabriques de Territoire",
    "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)",
    "ORDI 3.0",
    "SUD LABS (PACA)",
)

ITINERANCE = ("Itinérant", "Fixe")

# field name -> allowed values, for every enumerated multi-valued field of the standard
ENUMERATIONS = {
    "services": SERVICES,
    "modalites_accompagnement": MODALITES_ACCOMPAGNEMENT,
    "modalites_acces": MODALITES_ACCES,
    "publics_specifiquement_adresses": PUBLICS,
    "prise_en_charge_specifique": PRISES_EN_CHARGE,
    "frais_a_charge": FRAIS,
    "dispositif_programmes_nationaux": DISPOSITIFS,
    "formations_labels": FORMATIONS_LABELS,
    "itinerance": ITINERANCE,
}

# Columns of the standard, in its order (used by the importer and for exports).
STANDARD_FIELDS = (
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
)
REQUIRED_FIELDS = ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj")

def split_multi(value: Optional[str]) -> List[str]:
    if not value:
        return []
    return [part.strip() for part in value.split(MULTI_SEPARATOR) if part.strip()]


class Place(Base):
    __tablename__ = "places"
    __retention__ = keep("the directory of places: public data")

    # What Aiguillage needs is an id, a name and a position; the importer keeps a place whose other
    # required fields of the standard are empty (bot/directory/importing/importer.py), hence nullable here.
    id = Column(String(255), primary_key=True)
    pivot = Column(String(32), nullable=True)
    nom = Column(Text, nullable=False)
    commune = Column(String(255), nullable=True)
    code_postal = Column(String(5), nullable=True, index=True)
    code_insee = Column(String(5), nullable=True, index=True)
    adresse = Column(Text, nullable=True)
    complement_adresse = Column(Text)
    latitude = Column(Float, nullable=True, index=True)
    longitude = Column(Float, nullable=True, index=True)
    typologie = Column(Text)
    telephone = Column(String(32))
    courriels = Column(Text)
    site_web = Column(Text)
    horaires = Column(Text)
    presentation_resume = Column(Text)
    presentation_detail = Column(Text)
    source = Column(Text)
    itinerance = Column(String(64))
    structure_parente = Column(Text)
    date_maj = Column(Date, nullable=True)
    services = Column(Text)
    publics_specifiquement_adresses = Column(Text)
    prise_en_charge_specifique = Column(Text)
    frais_a_charge = Column(Text)
    dispositif_programmes_nationaux = Column(Text)
    formations_labels = Column(Text)
    autres_formations_labels = Column(Text)
    modalites_acces = Column(Text)
    modalites_accompagnement = Column(Text)
    fiche_acces_libre = Column(Text)
    prise_rdv = Column(Text)

    # Bookkeeping, not part of the standard.
    # True when latitude/longitude are the commune's (the file had none usable): distances are approximate.
    position_approx = Column(Boolean, nullable=False, default=False, server_default=false())
    is_demo = Column(Boolean, nullable=False, default=False)
    imported_at = Column(DateTime, nullable=True)
    # The name given with `import-lieux --source`: `--remplacer` withdraws that source's places absent from its
    # new file. A withdrawn place (withdrawn_at, UTC) stays for past referrals and is no longer proposed.
    import_source = Column(String(120), nullable=True, index=True)
    withdrawn_at = Column(DateTime, nullable=True)
    row_hash = Column(String(64), nullable=True)

    __table_args__ = (Index("ix_places_lat_lon", "latitude", "longitude"),)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Place {self.id!r} {self.nom!r} ({self.commune})>"

    # --- list views of the multi-valued fields ---
    @property
    def courriels_list(self) -> List[str]:
        return split_multi(self.courriels)

    @property
    def services_list(self) -> List[str]:
        return split_multi(self.services)

    @property
    def prise_en_charge_list(self) -> List[str]:
        return split_multi(self.prise_en_charge_specifique)

    @property
    def dispositifs_list(self) -> List[str]:
        return split_multi(self.dispositif_programmes_nationaux)

    @property
    def modalites_acces_list(self) -> List[str]:
        return split_multi(self.modalites_acces)

    @property
    def modalites_accompagnement_list(self) -> List[str]:
        return split_multi(self.modalites_accompagnement)

    # --- convenience predicates used by rendering ---
    @property
    def is_remote_only(self) -> bool:
        modalites = self.modalites_accompagnement_list
        return bool(modalites) and all(m == MODALITE_DISTANCE for m in modalites)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def date_is_stale(date_maj: Optional[date], today: date, months: int = 12) -> bool:
    """True when `date_maj` is more than `months` months before `today`, or missing."""
    if date_maj is None:
        return True
    elapsed = (today.year - date_maj.year) * 12 + (today.month - date_maj.month)
    return elapsed > months or (elapsed == months and today.day > date_maj.day)


# --- Directory version ------------------------------------------------------------------------
# The search keeps an in-memory index of `places` in each process (bot/directory/index.py). The
# action server and the CLI importer are different processes, so each write to `places` gives the
# directory a new random token in the same transaction; a search compares the token it reads with
# the one its index was built for. Random rather than a counter: a token written by a transaction
# that is rolled back never comes back, so an index built from uncommitted rows is never reused.

DIRECTORY_VERSION_ID = 1


class DirectoryVersion(Base):
    __tablename__ = "directory_versions"
    __retention__ = keep("the directory's version counter")

    id = Column(Integer, primary_key=True)
    token = Column(String(32), nullable=False)


def new_version_token() -> str:
    return uuid.uuid4().hex


_VERSION_TABLE = DirectoryVersion.__table__
_READ_VERSION = select(_VERSION_TABLE.c.token).where(_VERSION_TABLE.c.id == DIRECTORY_VERSION_ID)

# Engines whose database has the version table (a table, once there, stays): checked once each.
_versioned_engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def has_version_table(connection: Connection) -> bool:
    """False for a database created without it (some tests and tools create only a few tables)."""
    engine = connection.engine
    if engine in _versioned_engines:
        return True
    if not inspect(connection).has_table(DirectoryVersion.__tablename__):
        return False
    _versioned_engines.add(engine)
    return True


def read_directory_version(bind: Union[Session, Connection]) -> Optional[str]:
    """The current token ("" before the first write); None when the database has no version table.

    Through a Session, the read autoflushes first: pending changes to `places` count.
    """
    if isinstance(bind, Session):
        if bind.autoflush:
            bind.flush()  # as Session.execute would, without the ORM layer's cost
        connection = bind.connection(bind_arguments={"mapper": Place})
    else:
        connection = bind
    if not has_version_table(connection):
        return None
    token = connection.execute(_READ_VERSION).scalar()
    return token or ""


def bump_directory_version(connection: Connection) -> None:
    """Mark the directory as changed, in the caller's transaction.

    Called automatically for every INSERT/UPDATE/DELETE on `places` issued through SQLAlchemy (ORM or
    Core); call it after changing `places` with raw SQL (exec_driver_sql, text()).
    """
    if not has_version_table(connection):
        return
    table = DirectoryVersion.__table__
    done = connection.execute(
        table.update().where(table.c.id == DIRECTORY_VERSION_ID).values(token=new_version_token()))
    if done.rowcount == 0:
        connection.execute(table.insert().values(id=DIRECTORY_VERSION_ID, token=new_version_token()))


@event.listens_for(DirectoryVersion.__table__, "after_create")
def _first_version(table, connection, **_kw) -> None:
    # The row exists from the start, so concurrent first imports only UPDATE it.
    connection.execute(table.insert().values(id=DIRECTORY_VERSION_ID, token=new_version_token()))


@event.listens_for(Engine, "before_execute")
def _track_directory_writes(connection, statement, multiparams, params, execution_options) -> None:
    # Every SQLAlchemy write to `places` (importer, ORM flush, Core statements) goes through here,
    # whatever the process, so no writer can forget to invalidate the search indexes.
    if isinstance(statement, UpdateBase) and getattr(statement.table, "name", None) == Place.__tablename__:
        bump_directory_version(connection)
