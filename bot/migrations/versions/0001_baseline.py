"""Baseline: every table of ours as it stood when the schema came under Alembic.

A fresh database gets them all. A database made before (by create_all, with the nullable columns
that later versions added by hand) has our tables but no `alembic_version`: it gets the tables,
columns and indexes it lacks, and loses the two tables no version uses any more, so that it ends
exactly like a fresh one; Alembic then records this revision. Rasa's `events` table is Rasa's and
is never touched.

Online only: it inspects the database. The tables are frozen here, not imported from the models.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""
from typing import Sequence, Union
from uuid import uuid4

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Made by earlier versions, replaced since (telegram_button_tokens, login_throttle): short-lived
# tokens and login counters, which no purge would ever reach again.
OBSOLETE_TABLES = ("telegram_boutons", "tentatives_console")


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for name in OBSOLETE_TABLES:
        if name in present:
            op.drop_table(name)
    metadata = sa.MetaData()
    _tables(metadata)
    for table in metadata.sorted_tables:
        if table.name in present:
            _complete(inspector, table)
        else:
            table.create(bind)
    versions = metadata.tables["lieux_version"]
    if bind.execute(sa.select(sa.func.count()).select_from(versions)).scalar() == 0:
        # The directory's version row (bot/directory/models.py) exists from the start.
        bind.execute(versions.insert().values(id=1, token=uuid4().hex))


def downgrade() -> None:
    metadata = sa.MetaData()
    _tables(metadata)
    for table in reversed(metadata.sorted_tables):
        op.drop_table(table.name)


def _complete(inspector, table: sa.Table) -> None:
    """Add what an older version's table lacks: nullable columns (what it could add) and indexes."""
    columns = {column["name"] for column in inspector.get_columns(table.name)}
    for column in table.columns:
        if column.name in columns:
            continue
        if not column.nullable:
            raise RuntimeError(f"{table.name}.{column.name} is missing and cannot be added to existing rows")
        op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
    indexes = {index["name"] for index in inspector.get_indexes(table.name)}
    for index in table.indexes:
        if index.name not in indexes:
            op.create_index(index.name, table.name, [column.name for column in index.columns], unique=index.unique)


