"""Retention purge: old personal data goes, anonymous statistics stay, dry runs change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
)

from bot.channels.sms.store import SmsChoices, SmsOptOut
from bot.channels.telegram.stores import SeenUpdate
from bot.core.db import make_engine, session_factory, upgrade
from bot.handoff import stats
from bot.handoff.helpline import Callback
from bot.handoff.referrals import Referral, ReferralRequest, create_referral, find_by_reference
from bot.ops import cli, retention

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=120)
RECENT = NOW - timedelta(days=10)

extra = MetaData()
# Shaped like Rasa's SQL tracker store and like the console's notes and journal (bot/console/service.py;
# same names and columns, so the test holds whether or not the console models are loaded).
EVENTS = Table("events", extra, Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("type_name", String(255)), Column("timestamp", Float), Column("data", Text))
NOTES = Table("notes", extra, Column("id", Integer, primary_key=True),
              Column("referral_id", Integer, ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False),
              Column("account_id", Integer), Column("at", DateTime(timezone=True), nullable=False),
              Column("text", Text, nullable=False))
JOURNAL = Table("journal_entries", extra, Column("id", Integer, primary_key=True),
                Column("at", DateTime(timezone=True), nullable=False), Column("account_id", Integer),
                Column("action", String(32), nullable=False), Column("referral_id", Integer),
                Column("place_id", String(255)), Column("detail", Text))

@pytest.fixture()
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "cle-de-test-retention")
    monkeypatch.delenv("AIGUILLAGE_RETENTION_DAYS", raising=False)
    url = f"sqlite:///{tmp_path / 'aiguillage.db'}"
    engine = make_engine(url)
    upgrade(engine)
    # The notes table points at referrals: make the reflected FK resolvable in this metadata.
    Table("referrals", extra, Column("id", Integer, primary_key=True), extend_existing=True)
    extra.create_all(engine, tables=[EVENTS, NOTES, JOURNAL])
    yield {"engine": engine, "factory": session_factory(engine), "url": url}
    engine.dispose()


def referral(factory, when, sender, level="urgence", insee="35238", channel="sms", claimed=None, closed=None):
    with factory() as session:
        ref = create_referral(session, ReferralRequest(
            level=level, reasons=["r"], facts={"organisme": "caf", "demarche": "rsa", "commune": "Rennes",
                                               "commune_insee": insee},
            place_id=None, channel=channel, sender_id=sender), now=when)
        ref.claimed_at, ref.closed_at = claimed, closed
        session.commit()
        return ref.id, ref.reference


def populate(db):
    factory, engine = db["factory"], db["engine"]
    old_ids = [referral(factory, OLD + timedelta(hours=i), f"old-{i}", claimed=OLD + timedelta(hours=i + 2),
                        closed=OLD + timedelta(days=1, hours=i)) for i in range(4)]
    new_ids = [referral(factory, RECENT + timedelta(hours=i), f"new-{i}", level="inclusion", insee="2A004",
                        channel="telegram", claimed=RECENT + timedelta(hours=i + 1)) for i in range(3)]
    with engine.begin() as conn:
        for sender, when in (("old-0", OLD), ("old-1", OLD + timedelta(days=5)), ("new-0", RECENT)):
            conn.execute(insert(EVENTS).values(sender_id=sender, type_name="user", timestamp=when.timestamp(),
                                               data='{"text": "je suis bloqué"}'))
        conn.execute(insert(NOTES).values(referral_id=old_ids[0][0], text="Madame X, appeler le matin",
                                          at=RECENT))  # recent note on an old referral: goes too
        conn.execute(insert(NOTES).values(referral_id=new_ids[0][0], text="rappeler jeudi", at=RECENT))
        conn.execute(insert(JOURNAL).values(action="prise_en_charge", referral_id=old_ids[0][0], at=OLD))
        conn.execute(insert(JOURNAL).values(action="prise_en_charge", referral_id=new_ids[0][0], at=RECENT))
    with factory() as session:
        for when, key in ((OLD, "a"), (RECENT, "b")):
            session.add(Callback(call_key=f"call-{key}", caller_encrypted=b"x", caller_pseudonym=f"p-{key}",
                                 called_at=when, due_at=when, status="a_rappeler", created_at=when,
                                 reason="missed", sms_state="envoye", sms_attempts=1, sms_updated_at=when))
            session.add(SmsChoices(number_key=f"num-{key}", choices={"1": "x"}, updated_at=when))
            session.add(SeenUpdate(update_id=1 if key == "a" else 2, seen_at=when))
        session.add(SmsOptOut(number_key="num-stop", opted_out_at=OLD))
        session.commit()
    return old_ids, new_ids


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def snapshot(engine) -> dict:
    """Every row of every table, to prove that a dry run writes nothing."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {name: sorted(map(repr, conn.execute(select(table)).all())) for name, table in meta.tables.items()}


def stats_csv(factory) -> str:
    with factory() as session:
        return stats.to_csv(stats.publish(stats.compute(session), stats.Rules(min_count=1, min_total=0)))


