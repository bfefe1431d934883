"""Places as real directory files give them: the standard's other required fields may be empty, and a
position may be the commune's.

The importer keeps a place when it has an id, a name and a position (bot/directory/importing/importer.py), so
`pivot`, `commune`, `code_postal`, `adresse` and `date_maj` become nullable. `position_approx` says that
`latitude`/`longitude` are the commune's, because the file had no usable coordinates for the place:
false for every place already there. On SQLite the table is rebuilt (batch mode), rows and indexes
kept; the downgrade fails on a place that has an empty required field (delete or complete it first).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RELAXED = (
    ("pivot", sa.String(length=32)),
    ("commune", sa.String(length=255)),
    ("code_postal", sa.String(length=5)),
    ("adresse", sa.Text()),
    ("date_maj", sa.Date()),
)


def upgrade() -> None:
    with op.batch_alter_table("places") as batch:
        for name, type_ in RELAXED:
            batch.alter_column(name, existing_type=type_, nullable=True)
        batch.add_column(sa.Column("position_approx", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("places") as batch:
        batch.drop_column("position_approx")
        for name, type_ in RELAXED:
            batch.alter_column(name, existing_type=type_, nullable=False)
