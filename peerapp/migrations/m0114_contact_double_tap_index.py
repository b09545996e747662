"""The contact POST's double-tap check (the same contact sent twice moments apart is
kept once) read every contact recorded on the referral that day, each from the table:
its cost grew with the day's contacts (0.3 us each; ~0.5 ms of the POST after a
thousand, issue #17). It now reads only the person's latest contact on the referral,
one seek in this index. The index of who recorded a contact (``recorded_by_id``, for
the foreign key) becomes ``(recorded_by_id, referral_id, recorded_at)``, which still
serves the foreign-key check on the user: it replaces the old one, so a contact costs
no extra index to write. The same statements run on PostgreSQL."""


def upgrade(database, migrator):
    database.execute_sql('CREATE INDEX IF NOT EXISTS "contact_recorded_by_referral_at" ON "contact" '
                         '(recorded_by_id, referral_id, recorded_at)')
    database.execute_sql('DROP INDEX IF EXISTS "contact_recorded_by_id"')
