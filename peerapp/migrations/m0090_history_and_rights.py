"""Change history (field by field), retention periods as data, and erasure
requests that a second administrator confirms."""
import datetime as dt

import peewee as pw

from . import existing, snapshot_base

# Defaults; the admin may change them (Admin > Data rights > Retention). Sources in README.
RETENTION = [
    ("service_user", "Service users, referrals, contacts and measures (mental health care records)", 20,
     "support ended (referral closed or declined)",
     "NHS Records Management Code of Practice (2021, updated 2023), Appendix II: mental health records, "
     "20 years after support ended (or 10 years after death)."),
    ("peer", "Peers' workforce records: roles, checks, induction, supervision, debriefs", 6,
     "the role ended",
     "NHS Records Management Code of Practice, Appendix II, staff records. To confirm locally: the period "
     "could not be checked against the Code's text when this default was set (see README)."),
    ("candidate", "Training candidates who never took a role", 6, "nominated",
     "To confirm locally against the Code's staff and training records (see README)."),
]


def upgrade(database, migrator):
    Base = snapshot_base(database)
    User = existing(Base, "user")

    class FieldChange(Base):
        at = pw.DateTimeField(index=True)
        user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        record_type = pw.CharField(max_length=40)
        record_id = pw.CharField(max_length=40)
        field = pw.CharField(max_length=60)
        old_value = pw.TextField(default="")
        new_value = pw.TextField(default="")
        free_text = pw.BooleanField(default=False)

        class Meta:
            table_name = "field_change"
            indexes = ((("record_type", "record_id", "at"), False),)

    class RetentionRule(Base):
        kind = pw.CharField(max_length=40, unique=True)
        label = pw.CharField(max_length=200)
        years = pw.IntegerField()
        starts = pw.CharField(max_length=120)
        source = pw.TextField(default="")
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "retention_rule"
            constraints = [pw.Check("years >= 0 AND years <= 200")]

    class ErasureRequest(Base):
        person_kind = pw.CharField(max_length=20)
        person_id = pw.IntegerField()
        reason = pw.CharField(max_length=200)
        state = pw.CharField(max_length=20, default="requested")
        requested_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        requested_at = pw.DateTimeField()
        decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        decided_at = pw.DateTimeField(null=True)
        records_erased = pw.IntegerField(default=0)

        class Meta:
            table_name = "erasure_request"
            constraints = [
                pw.Check("person_kind IN ('service_user', 'peer', 'staff')"),
                pw.Check("state IN ('requested', 'erased', 'cancelled')"),
                # The second person: whoever confirms is never whoever asked.
                pw.Check("decided_by_id IS NULL OR decided_by_id <> requested_by_id"),
            ]

    database.create_tables([FieldChange, RetentionRule, ErasureRequest])
    database.execute_sql(
        "CREATE UNIQUE INDEX erasure_request_one_open ON erasure_request (person_kind, person_id) "
        "WHERE state = 'requested'")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    RetentionRule.insert_many([{"kind": k, "label": label, "years": years, "starts": starts, "source": source,
                                "updated_at": now} for k, label, years, starts, source in RETENTION]).execute()
