"""Retention defaults cite the row of the NHS Records Management Code of Practice
(England; 2021, updated 7 August 2023) each was taken from, and say plainly where
the Code's own row could not be read and which period was chosen instead (README,
"Retention"). Only the wording changes; periods an administrator has set are kept."""
import datetime as dt

import peewee as pw

from . import snapshot_base

CODE = ("NHS England, Records Management Code of Practice for Health and Social Care (2021, updated "
        "7 August 2023), Appendix II retention schedule")

SOURCES = {
    "service_user": (
        f"{CODE}, row 'Mental health records (including psychology)': 20 years after no further "
        "treatment is considered necessary, or 10 years after the person's death if sooner. Peer support "
        "is part of the Trust's mental health care, so referrals, contacts, first meetings, measures and "
        "visits to the person are kept with it; the period starts when their last referral closed or was "
        "declined. Row text as summarised by the MDU (themdu.com, 'Updated guidance on medical records "
        "management'), which confirms 20 years after treatment or 10 after death."),
    "peer": (
        f"{CODE}, staff records. The Code's own row could not be read when this was set, so 6 years "
        "after the role ended was chosen as the period every source found agrees on: earlier NHS guidance "
        "to trusts on major employment records (6 years after leaving; only a summary kept longer, to the "
        "70th birthday, and peerapp holds no such summary) and Healthwatch Northamptonshire's schedule (2023: staff "
        "and volunteers, 6 years after the end of employment). Check it against the Code's staff record "
        "row with the Trust's records manager; change it here if theirs differs."),
    "candidate": (
        f"{CODE}: no row found for someone trained as a peer who never took a role. Their record is "
        "the start of a staff record (nomination, training, attendance), so the staff record period "
        "chosen above applies, counted from nomination: 6 years."),
}


def upgrade(database, migrator):
    Base = snapshot_base(database)

    class RetentionRule(Base):
        kind = pw.CharField(max_length=40, unique=True)
        source = pw.TextField(default="")
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "retention_rule"

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for kind, source in SOURCES.items():
        RetentionRule.update(source=source, updated_at=now).where(RetentionRule.kind == kind).execute()
