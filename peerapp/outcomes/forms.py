"""Forms of the outcomes area. A response form is built from the measure's
definition: one radio group per item, big touch targets (NHS.UK radios)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..forms import CorrectionForm, VersionedForm, bounded_integer, long_text, not_in_future
from .models import COMPLETED, COULD_NOT, DECLINED, NOT_DONE

STATUS_CHOICES = [(COMPLETED, "Completed"), (DECLINED, "Declined (no score)"),
                  (COULD_NOT, "Could not complete (no score)")]


def item_field_name(key: str) -> str:
    return f"item_{key}"


def response_form(definition, occasions: list[tuple[str, str]], end_not_done: bool = False, formdata=None,
                  correcting: bool = False, obj=None):
    class ResponseForm(FlaskForm):
        occasion = RadioField("Which occasion is this?", choices=occasions, validators=[InputRequired("Choose the occasion.")])
        taken_on = DateField("Date taken", validators=[DataRequired("Enter the date the measure was taken."),
                                                       not_in_future])
        status = RadioField("Was it completed?", choices=STATUS_CHOICES + (
            [(NOT_DONE, "Not done (say why)")] if end_not_done else []), default=COMPLETED,
            validators=[InputRequired("Choose whether it was completed.")])
        reason = long_text("Reason (optional; needed for 'not done')", max_length=2000)
        mode = HiddenField(default="page")
        step = HiddenField(default="0")

    for item in definition.items:
        setattr(ResponseForm, item_field_name(item.key),
                RadioField(item.text, choices=[(o.value, o.label) for o in item.options], coerce=int,
                           validators=[Optional()]))
    if correcting:  # "reason" here is why a measure was not done: the correction's own is named apart
        ResponseForm.version = CorrectionForm.version
        ResponseForm.correction_reason = CorrectionForm.reason
    return ResponseForm(formdata=formdata, obj=obj) if formdata is not None else ResponseForm(obj=obj)


class DebriefForm(FlaskForm):
    reported_by_role = RadioField("Reported by (volunteer)", coerce=int, validators=[Optional()])
    debrief_on = DateField("Debrief date", validators=[Optional(), not_in_future])


class ScheduleForm(VersionedForm):
    subject = RadioField("For whom", choices=[("service user", "Service users on a referral"),
                                              ("peer", "Peer workers themselves")],
                         validators=[InputRequired("Choose who the measure is for.")])
    review_weeks = bounded_integer("Review every (weeks)", minimum=1, maximum=104, required=True)
    active = RadioField("In use", choices=[("yes", "Yes"), ("no", "No")], default="yes",
                        validators=[InputRequired()])


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form with non-identifying filters (dates, teams)
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
