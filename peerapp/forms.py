"""Form pieces every area shares."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from . import clock

# SQLite integers stop at 2**63: an unbounded IntegerField turns a fuzzed number
# into a 500. Every whole-number field in peerapp is bounded.
SANE_MAX = 1_000_000


class ActionForm(FlaskForm):
    """An empty form: a CSRF token for POST-only buttons (logout, deactivate, ...)."""


class SearchForm(FlaskForm):
    """Searches are POSTs, so names never travel in a URL."""
    q = StringField("Search", validators=[Length(max=100)])


class CheckboxesField(SelectMultipleField):
    """Several choices as NHS.UK checkboxes (macros/forms.html goes by this class name)."""
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def not_in_future(form, field):
    if field.data and field.data > clock.today():
        raise ValidationError("This date cannot be in the future")


def no_control_characters(form, field):
    value = field.data or ""
    if any(ord(c) < 32 and c not in "\t\r\n" for c in value) or "\x7f" in value:
        raise ValidationError("Remove the hidden control characters from this text")


def bounded_integer(label: str, minimum: int = 0, maximum: int = SANE_MAX, required: bool = False, **kwargs):
    validators = [] if required else [Optional()]
    validators.append(NumberRange(minimum, maximum, f"Enter a whole number from {minimum} to {maximum}"))
    return IntegerField(label, validators=validators, **kwargs)


def text_field(label: str, max_length: int = 200, **kwargs) -> StringField:
    extra = kwargs.pop("validators", [])
    return StringField(label, validators=[*extra, Length(max=max_length), no_control_characters], **kwargs)


def long_text(label: str, max_length: int = 20_000, **kwargs) -> TextAreaField:
    extra = kwargs.pop("validators", [])
    return TextAreaField(label, validators=[*extra, Length(max=max_length), no_control_characters], **kwargs)
