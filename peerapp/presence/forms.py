"""Forms of the presence area. Times are typed as London times (HH:MM) for today
or a date; the view turns them into UTC."""
from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField
from wtforms.validators import InputRequired, Optional, ValidationError

from .. import clock
from ..forms import SelectField, VersionedForm, bounded_integer, long_text, text_field
from .services import EXTEND_CHOICES

TIME_HINT = "24-hour clock, for example 14:30"


def _time(value: str) -> dt.time:
    value = (value or "").strip().replace(".", ":")
    try:
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValidationError("Enter a time like 14:30") from None


def utc(day: dt.date, at: dt.time) -> dt.datetime:
    """A London day and time as naive UTC (BST honoured)."""
    local = dt.datetime.combine(day, at).replace(tzinfo=clock.LONDON)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


class VersionForm(FlaskForm):
    """A button that changes a visit: carries the version the person saw."""
    version = HiddenField()

    def seen_version(self) -> int:
        try:
            seen = int(self.version.data or 0)
        except ValueError:
            return 0
        # A version no visit can hold (PostgreSQL's integer is 32 bits) matches
        # nothing, so the change is refused as stale rather than reaching the database.
        return seen if 0 <= seen < 2**31 - 1 else -1


class PlanVisitForm(FlaskForm):
    worker = SelectField("Who is going", coerce=int, validate_choice=False)
    day = DateField("Date", validators=[InputRequired("Enter the date of the visit")],
                    description="For example 30/11/2026, or pick from the calendar")
    start_time = text_field("Leaves at", max_length=5, validators=[InputRequired("Enter when they leave")],
                            description=TIME_HINT)
    return_time = text_field("Expected back at", max_length=5,
                             validators=[InputRequired("Enter when they are expected back")], description=TIME_HINT)
    place = long_text("Where", max_length=500, validators=[InputRequired("Enter where the visit is")],
                      description="Address or place. Seen only by the worker, peer leads and managers; "
                                  "blanked automatically after the team's set number of days.")
    referral = SelectField("Which referral", coerce=int, validate_choice=False,
                           description="Optional: the referral this visit is for")
    buddy = SelectField("Buddy", coerce=int, validate_choice=False,
                        description="Optional: who else in the team knows about this visit")
    contact_phone = text_field("Phone to reach them on", max_length=40,
                               description="The number the peer lead will call if they are late")

    def __init__(self, *args, workers=(), buddies=(), referrals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.worker.choices = [(u.id, u.name) for u in workers]
        self.buddy.choices = [(0, "No buddy")] + [(u.id, u.name) for u in buddies]
        self.referral.choices = [(0, "Not for a referral")] + [(r, f"Referral {r}") for r in referrals]

    def validate_worker(self, field):
        if field.data not in {c[0] for c in field.choices}:
            raise ValidationError("Choose who is going")

    def validate_buddy(self, field):
        if field.data not in {c[0] for c in field.choices}:
            raise ValidationError("Choose a buddy from the list")

    def validate_referral(self, field):
        if field.data not in {c[0] for c in field.choices}:
            raise ValidationError("Choose a referral from the list")

    def validate_start_time(self, field):
        _time(field.data)

    def validate_return_time(self, field):
        _time(field.data)

    def times(self) -> tuple[dt.datetime, dt.datetime]:
        start = utc(self.day.data, _time(self.start_time.data))
        back = utc(self.day.data, _time(self.return_time.data))
        if back <= start:  # back after midnight
            back = utc(self.day.data + dt.timedelta(days=1), _time(self.return_time.data))
        return start, back


class ExtendForm(VersionForm):
    minutes = RadioField("Extend by", choices=[("15", "15 minutes"), ("30", "30 minutes"), ("custom", "Another time")],
                         validators=[InputRequired("Choose how long to extend by")])
    custom_minutes = bounded_integer("Minutes (for another time)", 1, 240)
    reason = text_field("Reason", max_length=200, description="Needed for another time; optional otherwise")

    def chosen_minutes(self) -> int | None:
        if self.minutes.data in EXTEND_CHOICES:
            return EXTEND_CHOICES[self.minutes.data]
        return self.custom_minutes.data

    def validate_custom_minutes(self, field):
        if self.minutes.data == "custom" and not field.data:
            raise ValidationError("Enter how many minutes, from 1 to 240")


class OutcomeForm(FlaskForm):
    outcome = RadioField("What happened", choices=[("safe", "Reached them: they are safe"),
                                                   ("not_reached", "Could not reach them")],
                         validators=[InputRequired("Choose what happened")])
    emergency_followed = BooleanField("The emergency procedure was followed")
    notes = long_text("Notes", max_length=2000,
                      description="What was done and when. Needed when they could not be reached.")


class AckForm(FlaskForm):
    step = HiddenField(validators=[InputRequired()])


class SignForm(FlaskForm):
    person = HiddenField(validators=[Optional()])


class SettingsForm(VersionedForm):
    reminder_minutes = bounded_integer("Due back soon: minutes before the expected return", 0, 240, required=True)
    grace_minutes = bounded_integer("Overdue: minutes after the expected return", 0, 240, required=True)
    escalate_minutes = bounded_integer("Escalated to the manager: minutes after overdue", 1, 480, required=True)
    sign_out_hour = bounded_integer("Forgotten sign-outs close at (hour, 0 to 23)", 0, 23, required=True)
    keep_place_days = bounded_integer("Blank visit places after (days)", 1, 3650, required=True)