def _tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "appels_ligne", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_key", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_key"),
    )
    sa.Table(
        "journal_console", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("place_id", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_journal_console_account_id", "account_id"),
        sa.Index("ix_journal_console_at", "at"),
        sa.Index("ix_journal_console_place_id", "place_id"),
        sa.Index("ix_journal_console_referral_id", "referral_id"),
    )
    sa.Table(
        "lieux", metadata,
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("pivot", sa.String(length=32), nullable=False),
        sa.Column("nom", sa.Text(), nullable=False),
        sa.Column("commune", sa.String(length=255), nullable=False),
        sa.Column("code_postal", sa.String(length=5), nullable=False),
        sa.Column("code_insee", sa.String(length=5), nullable=True),
        sa.Column("adresse", sa.Text(), nullable=False),
        sa.Column("complement_adresse", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("typologie", sa.Text(), nullable=True),
        sa.Column("telephone", sa.String(length=32), nullable=True),
        sa.Column("courriels", sa.Text(), nullable=True),
        sa.Column("site_web", sa.Text(), nullable=True),
        sa.Column("horaires", sa.Text(), nullable=True),
        sa.Column("presentation_resume", sa.Text(), nullable=True),
        sa.Column("presentation_detail", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("itinerance", sa.String(length=64), nullable=True),
        sa.Column("structure_parente", sa.Text(), nullable=True),
        sa.Column("date_maj", sa.Date(), nullable=False),
        sa.Column("services", sa.Text(), nullable=True),
        sa.Column("publics_specifiquement_adresses", sa.Text(), nullable=True),
        sa.Column("prise_en_charge_specifique", sa.Text(), nullable=True),
        sa.Column("frais_a_charge", sa.Text(), nullable=True),
        sa.Column("dispositif_programmes_nationaux", sa.Text(), nullable=True),
        sa.Column("formations_labels", sa.Text(), nullable=True),
        sa.Column("autres_formations_labels", sa.Text(), nullable=True),
        sa.Column("modalites_acces", sa.Text(), nullable=True),
        sa.Column("modalites_accompagnement", sa.Text(), nullable=True),
        sa.Column("fiche_acces_libre", sa.Text(), nullable=True),
        sa.Column("prise_rdv", sa.Text(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        sa.Column("row_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_lieux_code_insee", "code_insee"),
        sa.Index("ix_lieux_code_postal", "code_postal"),
        sa.Index("ix_lieux_lat_lon", "latitude", "longitude"),
        sa.Index("ix_lieux_latitude", "latitude"),
        sa.Index("ix_lieux_longitude", "longitude"),
    )
    sa.Table(
        "lieux_version", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Table(
        "login_throttle", metadata,
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.Index("ix_login_throttle_last_seen", "last_seen"),
    )
    sa.Table(
        "rappels", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_key", sa.String(length=64), nullable=False),
        sa.Column("caller_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("caller_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("sms_state", sa.String(length=16), nullable=False),
        sa.Column("sms_attempts", sa.Integer(), nullable=False),
        sa.Column("sms_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sms_message_id", sa.String(length=128), nullable=True),
        sa.Column("place_id", sa.String(length=255), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_key"),
        sa.Index("ix_rappels_caller_pseudonym", "caller_pseudonym"),
        sa.Index("ix_rappels_due_at", "due_at"),
        sa.Index("ix_rappels_place_id", "place_id"),
    )
    sa.Table(
        "sms_choices", metadata,
        sa.Column("number_key", sa.String(length=64), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number_key"),
    )
    sa.Table(
        "sms_deliveries", metadata,
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("gateway_id", sa.String(length=160), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference"),
        sa.Index("ix_sms_deliveries_gateway_id", "gateway_id"),
    )
    sa.Table(
        "sms_opt_outs", metadata,
        sa.Column("number_key", sa.String(length=64), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number_key"),
    )
    sa.Table(
        "sms_processed_messages", metadata,
        sa.Column("message_id", sa.String(length=160), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    sa.Table(
        "telegram_button_tokens", metadata,
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("offer", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
        sa.Index("ix_telegram_button_tokens_conversation_key", "conversation_key"),
        sa.Index("ix_telegram_button_tokens_created_at", "created_at"),
    )
    sa.Table(
        "telegram_updates", metadata,
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
        sa.Index("ix_telegram_updates_seen_at", "seen_at"),
    )
    sa.Table(
        "comptes", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("place_id", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["lieux.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    sa.Table(
        "lieux_notifications", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["lieux.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("place_id", "kind", "target", name="uq_lieux_notifications_target"),
        sa.Index("ix_lieux_notifications_place_id", "place_id"),
    )
    sa.Table(
        "orientations", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("place_id", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["place_id"], ["lieux.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_orientations_conversation_key", "conversation_key"),
        sa.Index("ix_orientations_reference", "reference", unique=True),
    )
    sa.Table(
        "contacts_suivi", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sealed_address", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["orientations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_contacts_suivi_referral_id", "referral_id", unique=True),
    )
    sa.Table(
        "messages_suivi", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["orientations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_messages_suivi_due", "status", "due_at"),
        sa.Index("ix_messages_suivi_referral_id", "referral_id"),
    )
    sa.Table(
        "notes_console", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["orientations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_notes_console_referral_id", "referral_id"),
    )
    sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("place_id", sa.String(length=255), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["lieux_notifications.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["referral_id"], ["orientations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_reference", "reference"),
        sa.Index("ix_outbox_referral_id", "referral_id"),
    )
    sa.Table(
        "prises_en_main", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["orientations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
        sa.Index("ix_prises_en_main_conversation_key", "conversation_key"),
        sa.Index("ix_prises_en_main_referral_id", "referral_id"),
    )
    sa.Table(
        "sessions_console", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["comptes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.Index("ix_sessions_console_account_id", "account_id"),
    )
    sa.Table(
        "messages_direct", metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("takeover_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["orientations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["takeover_id"], ["prises_en_main.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_messages_direct_referral_id", "referral_id"),
        sa.Index("ix_messages_direct_takeover_id", "takeover_id"),
    )
