"""English table names: the naming rule (README, "How the parts fit") for tables made before it.

Every table keeps its rows; only names change: the table, then each index whose name carries the
table's old name (SQLite cannot rename an index, so there it is dropped and made again), then, on
PostgreSQL, the sequence behind its `id`. Constraint names, which nothing compares, stay. Foreign
keys follow the renamed table by themselves (PostgreSQL by identity; SQLite, since 3.26, rewrites
the REFERENCES clauses).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RENAMED = (
    ("lieux", "places"),
    ("lieux_version", "directory_versions"),
    ("lieux_notifications", "place_channels"),
    ("orientations", "referrals"),
    ("contacts_suivi", "followup_contacts"),
    ("messages_suivi", "followup_messages"),
    ("prises_en_main", "takeovers"),
    ("messages_direct", "live_messages"),
    ("journal_console", "journal_entries"),
    ("notes_console", "notes"),
    ("appels_ligne", "helpline_calls"),
    ("rappels", "callbacks"),
    ("comptes", "accounts"),
    ("sessions_console", "console_sessions"),
)


def upgrade() -> None:
    for old, new in RENAMED:
        _rename(old, new)


def downgrade() -> None:
    for old, new in reversed(RENAMED):
        _rename(new, old)


def _rename(old: str, new: str) -> None:
    bind = op.get_bind()
    op.rename_table(old, new)
    for index in sa.inspect(bind).get_indexes(new):
        name = index["name"]
        if not name.startswith(f"ix_{old}_"):
            continue
        renamed = f"ix_{new}_" + name[len(f"ix_{old}_"):]
        if bind.dialect.name == "postgresql":
            op.execute(f'ALTER INDEX "{name}" RENAME TO "{renamed}"')
        else:
            op.drop_index(name, table_name=new)
            op.create_index(renamed, new, index["column_names"], unique=bool(index["unique"]))
    has_id = any(column["name"] == "id" for column in sa.inspect(bind).get_columns(new))
    if bind.dialect.name == "postgresql" and has_id:
        sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": new}).scalar()
        if sequence is not None:
            op.execute(f'ALTER SEQUENCE {sequence} RENAME TO "{new}_id_seq"')
