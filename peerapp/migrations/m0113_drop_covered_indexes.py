"""Every view of a referral list writes an audit row, every contact a contact row and
an audit row, every change of state an event row (issue #17): each index on those
tables is written and fsynced with them. Six single-column indexes repeat the first
column of a wider index on the same table, which answers every query they did (and
the foreign-key checks on the referral and the user): ``audit_event_at``
(``audit_event_at_id``), ``audit_event_action`` (``audit_event_action_at``),
``audit_event_record_type`` (``audit_event_record_at``), ``audit_event_user_id``
(``audit_event_user_at``), ``contact_referral_id`` (``contact_referral_on_kind``)
and ``referral_event_referral_id`` (``referral_event_referral_at``). Dropping them
took a list view's write from 11.6 pages of the write-ahead log to 7.0, and a
contact's from 19.0 to 13.2 (docs/PERFORMANCE.md). The same statements run on
PostgreSQL."""

COVERED = (
    "audit_event_at",
    "audit_event_action",
    "audit_event_record_type",
    "audit_event_user_id",
    "contact_referral_id",
    "referral_event_referral_id",
)


def upgrade(database, migrator):
    for name in COVERED:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
