from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..forms import CheckboxesField, SelectField, VersionedForm, long_text, text_field
from ..models import ROLES, Team, User


class TeamForm(VersionedForm):
    name = text_field("Team name", 120, validators=[DataRequired("Enter the team's name")])
    base_address = long_text("Team base address", 1000,
                             description="Where peers sign in and out, and where first meetings can happen.")
    active = BooleanField("Active", default=True)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def validate_name(self, field):
        clash = Team.get_or_none(Team.name == (field.data or "").strip())
        if clash and (self.team is None or clash.id != self.team.id):
            raise ValidationError("There is already a team with this name")


class UserForm(VersionedForm):
    name = text_field("Full name", 120, validators=[DataRequired("Enter the person's name")])
    email = EmailField("Email address", validators=[DataRequired("Enter an email address"),
                                                    Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address like name@nhs.net"), Length(max=254)])
    team = SelectField("Team", coerce=int)
    roles = CheckboxesField("Roles", choices=list(ROLES.items()),
                            description="A person may hold several roles.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.team.choices = [(0, "No team")] + [(t.id, t.name) for t in Team.listed()]

    def validate_email(self, field):
        clash = User.by_email(field.data)
        if clash and (self.user is None or clash.id != self.user.id):
            raise ValidationError("Someone already has this email address")

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError("Choose at least one role")


class UserFilterForm(FlaskForm):
    q = text_field("Name or email", 100)
    role = SelectField("Role", choices=[("", "Any role")] + list(ROLES.items()), default="")
    team = SelectField("Team", coerce=int, default=0)
    status = SelectField("Status", choices=[("active", "Active"), ("inactive", "Deactivated"), ("all", "All")],
                         default="active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = [(0, "Any team")] + [(t.id, t.name) for t in Team.listed()]


class AuditFilterForm(FlaskForm):
    """The audit log's filters. Posted (with CSRF), so a name typed into "Who" never goes
    in a URL: the page they lead to is a GET whose query string holds only the other
    filters and the chosen person's id. A list of every person (925 at the Trust's size)
    made the page 47 KB."""

    action = text_field("Action", 40)
    record_type = text_field("Kind of record", 40)
    record_id = text_field("Record id", 40)
    who = text_field("Who", 100, description="Part of a name, or an email address.")
    user = HiddenField()  # the id of the person shown in "Who", kept while other filters change
