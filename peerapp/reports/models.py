"""Report figures as worked out, kept in the database for every server process
(``peerapp/reports/kept.py``). A cache of counts, not a record: rows are replaced
as figures are worked out again and removed after a day."""
from __future__ import annotations

import peewee as pw

from ..models import BaseModel


class StoredReportFigures(BaseModel):
    key = pw.CharField(max_length=120, primary_key=True)  # section, period, teams (digest), day
    worked_out_at = pw.DateTimeField(index=True)
    figures = pw.TextField()  # the Section as JSON (peerapp.reports.kept)

    class Meta:
        table_name = "stored_report_figures"
