"""Matching: each team's settings, matching runs with the settings they used,
their proposals (and the peer lead's decision) and the referrals left unmatched."""
import peewee as pw

from . import existing, snapshot_base


def upgrade(database, migrator):
    Base = snapshot_base(database)

    Team = existing(Base, "team")
    User = existing(Base, "user")
    PeerRole = existing(Base, "peer_role")  # made by the workforce area (m0020)
    Referral = existing(Base, "referral")  # made by the referrals area (m0040)

    class MatchingSettings(Base):
        team = pw.ForeignKeyField(Team, backref="+", unique=True, on_delete="CASCADE")
        weights_json = pw.TextField(default="{}")
        volunteer_risk_levels = pw.CharField(max_length=40, default="low")
        most_matches_first = pw.BooleanField(default=True)
        updated_by = pw.ForeignKeyField(User, backref="+", null=True, on_delete="RESTRICT")
        updated_at = pw.DateTimeField()

    class MatchingRun(Base):
        team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
        started_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        started_at = pw.DateTimeField(index=True)
        settings_json = pw.TextField(default="{}")
        method = pw.CharField(max_length=40, default="optimal")
        total_score = pw.FloatField(default=0)
        referral_count = pw.IntegerField(default=0)
        peer_count = pw.IntegerField(default=0)
        proposal_count = pw.IntegerField(default=0)
        unmatched_count = pw.IntegerField(default=0)

    class RunProposal(Base):
        excluded_json = pw.TextField(default="[]")
        run = pw.ForeignKeyField(MatchingRun, backref="+", on_delete="CASCADE")
        referral = pw.ForeignKeyField(Referral, backref="+", on_delete="CASCADE")
        peer_role = pw.ForeignKeyField(PeerRole, backref="+", on_delete="RESTRICT")
        score = pw.FloatField()
        reasons = pw.TextField(default="")
        alternatives = pw.TextField(default="")
        status = pw.CharField(max_length=20, default="proposed", index=True)
        decided_by = pw.ForeignKeyField(User, backref="+", null=True, on_delete="RESTRICT")
        decided_at = pw.DateTimeField(null=True)
        assigned_role = pw.ForeignKeyField(PeerRole, backref="+", null=True, on_delete="RESTRICT")
        override_reason = pw.TextField(default="")

        class Meta:
            indexes = ((("run", "referral"), True),)
            constraints = [pw.Check("status IN ('proposed', 'approved', 'overridden', 'superseded')")]

    class RunUnmatched(Base):
        excluded_json = pw.TextField(default="[]")
        run = pw.ForeignKeyField(MatchingRun, backref="+", on_delete="CASCADE")
        referral = pw.ForeignKeyField(Referral, backref="+", on_delete="CASCADE")
        reason = pw.TextField(default="")

        class Meta:
            indexes = ((("run", "referral"), True),)

    database.create_tables([MatchingSettings, MatchingRun, RunProposal, RunUnmatched])
