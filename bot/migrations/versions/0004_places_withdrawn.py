"""Places withdrawn by a re-import: `import_source` names the source a place came from (`import-lieux
--source NAME`), `withdrawn_at` (UTC) says when `--remplacer` found it absent from that source's new
file. Both are empty for every place already there: none is withdrawn.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("places") as batch:
        batch.add_column(sa.Column("import_source", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_places_import_source", ["import_source"])


def downgrade() -> None:
    with op.batch_alter_table("places") as batch:
        batch.drop_index("ix_places_import_source")
        batch.drop_column("withdrawn_at")
        batch.drop_column("import_source")
