"""Outcomes: measures and their immutable versions, schedules, responses, and
peers' shares of their own scores. Partial unique indexes stand behind "one
baseline and one end per referral and measure", "one baseline per peer and
measure" and "one open share per peer and reader"."""
import peewee as pw

from . import existing, snapshot_base


def upgrade(database, migrator):
    Base = snapshot_base(database)
    User = existing(Base, "user")
    Referral = existing(Base, "referral")
    ServiceUser = existing(Base, "service_user")
    PeerRole = existing(Base, "peer_role")

    class Measure(Base):
        key = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=200)
        created_at = pw.DateTimeField()

    class MeasureVersion(Base):
        measure = pw.ForeignKeyField(Measure, on_delete="RESTRICT")
        number = pw.IntegerField()
        label = pw.CharField(max_length=40, default="")
        definition_json = pw.TextField()
        digest = pw.CharField(max_length=64)
        imported_at = pw.DateTimeField()
        imported_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")

        class Meta:
            indexes = ((("measure", "number"), True), (("measure", "digest"), True))

    class MeasureSchedule(Base):
        measure = pw.ForeignKeyField(Measure, on_delete="CASCADE")
        subject = pw.CharField(max_length=20)
        review_weeks = pw.IntegerField(default=12)
        active = pw.BooleanField(default=True)

        class Meta:
            indexes = ((("measure", "subject"), True),)

    class MeasureResponse(Base):
        version = pw.ForeignKeyField(MeasureVersion, on_delete="RESTRICT")
        measure = pw.ForeignKeyField(Measure, on_delete="RESTRICT")
        subject = pw.CharField(max_length=20)
        referral = pw.ForeignKeyField(Referral, null=True, on_delete="RESTRICT")
        service_user = pw.ForeignKeyField(ServiceUser, null=True, on_delete="RESTRICT")
        peer = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        team_id = pw.IntegerField(index=True)
        occasion = pw.CharField(max_length=10)
        taken_on = pw.DateField(index=True)
        status = pw.CharField(max_length=20, default="completed")
        total = pw.FloatField(null=True)
        subscales_json = pw.TextField(default="{}")
        answers_json = pw.TextField(default="{}")
        reason = pw.TextField(default="")
        entered_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
        reported_by_role = pw.ForeignKeyField(PeerRole, null=True, on_delete="RESTRICT")
        debrief_on = pw.DateField(null=True)
        recorded_at = pw.DateTimeField()

    class ScoreShare(Base):
        owner = pw.ForeignKeyField(User, on_delete="RESTRICT")
        viewer = pw.ForeignKeyField(User, on_delete="RESTRICT")
        created_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

    database.create_tables([Measure, MeasureVersion, MeasureSchedule, MeasureResponse, ScoreShare])
    for sql in (
        "CREATE UNIQUE INDEX measure_response_once_per_referral ON measure_response "
        "(referral_id, measure_id, occasion) WHERE occasion IN ('baseline', 'end')",
        "CREATE UNIQUE INDEX measure_response_peer_baseline ON measure_response "
        "(peer_id, measure_id, occasion) WHERE occasion = 'baseline'",
        "CREATE UNIQUE INDEX score_share_open ON score_share (owner_id, viewer_id) WHERE revoked_at IS NULL",
        "CREATE INDEX measure_response_referral ON measure_response (referral_id, taken_on)",
        "CREATE INDEX measure_response_peer ON measure_response (peer_id, taken_on)",
    ):
        database.execute_sql(sql)
