"""Forms for referrals: the service user, the referral itself, screening, first
meetings, contacts, closing, the catalogue and declared conflicts."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from ..forms import CheckboxesField, CorrectionForm, NeededWhen, SearchForm, SelectField, VersionedForm, bounded_integer, long_text, not_in_future, text_field
from ..models import Team, User
from ..workforce.forms import AGE_BANDS
from . import states
from .models import (ATTENDANCE, CANCELLED_BY, CONFLICT_SIDES, DELIVERY, PREFERENCE_KINDS, SETTINGS, SLOTS,
                     Intervention)
from .nhs_number import normalise, problem


def not_too_long_ago(form, field):
    if field.data and field.data.year < 1900:
        raise ValidationError("Enter a date after 1900")


def valid_nhs_number(form, field):
    if field.data and field.data.strip():
        found = problem(field.data)
        if found:
            raise ValidationError(found)


def date_field(label: str, required: bool = False, **kwargs) -> DateField:
    extra = kwargs.pop("validators", [])
    first = [InputRequired("Enter the date")] if required else [Optional()]
    return DateField(label, validators=[*first, not_too_long_ago, *extra], **kwargs)


PREF_STRENGTH = [("would like", "Would like"), ("must", "Must")]


def care_coordinator_choices(user, service_user=None) -> list[tuple[int, str]]:
    """Who may be named care co-ordinator: an active clinician of the record's team (for a
    new record, of the team of the person filling the form in), or whoever already is.
    Both the list offered and the check of a posted id come from here. Someone in no team
    is offered only themselves (if a clinician): the Trust has ~400 clinicians."""
    team_id = service_user.team_id if service_user is not None else getattr(user, "team_id", None)
    who = (User.team == team_id) if team_id else (User.id == getattr(user, "id", 0))
    kept = service_user.care_coordinator_id if service_user is not None else None
    if kept:
        who |= User.id == kept
    return [(u.id, u.name) for u in User.with_role("clinician").where(who)]


class ServiceUserFields(FlaskForm):
    """The minimal record of a service user (used on its own and inside a referral)."""

    name = text_field("Full name", 120, validators=[DataRequired("Enter the service user's name")])
    preferred_name = text_field("Preferred name", 60, description="What they like to be called.")
    nhs_number = text_field("NHS number", 14, validators=[valid_nhs_number],
                            description="10 digits, for example 943 476 5919.")
    date_of_birth = date_field("Date of birth", validators=[not_in_future])
    gender = text_field("Gender", 60)
    pronouns = text_field("Pronouns", 30, description="For example she/her, they/them.")
    contact_preference = long_text("How they prefer to be contacted", 500,
                                   description="For example: text first, then call; not before 10am.")
    team = SelectField("Team", coerce=int)
    care_coordinator = SelectField("Care co-ordinator", coerce=int, validate_choice=False,
                                   description="A clinician in the team.")
    languages = text_field("Languages", 200, description="Separate with commas, for example English, Urdu.")
    interests = text_field("Interests", 300, description="Separate with commas, for example football, cooking, music.")
    availability = CheckboxesField("When they are usually available", choices=SLOTS)
    area = text_field("Area", 80, description="Neighbourhood or town, to find a peer nearby.")
    pref_gender = text_field("Gender of the peer", 80)
    pref_gender_strength = RadioField("How important", choices=PREF_STRENGTH, default="would like")
    # The same bands peers give in their role, so a preference can be met.
    pref_age_band = SelectField("Age band of the peer", choices=AGE_BANDS, default="")
    pref_age_band_strength = RadioField("How important", choices=PREF_STRENGTH, default="would like")
    pref_background = text_field("Shared background", 80, description="For example a shared culture or faith.")
    pref_background_strength = RadioField("How important", choices=PREF_STRENGTH, default="would like")
    pref_language = text_field("Language the peer speaks", 80)
    pref_language_strength = RadioField("How important", choices=PREF_STRENGTH, default="would like")
    consent_referral = BooleanField("They consent to this referral for peer support")
    consent_sharing = BooleanField("They consent to sharing information with a peer worker")
    consent_on = date_field("Date consent was given", validators=[not_in_future])

    def __init__(self, *args, service_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_user = service_user
        self.team.choices = [(t.id, t.name) for t in Team.listed() if t.active]
        from flask_login import current_user
        if current_user and current_user.is_authenticated and not current_user.has_role("clinician") \
                and current_user.team_id:
            # The team decides who sees the record: anyone but a clinician (who refers to any
            # team) keeps it in their own, on every form built on this one (new referral, edit).
            self.team.choices = [(t, name) for t, name in self.team.choices if t == current_user.team_id]
        self.care_coordinator.choices = [(0, "Not known yet")] + care_coordinator_choices(current_user, service_user)

    def validate_care_coordinator(self, field):
        if field.data not in dict(field.choices):
            raise ValidationError("Choose a care co-ordinator from the list: a clinician in the team, "
                                  "or \"Not known yet\"")

    def validate_nhs_number(self, field):
        from .models import ServiceUser
        digits = normalise(field.data)
        if digits and problem(digits) is None:
            clash = ServiceUser.get_or_none(ServiceUser.nhs_number == digits)
            if clash and (self.service_user is None or clash.id != self.service_user.id):
                from flask_login import current_user
                if ServiceUser.visible_to(current_user).where(ServiceUser.id == clash.id).exists():
                    raise ValidationError("A service user with this NHS number is already recorded: "
                                          "search for them and refer them from their record")
                # Not someone this person may see: no search will find them, so point to who can help.
                raise ValidationError("A service user with this NHS number is already recorded, but not as "
                                      "someone you may see: ask the peer leads of their team to take your "
                                      "referral and add it to their record")

    def validate_consent_on(self, field):
        if (self.consent_referral.data or self.consent_sharing.data) and not field.data:
            raise ValidationError("Enter the date consent was given")

    def preference_rows(self) -> list[tuple[str, str, bool]]:
        return [(kind, (getattr(self, f"pref_{kind}").data or "").strip(),
                 getattr(self, f"pref_{kind}_strength").data == "must") for kind, _ in PREFERENCE_KINDS]

    def fill_preferences(self, service_user) -> None:
        for pref in service_user.preferences:
            box = getattr(self, f"pref_{pref.kind}", None)
            if box is not None and not box.data:
                box.data = pref.value
                getattr(self, f"pref_{pref.kind}_strength").data = "must" if pref.must else "would like"


class ServiceUserForm(ServiceUserFields):
    """Editing a service user's record on its own."""

    version = HiddenField()


