"""The report filter: a period and (for people who see several teams) a team.
A GET form with no CSRF token: it changes nothing, and its values name no one."""
from __future__ import annotations

from flask_wtf import FlaskForm

from ..forms import SelectField


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField("Period")
    team = SelectField("Team")