def test_purge_removes_old_personal_data_and_keeps_statistics(db):
    old_ids, new_ids = populate(db)
    engine, factory = db["engine"], db["factory"]
    before = stats_csv(factory)

    report = retention.purge(engine, days=90, now=NOW)

    assert report.count("referrals") == 4
    assert report.count("events") == 2
    assert report.count("notes") == 1
    assert report.count("journal_entries") == 1
    assert report.count("callbacks") == 1
    assert report.count("sms_choices") == 1
    assert report.count("telegram_updates") == 1
    with factory() as session:
        rows = {r.id: r for r in session.execute(select(Referral)).scalars()}
    for rid, reference in old_ids:
        assert rows[rid].conversation_key == "purge"
        assert rows[rid].reference != reference
        assert rows[rid].level == "urgence" and rows[rid].facts["commune_insee"] == "35238"
    for rid, reference in new_ids:
        assert rows[rid].conversation_key not in ("purge", "") and rows[rid].reference == reference
    with factory() as session:  # an old slip's code no longer opens anything
        assert find_by_reference(session, old_ids[0][1]) is None
        assert find_by_reference(session, new_ids[0][1]) is not None
    with engine.connect() as conn:
        assert [r.sender_id for r in conn.execute(select(EVENTS))] == ["new-0"]
        assert [r.text for r in conn.execute(select(NOTES))] == ["rappeler jeudi"]
        assert conn.execute(select(SmsOptOut.number_key)).scalars().all() == ["num-stop"]  # STOP is kept
        assert conn.execute(select(Callback.call_key)).scalars().all() == ["call-b"]
    assert count(engine, JOURNAL) == 1
    assert stats_csv(factory) == before

    # A second run finds nothing left to do.
    again = retention.purge(engine, days=90, now=NOW)
    assert again.total == 0
    assert stats_csv(factory) == before


def test_dry_run_counts_but_changes_nothing(db):
    populate(db)
    before = snapshot(db["engine"])
    report = retention.purge(db["engine"], days=90, now=NOW, dry_run=True)
    assert report.count("referrals") == 4 and report.count("events") == 2
    assert snapshot(db["engine"]) == before
    assert "Simulation" in report.summary_lines()[0]


def test_shorter_delay_reaches_recent_data(db):
    populate(db)
    report = retention.purge(db["engine"], days=5, now=NOW)
    assert report.count("referrals") == 7
    assert count(db["engine"], EVENTS) == 0


def test_missing_tables_are_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_SECRET_KEY", "k")
    engine = make_engine(f"sqlite:///{tmp_path / 'only-referrals.db'}")
    Referral.__table__.metadata.create_all(engine, tables=[Referral.__table__.metadata.tables["places"],
                                                           Referral.__table__])
    factory = session_factory(engine)
    referral(factory, OLD, "someone")
    report = retention.purge(engine, days=90, now=NOW)
    assert report.count("referrals") == 1
    skipped = {r.table for r in report.results if r.action == "skipped"}
    assert "events" in skipped
    assert inspect(engine).get_table_names() == ["places", "referrals"]  # nothing created on the way

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert retention.purge(empty, days=90, now=NOW).total == 0


def test_invalid_delay_is_refused(db, monkeypatch):
    with pytest.raises(retention.RetentionError):
        retention.purge(db["engine"], days=0, now=NOW)
    monkeypatch.setenv("AIGUILLAGE_RETENTION_DAYS", "trois mois")
    with pytest.raises(retention.RetentionError):
        retention.purge(db["engine"], now=NOW)
    monkeypatch.setenv("AIGUILLAGE_RETENTION_DAYS", "200")
    assert retention.purge(db["engine"], now=NOW).days == 200


def test_cli_purge_prints_french_summary(db, monkeypatch, capsys):
    populate(db)
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", db["url"])
    assert cli.main(["purge", "--days", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Simulation" in out and "referrals" in out and "events" in out
    assert "Total" in out
    assert "referrals : 7 ligne(s) à anonymiser" in out and "events : 3 ligne(s) à supprimer" in out
    with db["factory"]() as session:
        assert "purge" not in session.execute(select(Referral.conversation_key)).scalars().all()
    assert cli.main(["purge", "--days", "0"]) == 2


def test_purge_removes_contacts_follow_ups_and_live_conversations(db):
    from bot.handoff import followup, takeover

    engine, factory = db["engine"], db["factory"]
    ids = {}
    for label, when in (("old", OLD), ("new", RECENT)):
        rid, _ = referral(factory, when, f"{label}-live")
        with factory() as session:
            ref = session.get(Referral, rid)
            followup.remember_contact(session, ref, "sms", "+33612345678", when)
            session.add(followup.FollowupMessage(referral_id=rid, kind="relance", due_at=when, status="envoye",
                                                 attempts=1, created_at=when))
            live = takeover.Takeover(referral_id=rid, conversation_key=ref.conversation_key, started_at=when,
                                     ends_at=when + timedelta(hours=1), ended_at=when + timedelta(minutes=5))
            session.add(live)
            session.flush()
            session.add(takeover.LiveMessage(takeover_id=live.id, referral_id=rid, direction="personne",
                                             text="je m'appelle Mme X", at=when, status="recu"))
            session.commit()
        ids[label] = rid

    retention.purge(engine, days=90, now=NOW)

    for model in (followup.Contact, followup.FollowupMessage, takeover.Takeover, takeover.LiveMessage):
        with engine.connect() as conn:
            left = conn.execute(select(model.__table__.c.referral_id)).scalars().all()
        assert left == [ids["new"]], model.__tablename__
