"""Forms of the work-WRAP. The plan form is built from the section template."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import CheckboxesField, SelectField, VersionedForm, bounded_integer, long_text, text_field
from .models import WrapSection

SECTION_TEXT_LIMIT = 20_000


def field_name(section: WrapSection) -> str:
    return f"section_{section.key}"


class PlanFormBase(FlaskForm):
    # The version the person started from: a save based on an older one is a conflict.
    base_version = HiddenField()

    def validate_base_version(self, field):
        value = (field.data or "").strip()
        if not value.isdigit() or len(value) > 9:
            raise ValidationError("This page is out of date. Reload it and try again.")

    @property
    def base_number(self) -> int:
        return int(self.base_version.data)

    def texts(self, sections) -> dict[int, str]:
        return {s.id: (self[field_name(s)].data or "").replace("\r\n", "\n") for s in sections}


def plan_form(sections: list[WrapSection], **kwargs) -> PlanFormBase:
    """A form with one long text per section of the team's template."""
    attrs = {field_name(s): long_text(s.title, SECTION_TEXT_LIMIT, description=s.prompt) for s in sections}
    form_class = type("PlanForm", (PlanFormBase,), attrs)
    return form_class(**kwargs)


class ShareForm(FlaskForm):
    whole_plan = BooleanField("The whole plan",
                              description="Every section, including any the team adds later.")
    sections = CheckboxesField("Or only these sections", coerce=int)
    # Named "password" so the house never re-offers it after a lapsed session.
    password = PasswordField("Your password",
                             description="Sharing your work-WRAP needs your password, so nobody else can do it from a device you left signed in.",
                             validators=[DataRequired("Enter your password to share"), Length(max=128)])

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sections.choices = [(s.id, s.title) for s in sections]

    def validate_sections(self, field):
        if not self.whole_plan.data and not field.data:
            raise ValidationError("Choose the sections to share, or the whole plan")


class ArrangementForm(FlaskForm):
    supervisor = SelectField("Agreed with", coerce=int)
    agreed_on = DateField("Date agreed", validators=[DataRequired("Enter the date you agreed these arrangements")])
    arrangements = long_text("Working arrangements agreed", 10_000,
                             description="What you agreed: hours, tasks, breaks, supervision, adjustments.",
                             validators=[DataRequired("Write down what you agreed")])
    review_on = DateField("Review by", validators=[Optional()],
                          description="When you will look at these arrangements again.")

    def __init__(self, *args, readers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.supervisor.choices = [(u.id, u.name) for u in readers]

    def validate_review_on(self, field):
        if field.data and self.agreed_on.data and field.data < self.agreed_on.data:
            raise ValidationError("The review date must be on or after the date agreed")


class SectionForm(VersionedForm):
    title = text_field("Title", 200, validators=[DataRequired("Enter the section's title")])

    def __init__(self, *args, section=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section = section

    def validate_title(self, field):
        clash = WrapSection.get_or_none(WrapSection.title == (field.data or "").strip())
        if clash and (self.section is None or clash.id != self.section.id):
            raise ValidationError("There is already a section with this title")
    prompt = long_text("Prompt", 1000, description="The question peers see under the title.")
    order = bounded_integer("Position", 0, 10_000, required=True,
                            description="Sections are shown from the lowest number up.")
    active = BooleanField("In use", default=True,
                          description="A section taken out of use keeps the text peers already wrote in it.")


class EraseWrapForm(FlaskForm):
    """The owner deletes their whole plan: every version, share and arrangement."""
    confirm = BooleanField("I understand my plan, every earlier version and every share will be deleted for good",
                           validators=[DataRequired("Tick the box to confirm")])
