"""An assignment made by overriding a matching proposal remembers whom the run
proposed and why the peer lead chose otherwise, so the referral reads as an
override; and a referral carries the safety note a peer lead writes at screening
for the peer who takes it (what to do, what to avoid), which volunteers see
instead of the clinician's risk summary."""
import peewee as pw


# A default in the database too, so rows written without naming the new columns
# (older code, raw SQL, a restore) still go in.
EMPTY = [pw.SQL("DEFAULT ''")]


def upgrade(database, migrator):
    from playhouse.migrate import migrate

    migrate(
        # The proposed peer's name as it was, not a second key to peer_role: a second
        # foreign key would make every existing join between the two ambiguous.
        migrator.add_column("assignment", "overrode_peer", pw.CharField(max_length=200, default="", constraints=EMPTY)),
        migrator.add_column("assignment", "override_reason", pw.TextField(default="", constraints=EMPTY)),
        migrator.add_column("referral", "safety_note", pw.TextField(default="", constraints=EMPTY)),
    )
