"""Alembic's environment: our tables' metadata, and the connection to migrate.

bot.core.db.upgrade passes a connection that already holds the migration lock (config.attributes). Run
from the `alembic` command (alembic.ini at the project root, for `alembic revision --autogenerate`),
it opens AIGUILLAGE_DATABASE_URL and takes the same lock.
"""

from __future__ import annotations

from alembic import context

from bot.core.db import make_engine, migration_lock
from bot.core.settings import get_settings
from bot.schema import metadata, ours


def number_revision(_migration_context, _revision, directives) -> None:
    """New revisions are numbered after the head (0002, 0003…); an autogenerate that finds no
    difference writes no file."""
    script = directives[0]
    if getattr(context.config.cmd_opts, "autogenerate", False) and script.upgrade_ops.is_empty():
        directives[:] = []
        return
    if not getattr(context.config.cmd_opts, "rev_id", None):
        script.rev_id = f"{int(context.script.get_current_head() or 0) + 1:04d}"


def run(connection) -> None:
    # render_as_batch: on SQLite, changing a column rebuilds its table (ALTER TABLE cannot do it).
    context.configure(connection=connection, target_metadata=metadata, include_name=ours, compare_type=True,
                      render_as_batch=True, process_revision_directives=number_revision)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Aiguillage migrations run on a database (revision 0001 inspects it): no --sql mode.")
given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = make_engine(get_settings().database_url)
    try:
        with migration_lock(engine) as connection:
            run(connection)
    finally:
        engine.dispose()
