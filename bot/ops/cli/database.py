"""The database and the directory: `init-db`, `import-lieux`, `load-demo`, `etat-lieux`, `purge`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.core.db import make_engine, session_factory, upgrade
from bot.core.moments import to_paris
from bot.core.settings import PROJECT_ROOT, get_settings, value
from bot.directory.coverage import UNKNOWN_DEPARTEMENT, Coverage, measure
from bot.directory.geo.communes import default_index
from bot.directory.geo.nearest import nearest_commune
from bot.directory.importing.importer import ImportFileError, import_places
from bot.ops import cli_messages
from bot.ops.retention import RetentionError, purge

DEMO_FILE = PROJECT_ROOT / "bot" / "directory" / "data" / "demo-rennes.csv"


def open_database():
    """Sessions on the configured database, brought to the newest schema first."""
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    return session_factory(engine)


def cmd_import(args) -> int:
    try:
        report = import_places(open_database(), Path(args.file), demo=args.demo, strict=args.strict,
                               import_source=args.source, replace=args.replace)
    except ImportFileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for line in report.summary_lines():
        print(line)
    return 0 if report.created + report.updated + report.unchanged > 0 or not report.errors else 1


def cmd_load_demo(args) -> int:
    args.file, args.demo, args.strict, args.source, args.replace = str(DEMO_FILE), True, False, None, False
    return cmd_import(args)


def _departement_at(latitude: float, longitude: float):
    commune = nearest_commune(default_index(), latitude, longitude)
    return commune.departement if commune else None


def coverage_lines(coverage: Coverage) -> list[str]:
    """The readable version of `etat-lieux`, for a coordinator."""
    def count(n: int) -> str:
        return f"{n:,}".replace(",", "\u202f")

    if not coverage.places and not coverage.withdrawn:
        return [cli_messages.text("coverage_empty")]
    lines = [cli_messages.text("coverage_places", places=count(coverage.places))]
    if coverage.withdrawn:
        lines.append(cli_messages.text("coverage_withdrawn", count=count(coverage.withdrawn)))
    lines += [
        cli_messages.text("coverage_without_position", count=count(coverage.without_position)),
        cli_messages.text("coverage_commune_position", count=count(coverage.commune_position)),
        cli_messages.text("coverage_stale", months=coverage.stale_after_months, count=count(coverage.stale)),
    ]
    if coverage.by_departement:
        lines.append(cli_messages.text("coverage_by_departement"))
    communes = default_index()
    for code, n in coverage.by_departement.items():
        if code == UNKNOWN_DEPARTEMENT:
            lines.append(cli_messages.text("coverage_unknown_departement", count=count(n)))
        else:
            name = communes.departement_name(code)
            lines.append(cli_messages.text("coverage_departement", code=code, name=f" {name}" if name else "",
                                           count=count(n)))
    return lines


def cmd_coverage(args) -> int:
    months = value("AIGUILLAGE_STALE_AFTER_MONTHS")  # strict: a bad value stops the command with its message
    sessions = open_database()
    with sessions() as session:
        coverage = measure(session, to_paris().date(), departement_at=_departement_at, months=months)
    if args.json:
        print(json.dumps(coverage.as_json(), ensure_ascii=False))
    else:
        for line in coverage_lines(coverage):
            print(line)
    return 0


def cmd_init_db(args) -> int:
    engine = make_engine(get_settings().database_url)
    print(cli_messages.text("database_ready", revision=upgrade(engine)))
    engine.dispose()
    return 0


def cmd_purge(args) -> int:
    """Delete personal data older than the retention delay (statistics survive)."""
    try:
        report = purge(make_engine(get_settings().database_url), days=args.days, dry_run=args.dry_run)
    except RetentionError as exc:
        print(cli_messages.text("retention_invalid", error=exc), file=sys.stderr)
        return 2
    for line in report.summary_lines():
        print(line)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("import-lieux", help="importer un fichier (CSV ou JSON) du schéma des lieux de médiation "
                                           "numérique")
    p.add_argument("file", help="fichier CSV (séparateur , ou ;) ou JSON, en UTF-8 ou Windows-1252")
    p.add_argument("--demo", action="store_true", help="marquer les lieux comme données de démonstration")
    p.add_argument("--strict", action="store_true",
                   help="rejeter tout lieu dont une valeur ne suit pas le standard (pour valider un fichier) ; "
                        "par défaut, la valeur est retirée avec un avertissement et le lieu gardé")
    p.add_argument("--source", metavar="NOM",
                   help="nom de la source du fichier (ex. hub-sud) : chaque lieu garde la source dont il vient")
    p.add_argument("--remplacer", dest="replace", action="store_true",
                   help="avec --source : retirer les lieux de cette source absents du nouveau fichier (gardés pour "
                        "les orientations passées, ils ne sont plus proposés)")
    p.set_defaults(func=cmd_import, strict=False)

    p = sub.add_parser("load-demo", help="charger l'annuaire de démonstration (Rennes)")
    p.set_defaults(func=cmd_load_demo)

    p = sub.add_parser("etat-lieux", help="ce que couvre l'annuaire : lieux proposés, sans position, position de "
                                          "la commune, données périmées, par département")
    p.add_argument("--json", action="store_true",
                   help='une ligne JSON : {"lieux", "sans_position", "position_commune", "perimes", '
                        '"par_departement"}')
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("init-db", help="créer les tables ou mettre la base à jour (migrations)")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("purge", help="supprimer les données personnelles au-delà du délai de conservation")
    p.add_argument("--days", type=int, default=None,
                   help="délai en jours (par défaut : AIGUILLAGE_RETENTION_DAYS, sinon 90)")
    p.add_argument("--dry-run", action="store_true", help="compter sans rien modifier")
    p.set_defaults(func=cmd_purge)
