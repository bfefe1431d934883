"""The voice menu (issue 16): `voice_calls`, one row per call by the gateway's CallSid (the caller as a keyed
pseudonym, where the triage stands, ended_at once hung up), and `voice_answers`, the TwiML answered to each
step, so a repeated webhook gets the same answer and runs nothing twice. Both are new: no row to migrate.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "voice_calls",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("caller_key", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("triage", sa.JSON(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("call_sid"),
    )
    op.create_index("ix_voice_calls_caller_key", "voice_calls", ["caller_key"])
    op.create_table(
        "voice_answers",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("turn", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("twiml", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_sid", "turn"),
    )


def downgrade() -> None:
    op.drop_table("voice_answers")
    op.drop_index("ix_voice_calls_caller_key", table_name="voice_calls")
    op.drop_table("voice_calls")
