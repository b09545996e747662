"""Forms of the workforce area. Domain rules (is this supervisor a peer lead of
the team? is the person ready?) live in services.py; these check shape."""
from __future__ import annotations

import datetime as dt
import math

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FloatField, HiddenField, RadioField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from ..forms import CheckboxesField, CorrectionForm, NeededWhen, SelectField, bounded_integer, long_text, text_field
from .models import DBS_LEVELS, DBS_OUTCOMES, KINDS

DAYS = [("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
        ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday")]
SLOTS = [(f"{code}-{part}", f"{name[:3]} {label}") for code, name in DAYS
         for part, label in (("am", "morning"), ("pm", "afternoon"), ("eve", "evening"))]
AGE_BANDS = [("", "Not given"), ("18-25", "18 to 25"), ("26-35", "26 to 35"), ("36-45", "36 to 45"),
             ("46-55", "46 to 55"), ("56-65", "56 to 65"), ("66+", "66 or over")]


def sane_date(form, field):
    """Dates a person could mean: typing 20260 for the year is refused, not stored."""
    if field.data and not (dt.date(2000, 1, 1) <= field.data <= dt.date(2100, 12, 31)):
        raise ValidationError("Enter a date between 2000 and 2100")


def record_id(message: str):
    """A chosen record's id as the database can hold it: a forged -1 or a 25-digit
    number gets the field's own message, never a crash further down."""
    def check(form, field):
        if field.data is None or not 0 < field.data < 2 ** 63:
            raise ValidationError(message)
    return check


def date_field(label: str, required: bool = True, **kwargs) -> DateField:
    first = DataRequired(f"Enter the {label.lower()} as a date") if required else Optional()
    return DateField(label, validators=[first, sane_date], **kwargs)


class RoleDetailsForm(FlaskForm):
    hours_per_week = FloatField("Hours a week", validators=[InputRequired("Enter the hours a week")])
    working_days = CheckboxesField("Working days", choices=DAYS)
    start_date = date_field("Start date")
    # validate_choice=False: a forged or stale choice meets the domain rule's
    # own message ("... is not a named peer lead of ...") rather than a bare one.
    supervisor = SelectField("Supervisor", coerce=int, validate_choice=False,
                             validators=[DataRequired("Choose a supervisor"), record_id("Choose a supervisor")],
                             description="One of the team's named peer leads.")
    max_caseload = bounded_integer("Maximum caseload", 0, 50, required=True,
                                   description="How many service users this peer can support at once.")
    interests = text_field("Interests", 500, description="Separate with commas, e.g. music, cooking, football.")
    languages = text_field("Languages", 300, description="Separate with commas, e.g. English, Urdu, Polish.")
    areas = text_field("Areas they can work in", 300, description="Separate with commas.")
    availability = CheckboxesField("Availability", choices=SLOTS)
    gender = text_field("Gender", 60, description="As the peer describes it; matching uses it only for "
                                                  "a service user's stated preference.")
    age_band = SelectField("Age band", choices=AGE_BANDS, validators=[Optional()])
    backgrounds = text_field("Backgrounds and experiences they are happy to share", 500,
                             description="Separate with commas.")
    intervention_kinds = text_field("Kinds of peer intervention they want to offer", 500,
                                    description="Separate with commas, e.g. one-to-one, groups, walking.")

    def __init__(self, *args, supervisors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.supervisor.choices = [(0, "Choose a peer lead")] + [(u.id, u.name) for u in supervisors]

    def validate_hours_per_week(self, field):
        if field.data is None or not math.isfinite(field.data) or not 0 < field.data <= 60:
            raise ValidationError("Enter the hours a week as a number from 0.5 to 60")


    def details(self) -> dict:
        return {"hours_per_week": round(float(self.hours_per_week.data), 1),
                "working_days": ",".join(self.working_days.data or []),
                "max_caseload": self.max_caseload.data,
                "interests": (self.interests.data or "").strip(),
                "languages": (self.languages.data or "").strip(),
                "areas": (self.areas.data or "").strip(),
                "availability": ",".join(self.availability.data or []),
                "gender": (self.gender.data or "").strip(),
                "age_band": self.age_band.data or "",
                "backgrounds": (self.backgrounds.data or "").strip(),
                "intervention_kinds": (self.intervention_kinds.data or "").strip()}

    def fill_from(self, role) -> None:
        for name in ("hours_per_week", "start_date", "max_caseload", "interests", "languages", "areas",
                     "gender", "age_band", "backgrounds", "intervention_kinds"):
            getattr(self, name).data = getattr(role, name)
        self.supervisor.data = role.supervisor_id
        self.working_days.data = sorted(role.working_day_list())
        self.availability.data = sorted(role.availability_list())


class OfferForm(RoleDetailsForm):
    candidate = SelectField("Trained candidate", coerce=int, validate_choice=False,
                            validators=[DataRequired("Choose a candidate who has completed training"),
                                        record_id("Choose a candidate who has completed training")])
    kind = RadioField("Kind of role", choices=list(KINDS.items()), validate_choice=False,
                      validators=[DataRequired("Choose volunteer or paid")])

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidate.choices = [(0, "Choose a candidate")] + [(c.id, c.name) for c in candidates]


    def validate_kind(self, field):
        if field.data not in KINDS:
            raise ValidationError("Choose volunteer or paid")


class StatusForm(FlaskForm):
    status = HiddenField()
    reason = text_field("Reason", 300, validators=[NeededWhen()], description="Needed to pause or end the role.")


class CheckForm(FlaskForm):
    check_type = SelectField("Check", coerce=int, validate_choice=False,
                             validators=[DataRequired("Choose which check this is")])
    completed_on = date_field("Date completed")
    expires_on = date_field("Expiry date", required=False,
                            description="Leave empty if this check does not lapse.")
    dbs_level = SelectField("DBS level", choices=[("", "Not a DBS check")] + list(DBS_LEVELS.items()),
                            validators=[Optional()])
    # No Optional(): it would stop the checks below, which ask for these only for a DBS check.
    dbs_update_service = RadioField("On the DBS Update Service?", choices=[("yes", "Yes"), ("no", "No")],
                                    validate_choice=False)
    dbs_outcome = RadioField("DBS outcome", choices=list(DBS_OUTCOMES.items()), validate_choice=False,
                             description="Only the outcome: never record what the certificate says.")

    def __init__(self, *args, check_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.types = {t.id: t for t in check_types}
        self.check_type.choices = [(0, "Choose a check")] + [(t.id, t.name) for t in check_types]

    def validate_check_type(self, field):
        if field.data not in self.types:
            raise ValidationError("Choose which check this is")

    def validate_expires_on(self, field):
        if field.data and self.completed_on.data and field.data <= self.completed_on.data:
            raise ValidationError("The expiry date must be after the date completed")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Here, not in validate_expires_on: Optional() stops a field's own checks when it is empty.
        chosen = self.types.get(self.check_type.data)
        if chosen is not None and chosen.lapses and not self.expires_on.data and not self.expires_on.errors:
            self.expires_on.errors = [*self.expires_on.errors, f"Enter the expiry date ({chosen.name} lapses)"]
            return False
        return ok

    def validate_dbs_update_service(self, field):
        chosen = self.types.get(self.check_type.data)
        if chosen is not None and chosen.is_dbs and field.data not in ("yes", "no"):
            raise ValidationError("Say whether the DBS is on the Update Service")

    def validate_dbs_outcome(self, field):
        chosen = self.types.get(self.check_type.data)
        if chosen is not None and chosen.is_dbs:
            if field.data not in DBS_OUTCOMES:
                raise ValidationError("Choose the DBS outcome: clear or needs review")
            if not self.dbs_level.data:
                raise ValidationError("Choose the DBS level")


class CheckCorrectionForm(CorrectionForm, CheckForm):
    """Correct a recorded check: the recording form's fields, the version, and why."""

    def __init__(self, *args, lapses: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if lapses:  # the expiry of a check that lapses is needed, so its label says no "(optional)"
            self.expires_on.flags.conditional = True
            self.expires_on.description = "Needed: this check lapses."


class MeetingForm(FlaskForm):
    attends = RadioField("Does the peer attend team meetings?", choices=[("yes", "Yes"), ("no", "No")],
                         validators=[InputRequired("Choose yes or no")])
    arrangement = text_field("Arrangement", 300, description="For example: the weekly business meeting, "
                                                             "not the clinical review.")


class ConfirmForm(FlaskForm):
    confirm_as = HiddenField()


class SupervisionForm(FlaskForm):
    held_on = date_field("Date of supervision")
    duration_minutes = bounded_integer("Duration in minutes", 1, 600, required=True)
    how_they_are = long_text("How the peer is", 5000, validators=[DataRequired("Write how the peer is")])
    actions = long_text("Actions agreed", 5000)
    next_on = date_field("Next supervision", required=False)

    def validate_next_on(self, field):
        if field.data and self.held_on.data and field.data < self.held_on.data:
            raise ValidationError("The next supervision cannot be before this one")


class DebriefForm(FlaskForm):
    held_on = date_field("Date")
    summary = long_text("Summary of the day", 5000, validators=[DataRequired("Write a summary of the day")])
    wellbeing = long_text("Wellbeing", 2000, description="How the peer is after the day's work.")


class SupervisionCorrectionForm(CorrectionForm, SupervisionForm):
    """Correct a supervision record: the recording form's fields, the version, and why."""


class DebriefCorrectionForm(CorrectionForm, DebriefForm):
    """Correct a debrief record: the recording form's fields, the version, and why."""


class ConflictForm(FlaskForm):
    staff = SelectField("Staff member", coerce=int, validate_choice=False,
                        validators=[DataRequired("Choose the staff member"), record_id("Choose the staff member")])

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.staff.choices = [(0, "Choose a staff member")] + [(u.id, u.name) for u in staff]


class DeclareForm(FlaskForm):
    role = SelectField("Peer worker", coerce=int, validate_choice=False,
                       validators=[DataRequired("Choose the peer worker"), record_id("Choose the peer worker")])

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(0, "Choose a peer worker")] + [(r.id, r.candidate.name) for r in roles]


class LeadForm(FlaskForm):
    user = SelectField("Peer lead", coerce=int, validate_choice=False,
                       validators=[DataRequired("Choose a person with the peer lead role"),
                                   record_id("Choose a person with the peer lead role")])
    paid = BooleanField("Paid member of staff", default=True)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user.choices = [(0, "Choose a person")] + [(u.id, u.name) for u in candidates]


class SettingsForm(FlaskForm):
    supervision_days = bounded_integer("Supervision at least every (days)", 7, 180, required=True,
                                       description="30 means monthly. Later than this shows as overdue.")
    volunteer_checks = CheckboxesField("Checks a volunteer role needs", coerce=int)
    paid_checks = CheckboxesField("Checks a paid role needs", coerce=int)
    induction_items = CheckboxesField("Induction checklist", coerce=int,
                                      description="Untick an item to retire it; ticks already made are kept.")
    new_item = text_field("Add an induction item", 160)

    def __init__(self, *args, check_types=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(t.id, t.name) for t in check_types]
        self.volunteer_checks.choices = choices
        self.paid_checks.choices = choices
        self.induction_items.choices = [(i.id, i.title) for i in items]
