"""Report figures worked out once and shared (issue #17): across the Trust a
section walks every contact and referral of the period (~0.5 s for "All teams"
at 40 teams). The figures sweep (``flask report-figures``) works out the figures
readers open first and stores them here, so every server process, and one just
restarted, shows them without working them out. Counts only, before disclosure
control; no names. The key says which section, period, teams and day."""
import peewee as pw

from . import snapshot_base


def upgrade(database, migrator):
    Base = snapshot_base(database)

    class StoredReportFigures(Base):
        key = pw.CharField(max_length=120, primary_key=True)
        worked_out_at = pw.DateTimeField(index=True)
        figures = pw.TextField()

        class Meta:
            table_name = "stored_report_figures"

    database.create_tables([StoredReportFigures])
