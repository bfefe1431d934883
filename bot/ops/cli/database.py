"""The database and the directory: `init-db`, `import-lieux`, `load-demo`, `purge`."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.db import make_engine, session_factory, upgrade
from bot.core.settings import PROJECT_ROOT, get_settings
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

    p = sub.add_parser("init-db", help="créer les tables ou mettre la base à jour (migrations)")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("purge", help="supprimer les données personnelles au-delà du délai de conservation")
    p.add_argument("--days", type=int, default=None,
                   help="délai en jours (par défaut : AIGUILLAGE_RETENTION_DAYS, sinon 90)")
    p.add_argument("--dry-run", action="store_true", help="compter sans rien modifier")
    p.set_defaults(func=cmd_purge)
