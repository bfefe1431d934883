"""A way back to a person referred at a desk: the phone number (sealed, in `followup_contacts` like an SMS
contact), the first name if they gave one (sealed too), the keyed pseudonym of that number's SMS
conversation (so a reply to "est-ce réglé ?" finds the desk referral), and the callback a desk asked for,
tied to its referral (`callbacks.referral_id`, erased with it). Every existing row leaves them empty.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("followup_contacts") as batch:
        batch.add_column(sa.Column("sealed_first_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("address_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_followup_contacts_address_key", ["address_key"])
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("referral_id", sa.Integer(), nullable=True))
        batch.create_index("ix_callbacks_referral_id", ["referral_id"])
        batch.create_foreign_key("fk_callbacks_referral_id_referrals", "referrals", ["referral_id"], ["id"],
                                 ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_constraint("fk_callbacks_referral_id_referrals", type_="foreignkey")
        batch.drop_index("ix_callbacks_referral_id")
        batch.drop_column("referral_id")
    with op.batch_alter_table("followup_contacts") as batch:
        batch.drop_index("ix_followup_contacts_address_key")
        batch.drop_column("address_key")
        batch.drop_column("sealed_first_name")
