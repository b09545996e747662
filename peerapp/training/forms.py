"""Training forms. Every check here is courtesy; the database holds the real guard."""
from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from .. import clock
from ..forms import CheckboxesField, SelectField, VersionedForm, bounded_integer, long_text, not_in_future, text_field
from ..models import User
from .completion import ABSENT, CAUGHT_UP, LATE, PRESENT

SESSIONS = 6


class NominationForm(VersionedForm):
    """Who is nominated, and how to reach them. Nothing about their health."""

    name = text_field("Full name", 120, validators=[DataRequired("Enter the candidate's full name")])
    preferred_name = text_field("Preferred name", 120, description="What they like to be called, if different.")
    pronouns = text_field("Pronouns", 40, description="For example she/her, he/him, they/them.")
    email = EmailField("Email address", validators=[
        Optional(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address like name@example.org")])
    phone = text_field("Phone number", 40, validators=[
        Optional(), Regexp(r"^[0-9+() \-]{6,40}$", message="Enter a phone number using digits, spaces and +")])
    nominated_on = DateField("Date of nomination", default=clock.today,
                             validators=[DataRequired("Enter the date of nomination as a date"), not_in_future])

    def __init__(self, *args, candidate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidate = candidate

    def validate_email(self, field):
        from .models import Candidate
        email = (field.data or "").strip().lower()
        if not email:
            return
        clash = Candidate.get_or_none(Candidate.email == email)
        if clash and (self.candidate is None or clash.id != self.candidate.id):
            raise ValidationError("A candidate with this email address has already been nominated: "
                                  "one person has one record")


class CohortForm(VersionedForm):
    name = text_field("Name or round number", 120, validators=[DataRequired("Enter a name, such as Round 4")])
    venue = text_field("Venue", 200)
    places = bounded_integer("Number of places", minimum=1, maximum=100, required=True)
    facilitators = CheckboxesField("Facilitators", coerce=int)
    session_1 = DateField("Session 1", validators=[DataRequired("Enter the date of session 1")])
    session_2 = DateField("Session 2", validators=[DataRequired("Enter the date of session 2")])
    session_3 = DateField("Session 3", validators=[DataRequired("Enter the date of session 3")])
    session_4 = DateField("Session 4", validators=[DataRequired("Enter the date of session 4")])
    session_5 = DateField("Session 5", validators=[DataRequired("Enter the date of session 5")])
    session_6 = DateField("Session 6", validators=[DataRequired("Enter the date of session 6")])

    def __init__(self, *args, cohort=None, titles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.facilitators.choices = [(u.id, u.name) for u in User.with_role("facilitator")]
        for number, title in (titles or {}).items():
            if 1 <= number <= SESSIONS:
                self[f"session_{number}"].label.text = f"Session {number}: {title}"

    def session_fields(self):
        return [self[f"session_{n}"] for n in range(1, SESSIONS + 1)]

    def dates(self) -> dict[int, dt.date]:
        return {n: self[f"session_{n}"].data for n in range(1, SESSIONS + 1)}

    def validate_name(self, field):
        from .models import Cohort
        clash = Cohort.get_or_none(Cohort.name == (field.data or "").strip())
        if clash and (self.cohort is None or clash.id != self.cohort.id):
            raise ValidationError("There is already a cohort with this name")

    def validate_places(self, field):
        if self.cohort is not None and field.data is not None:
            taken = self.cohort.places_taken()
            if field.data < taken:
                raise ValidationError(f"{taken} people already have places: withdraw someone "
                                      f"before reducing the places to {field.data}")

    def validate_facilitators(self, field):
        if not field.data:
            raise ValidationError("Choose at least one facilitator")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        previous = None
        for number in range(1, SESSIONS + 1):
            current = self[f"session_{number}"]
            if current.data and previous is not None and previous.data and current.data < previous.data:
                current.errors.append(f"Session {number} must not be before session {number - 1} "
                                      f"({previous.data.strftime('%-d %b %Y')})")
                ok = False
            previous = current
        if self.cohort is not None:
            # A register already taken cannot move to a day that has not come: "present"
            # on a future day would make completion dates no one could have earned yet.
            from .models import Attendance, CohortSession
            taken = {s.number for s in CohortSession.select(CohortSession.number).join(Attendance)
                     .where(CohortSession.cohort == self.cohort).distinct()}
            today = clock.today()
            for number in sorted(n for n in taken if 1 <= n <= SESSIONS):
                current = self[f"session_{number}"]
                if current.data and current.data > today:
                    current.errors.append(f"Session {number}'s register has already been taken: "
                                          "its date cannot move into the future")
                    ok = False
        return ok


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class EnrolForm(FlaskForm):
    candidate = SelectField("Candidate", coerce=int, validate_choice=False,
                            validators=[DataRequired("Choose a candidate")])
    catch_up = BooleanField("A catch-up place",
                            description="Only for someone holding a place in another cohort, who will catch up "
                                        "the sessions they missed there. Otherwise one place at a time.")

    def __init__(self, *args, cohort=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.offering(())

    def offering(self, candidates) -> "EnrolForm":
        """The people listed: rows (dicts) of ``services.may_be_offered``, asked only
        when the page is shown (a POST checks its one candidate, not the list)."""
        self.candidate.choices = [(0, "Choose a candidate")] + [
            (c["id"], f"{c['name']} ({c['team_name']}, nominated {_day(c['nominated_on']).strftime('%-d %b %Y')}"
                      + (f"; has a place in {c['holds_place_in']}" if c.get("holds_place_in") else "") + ")")
            for c in candidates]
        return self

    def validate_candidate(self, field):
        """Only that the person exists: whether they may be offered a place here is
        ``services.offer``'s to say (the same rule as the list), inside its transaction."""
        from .models import Candidate
        if not field.data:
            raise ValidationError("Choose a candidate")
        # A fuzzed id too big for SQLite must not reach the query.
        candidate = Candidate.get_or_none(Candidate.id == field.data) if 0 < field.data < 2**63 else None
        if candidate is None:
            raise ValidationError("Choose a candidate from the list")
        field.candidate = candidate


class WithdrawForm(FlaskForm):
    reason = text_field("Reason for withdrawal", 500, validators=[DataRequired("Enter the reason for withdrawal")],
                        description="Keep it factual and brief, for example 'moved away' or 'chose to stop'. "
                                    "No health details.")


class MarkForm(FlaskForm):
    """One tap on the register. A catch-up needs its date; 'with whom' helps later."""

    status = SelectField("Attendance", choices=[(PRESENT, "Present"), (ABSENT, "Absent"),
                                                (LATE, "Late"), (CAUGHT_UP, "Caught up")])
    caught_up_on = DateField("Date of catch-up", validators=[Optional(), not_in_future])
    caught_up_with = text_field("Caught up with", 120, description="Who ran the catch-up.")

    def __init__(self, *args, earliest: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.earliest = earliest

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        field = self.caught_up_on
        if self.status.data == CAUGHT_UP and field.data and self.earliest and field.data < self.earliest:
            field.errors.append(f"The catch-up cannot be before the cohort began on "
                                f"{self.earliest.strftime('%-d %b %Y')}")
            ok = False
        # Optional() stops the field's own chain when it is empty, so the
        # "catch-up needs a date" rule lives here. A date that did not parse
        # already carries its own message.
        if self.status.data == CAUGHT_UP and not field.data and not field.errors:
            field.errors.append("Enter the date of the catch-up")
            ok = False
        return ok


class CurriculumForm(FlaskForm):
    title_1 = text_field("Session 1", 160, validators=[DataRequired("Enter a title for session 1")])
    title_2 = text_field("Session 2", 160, validators=[DataRequired("Enter a title for session 2")])
    title_3 = text_field("Session 3", 160, validators=[DataRequired("Enter a title for session 3")])
    title_4 = text_field("Session 4", 160, validators=[DataRequired("Enter a title for session 4")])
    title_5 = text_field("Session 5", 160, validators=[DataRequired("Enter a title for session 5")])
    title_6 = text_field("Session 6", 160, validators=[DataRequired("Enter a title for session 6")])
    minimum_sessions = bounded_integer("Sessions needed to complete", minimum=1, maximum=SESSIONS, required=True,
                                       description="6 means every session. Catch-ups count.")
    required_sessions = CheckboxesField("Sessions that must be among them", coerce=int,
                                        choices=[(n, f"Session {n}") for n in range(1, SESSIONS + 1)],
                                        validate_choice=True)

    def title_fields(self):
        return [self[f"title_{n}"] for n in range(1, SESSIONS + 1)]

    def validate_required_sessions(self, field):
        if self.minimum_sessions.data and len(field.data or []) > self.minimum_sessions.data:
            raise ValidationError(f"You chose {len(field.data)} required sessions but only "
                                  f"{self.minimum_sessions.data} are needed: raise the number needed or "
                                  "require fewer sessions")


class EquivalentForm(FlaskForm):
    provider = text_field("Provider", 200, validators=[DataRequired("Enter who provided the training")],
                          description="For example another NHS Trust or a recovery college.")
    completed_on = DateField("Date completed", validators=[DataRequired("Enter the date it was completed"),
                                                           not_in_future])
    evidence = long_text("Evidence seen", 2000, validators=[DataRequired("Describe the evidence you saw")],
                         description="For example 'certificate seen, copy on personnel file'.")