class ReferralFields(FlaskForm):
    own_words = long_text("In their own words: how peer support may be most useful to them", 5000,
                          validators=[DataRequired("Write down what the service user said, in their words")],
                          description="Quote the service user where you can.")
    goals = long_text("Goals", 3000, validators=[DataRequired("Write at least one goal")])
    interventions = CheckboxesField("Interventions requested", coerce=int)
    risk_summary = long_text("Current risk summary", 3000,
                             validators=[DataRequired("Write a current risk summary")])
    risk_level = RadioField("Current risk level", choices=[(r, r.capitalize()) for r in states.RISK_LEVELS],
                            validators=[InputRequired("Choose the current risk level")])
    last_risk_review_on = date_field("Date of the last risk review", required=True, validators=[not_in_future])
    consent_override_reason = long_text(
        "Reason to refer without recorded consent", 1000, validators=[NeededWhen()],
        description="Only if consent is not recorded above, for example it will be sought at the first contact.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interventions.choices = [(i.id, i.name) for i in Intervention.current()]

    def validate_interventions(self, field):
        if not field.data:
            raise ValidationError("Choose at least one intervention")


class ReferralForm(ServiceUserFields, ReferralFields):
    """A new service user and their referral, on one page."""

    def validate_consent_override_reason(self, field):
        if not (self.consent_referral.data and self.consent_sharing.data) and not (field.data or "").strip():
            raise ValidationError("Record both consents, or give a reason to refer without them")


class ExistingReferralForm(ReferralFields):
    """A new referral for a service user already recorded."""

    def __init__(self, *args, service_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_user = service_user

    def validate_consent_override_reason(self, field):
        if not self.service_user.has_consent() and not (field.data or "").strip():
            raise ValidationError("Consent is not recorded on their record: record it there, "
                                  "or give a reason to refer without it")


class ServiceUserSearchForm(SearchForm):
    q = text_field("Name or NHS number", 100)


class ScreeningForm(FlaskForm):
    decision = RadioField("Decision", choices=[(states.ACCEPTED, "Accept"), (states.DECLINED, "Decline"),
                                               (states.MORE_INFO, "Ask the referrer for more information")],
                          validators=[InputRequired("Choose a decision")])
    reasons = long_text("Reasons", 3000, validators=[NeededWhen()], description="Needed to decline; shown to the referrer.")
    questions = long_text("Questions for the referrer", 3000, validators=[NeededWhen()], description="Only when asking for more information.")
    risk_level = RadioField("Current risk level", choices=[(r, r.capitalize()) for r in states.RISK_LEVELS],
                            validators=[InputRequired("Choose the current risk level")])
    risk_considerations = long_text("Risk considerations", 3000)
    safety_note = long_text("Safety note for the peer", 1500, validators=[NeededWhen()],
                            description="Needed when a volunteer may take it. Written for the peer: what to do "
                                        "and what to avoid to stay safe. Volunteers see this, never the risk summary.")
    interventions = CheckboxesField("Suitable interventions", coerce=int)
    volunteer_allowed = BooleanField("A volunteer peer may take this referral",
                                     description="Only for low risk and interventions volunteers may deliver.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interventions.choices = [(i.id, i.name) for i in Intervention.current()]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        decision = self.decision.data
        if decision == states.DECLINED and not (self.reasons.data or "").strip():
            self.reasons.errors = [*self.reasons.errors, "Give the reasons for declining"]
            ok = False
        if decision == states.MORE_INFO and not (self.questions.data or "").strip():
            self.questions.errors = [*self.questions.errors, "Write the questions for the referrer"]
            ok = False
        if decision == states.ACCEPTED and not self.interventions.data:
            self.interventions.errors = [*self.interventions.errors, "Choose at least one suitable intervention"]
            ok = False
        if decision == states.ACCEPTED and self.volunteer_allowed.data and not (self.safety_note.data or "").strip():
            self.safety_note.errors = [*self.safety_note.errors, "Write a safety note for the volunteer who takes it"]
            ok = False
        if decision == states.ACCEPTED and self.volunteer_allowed.data:
            from .models import VOLUNTEER_RISK_LEVELS
            paid_only = [i.name for i in Intervention.select().where(
                Intervention.id.in_(self.interventions.data or []), Intervention.volunteers_allowed == False)]  # noqa: E712
            problems = []
            if self.risk_level.data and self.risk_level.data not in VOLUNTEER_RISK_LEVELS:
                problems.append(f"volunteers do not take {self.risk_level.data} risk referrals")
            if paid_only:
                problems.append(f"volunteers do not deliver {', '.join(paid_only)}")
            if problems:
                self.volunteer_allowed.errors = [*self.volunteer_allowed.errors,
                                                 "A volunteer cannot take this: " + "; ".join(problems)]
                ok = False
        return ok


class AnswerForm(FlaskForm):
    answer = long_text("Your answer", 5000, validators=[DataRequired("Write your answer")])


class AssignForm(FlaskForm):
    # Radios, not a select: big touch targets on a tablet, and every choice visible at once.
    peer_role = RadioField("Peers ready to practise with capacity", coerce=int,
                           validators=[InputRequired("Choose a peer")])


class ArrangeMeetingForm(FlaskForm):
    meeting_on = date_field("Date of the first meeting", required=True)
    place = text_field("Place", 200, validators=[DataRequired("Enter where you will meet")])
    attendees = long_text("Who will attend", 1000, validators=[DataRequired("Write who will attend")],
                          description="The service user, the peer, the peer lead, and anyone they bring.")

    def __init__(self, *args, referral=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral

    def validate_meeting_on(self, field):
        if self.referral is not None and field.data and field.data < self.referral.referred_on:
            raise ValidationError(f"The first meeting cannot be before the referral date "
                                  f"({self.referral.referred_on:%-d %b %Y})")


class MeetingOutcomeForm(FlaskForm):
    outcome = RadioField("Outcome", choices=[("go ahead", "Go ahead: peer support starts"),
                                             ("not a good fit", "Not a good fit: back to awaiting match")],
                         validators=[InputRequired("Choose the outcome")])
    attendees = long_text("Who attended", 1000)
    reason = long_text("Notes and reasons", 3000, validators=[NeededWhen()], description="Needed when it was not a good fit.")

    def validate_reason(self, field):
        if self.outcome.data == "not a good fit" and not (field.data or "").strip():
            raise ValidationError("Say why it was not a good fit")


class ContactForm(FlaskForm):
    contact_on = date_field("Date of the contact", required=True, validators=[not_in_future])
    minutes = bounded_integer("Duration in minutes", 0, 600)
    # DataRequired, not a validate_ method: it flags the field required, so the label
    # does not say "(optional)" on a field that refuses to be left empty.
    intervention = SelectField("Intervention", coerce=int, validators=[DataRequired("Choose the intervention")])
    setting = SelectField("Setting", choices=[("", "Choose")] + [(s, s.capitalize()) for s in SETTINGS], default="",
                          validators=[DataRequired("Choose the setting")])
    attendance = RadioField("Attendance", choices=[(a, a.capitalize()) for a in ATTENDANCE],
                            validators=[InputRequired("Choose whether it happened")])
    cancelled_by = SelectField("Cancelled by", choices=[("", "Not cancelled")] + [(c, c.capitalize()) for c in CANCELLED_BY],
                               default="")
    summary = long_text("Summary", 5000)
    debrief_on = date_field("Date of the debrief", validators=[not_in_future],
                            description="The day the volunteer told you about this contact.")

    def __init__(self, *args, referral=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral
        choices = referral.intervention_choices() if referral else [(i.id, i.name) for i in Intervention.current()]
        self.intervention.choices = [(0, "Choose")] + choices

    def validate_contact_on(self, field):
        # The model refuses it too; here the message sits on the field, linked from the summary.
        if self.referral is not None and field.data and field.data < self.referral.referred_on:
            raise ValidationError(f"The contact date is before the referral date "
                                  f"({self.referral.referred_on:%-d %b %Y})")

    def validate_cancelled_by(self, field):
        if self.attendance.data == "cancelled" and not field.data:
            raise ValidationError("Say who cancelled")


class ContactCorrectionForm(CorrectionForm, ContactForm):
    """Correct a recorded contact: the recording form's fields, the version it was made
    from, and why."""

    def __init__(self, *args, contact=None, **kwargs):
        super().__init__(*args, **kwargs)
        if contact is not None and contact.intervention_id and \
                contact.intervention_id not in {value for value, _ in self.intervention.choices}:
            self.intervention.choices.append((contact.intervention_id, contact.intervention.name))


class CloseForm(FlaskForm):
    outcome = RadioField("Outcome", choices=[(o, o.capitalize()) for o in states.CLOSING_OUTCOMES],
                         validators=[InputRequired("Choose the outcome")])
    summary = long_text("Summary", 5000, validators=[DataRequired("Write a closing summary")])


class InterventionForm(VersionedForm):
    name = text_field("Name", 120, validators=[DataRequired("Enter the intervention's name")])
    duties = long_text("What the peer does", 3000, validators=[DataRequired("Describe the peer's duties")])
    delivery = RadioField("Delivery", choices=list(DELIVERY), default="1:1")
    settings = CheckboxesField("Settings", choices=[(s, s.capitalize()) for s in SETTINGS])
    typical_sessions = bounded_integer("Typical number of sessions", 1, 200)
    session_minutes = bounded_integer("Typical length of a session in minutes", 5, 600)
    frequency = text_field("How often", 60, description="For example weekly, fortnightly, as needed.")
    volunteers_allowed = BooleanField("Volunteer peers may deliver it")
    risk_levels = CheckboxesField("Suits these risk levels", choices=[(r, r.capitalize()) for r in states.RISK_LEVELS])
    retired = BooleanField("Retired", description="No longer offered; kept in past referrals and contacts.")

    def __init__(self, *args, intervention=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.intervention = intervention

    def validate_name(self, field):
        clash = Intervention.get_or_none(Intervention.name == (field.data or "").strip())
        if clash and (self.intervention is None or clash.id != self.intervention.id):
            raise ValidationError("There is already an intervention with this name")

    def validate_risk_levels(self, field):
        if not field.data:
            raise ValidationError("Choose at least one risk level")

    def validate_settings(self, field):
        if not field.data:
            raise ValidationError("Choose at least one setting")


class ConflictForm(FlaskForm):
    peer_role = SelectField("Peer", coerce=int, validators=[InputRequired("Choose the peer")])
    declared_by_side = RadioField("Declared by", choices=[(s, f"The {s}") for s in CONFLICT_SIDES],
                                  validators=[InputRequired("Choose who declared it")])
    note = long_text("Note", 1000, description="For example: neighbours; were on the same ward.")


class ListFilterForm(FlaskForm):
    """Filters for the lists: state and team only (no names), so a GET is fine."""

    class Meta:
        csrf = False

    state = SelectField("State", choices=[("", "Any state")] + [(s, s.capitalize()) for s in states.STATES],
                        default="")
    team = SelectField("Team", coerce=int, default=0)

    def __init__(self, *args, only_team: Team | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Someone who sees one team's referrals only is not offered the others: the
        # list would be empty (and 40 teams were a fifth of the list page's time).
        # Their team came with them at sign-in: no query (it was ~0.15 ms a list).
        teams = Team.listed() if only_team is None else [only_team]
        self.team.choices = [(0, "Any team")] + [(t.id, t.name) for t in teams]
