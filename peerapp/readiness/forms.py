"""Forms of team readiness. They check shape; the rules (is the owner one of the
team's staff? is this the newest version?) are in services.py and rules.py."""
from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, PasswordField, RadioField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..forms import CheckboxesField, NeededWhen, SelectField, bounded_integer, long_text, text_field
from .rules import ITEM_STATUSES, SIGNING_ROLES, THEMES


def sane_date(form, field):
    if field.data and not (dt.date(2000, 1, 1) <= field.data <= dt.date(2100, 12, 31)):
        raise ValidationError("Enter a date between 2000 and 2100")


def date_field(label: str, required: bool = True, **kwargs) -> DateField:
    first = DataRequired(f"Enter the {label.lower()} as a date") if required else Optional()
    return DateField(label, validators=[first, sane_date], **kwargs)


def version_field():
    """The version the person saw: a stale save is refused rather than overwriting."""
    return bounded_integer("Version", 0, 2**31, required=True, widget=HiddenInput())


def person_choice(label: str, required: bool = False, **kwargs) -> SelectField:
    # validate_choice=False: a forged or stale choice meets the service's own message.
    return SelectField(label, coerce=lambda v: int(v) if str(v).isdigit() and 0 < int(v) < 2**63 else None,
                       validate_choice=False, validators=[DataRequired("Choose a person")] if required else [],
                       **kwargs)


def ids(value):
    return int(value) if str(value).isdigit() and 0 < int(value) < 2**63 else 0


class ItemForm(FlaskForm):
    status = RadioField("Status", choices=list(ITEM_STATUSES.items()),
                        validators=[InputRequired("Choose a status")])
    evidence = long_text("Evidence", 5000, description="What shows this is in place: a meeting, a document, "
                                                       "a named person. No service users' details.")
    owner = person_choice("Owner")
    review_on = date_field("Review date", required=False, description="When the team looks at this again.")
    version = version_field()


class NewItemForm(FlaskForm):
    title = text_field("Item", 200, validators=[DataRequired("Give the item a title")])
    guidance = long_text("What it means for your team", 2000)


class ConcernForm(FlaskForm):
    theme = RadioField("What is it about?", choices=list(THEMES.items()),
                       validators=[InputRequired("Choose what the concern is about")])
    text = long_text("Your concern", 5000, validators=[DataRequired("Write your concern")],
                     description="What worries you, and anything that would help. "
                                 "Do not name service users.")
    anonymous = BooleanField("Raise it anonymously",
                             description="Read what anonymity covers, and what it cannot, above.")


class ReplyForm(FlaskForm):
    reply = long_text("Reply to the person who raised it", 5000, validators=[DataRequired("Write the reply")])
    version = version_field()


class ResolveForm(FlaskForm):
    solution = long_text("Solution agreed", 5000, validators=[DataRequired("Write the solution the team agreed")])
    version = version_field()


class MeetingForm(FlaskForm):
    held_on = date_field("Date of the meeting")
    attendees = CheckboxesField("Who attended", coerce=ids)
    concerns = CheckboxesField("Concerns aired", coerce=ids,
                               description="Aired concerns are marked as discussed.")
    summary = long_text("Discussion summary", 20_000,
                        description="What was said, in a few lines. No service users' details.")
    version = bounded_integer("Version", 0, 2**31, widget=HiddenInput())


class AgreeActionForm(FlaskForm):
    text = long_text("Action agreed", 2000, validators=[DataRequired("Write the action agreed")],
                     description="A practical solution: what will be done.")
    owner = person_choice("Who will do it", required=True)
    due_on = date_field("Due by")
    concern = SelectField("About the concern", coerce=ids, validate_choice=False)


class SopForm(FlaskForm):
    # Required on the field (not only in the view), so its label does not say "(optional)".
    title = text_field("Title", 200, validators=[DataRequired("Give the SOP a title")])
    effective_on = date_field("Effective from")
    changes = long_text("Summary of changes", 5000, description="What is new in this version, for staff "
                                                                 "who read the last one.")
    body = long_text("Text of the SOP", 200_000, validators=[NeededWhen()],
                     description="Needed unless you attach a PDF below. Markdown: # for a heading, "
                                 "- for a list, **bold**.")
    pdf = FileField("Or attach a PDF", description="Up to 10 MB.")
    roles = CheckboxesField("Who must read and sign it", choices=[(r, r) for r in SIGNING_ROLES],
                            validators=[DataRequired("Choose who must read and sign it")])
    # The newest version number the manager's page showed: a version published by
    # someone else meanwhile refuses this one instead of silently superseding it.
    based_on = HiddenField()


class SignForm(FlaskForm):
    read = BooleanField("I have read this version and will follow it",
                        validators=[DataRequired("Confirm you have read it")])
    password = PasswordField("Your password", validators=[DataRequired("Type your password to sign")],
                             description="Typed again so that nobody can sign for you on a shared tablet.")
