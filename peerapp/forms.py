"""Form pieces every area shares."""
from __future__ import annotations

import re

from flask import request
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms import SelectField as _WTFormsSelectField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from . import clock

# SQLite integers stop at 2**63: an unbounded IntegerField turns a fuzzed number
# into a 500. Every whole-number field in peerapp is bounded.
SANE_MAX = 1_000_000


class VersionedForm(FlaskForm):
    """An edit form of a shared record: it carries the version it was made from,
    so a save from a stale page is refused (409, typed text kept) instead of
    silently overwriting someone else's change (``peerapp.changes.check_version``)."""
    version = HiddenField()



class CorrectionForm(VersionedForm):
    """Correct a record that is otherwise only ever created: mixed in front of the form
    that records it, so the same fields come back with the version and a reason, kept
    in the record's history (``peerapp.history.correct``)."""
    reason = StringField("Reason for the correction",
                         validators=[DataRequired("Say why you are correcting it"), Length(max=200)],
                         description="For example: wrong date entered. Kept in the record's history.")

class ActionForm(FlaskForm):
    """An empty form: a CSRF token for POST-only buttons (logout, deactivate, ...)."""


class SearchForm(FlaskForm):
    """Searches are POSTs, so names never travel in a URL."""
    q = StringField("Search", validators=[Length(max=100)])


class Select(widgets.Select):
    """WTForms' select, each plain option written directly: the same HTML (``selected``
    before ``value``, value and label escaped) without ``html_params`` and a formatted
    Markup per option (~25 us an option: 0.3 ms of every list view for its state
    filter; ~16 ms for the ~230 people a Trust-size cohort page offers)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        return (f'<option {"selected " if choice.selected else ""}value="{escape(choice.value)}">'
                f'{escape(choice.label or choice.value)}</option>')

    @classmethod
    def _dispatch_render_option(cls):
        # WTForms inspects render_option's signature on every render (~13 us) to
        # support pre-3.3 overrides; this one has the current signature.
        return cls.render_option


class SelectField(_WTFormsSelectField):
    """Every select in peerapp: WTForms' field with the widget above."""
    widget = Select()


class CheckboxesField(SelectMultipleField):
    """Several choices as NHS.UK checkboxes (macros/forms.html goes by this class name)."""
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")


def int_arg(name: str, default: int | None = None, *, minimum: int = 0, maximum: int = 2**63 - 1,
            source=None) -> int | None:
    """The one way a view reads a whole number from the query string or a
    posted value (``request.values`` unless ``source`` is given): ``default``
    unless it is an integer from ``minimum`` to ``maximum``. ``request.args.get(
    name, type=int)`` would pass 2^63 on to SQLite, which answers with a 500."""
    raw = (request.values if source is None else source).get(name, "")
    raw = raw.strip() if isinstance(raw, str) else ""
    if not _WHOLE_NUMBER.fullmatch(raw):
        return default
    value = int(raw)
    return value if minimum <= value <= maximum else default


def not_in_future(form, field):
    if field.data and field.data > clock.today():
        raise ValidationError("This date cannot be in the future")


CONTROL_CHARACTERS_MESSAGE = "Remove the hidden control characters from this text"


# NUL and the other C0 controls (tab and line breaks are text) and DEL. A pattern, not
# a look at each character in Python: every field of every POST is checked.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value) -> bool:
    """NUL and the other C0 controls (tab and line breaks are text) and DEL."""
    return isinstance(value, str) and _CONTROL_CHARACTERS.search(value) is not None


def no_control_characters(form, field):
    """Stops the field's validation: no later validator (a uniqueness check, a lookup)
    may send such text to the database, where PostgreSQL refuses a NUL with a 500."""
    if any(has_control_characters(v) for v in (field.raw_data or [])) or has_control_characters(field.data):
        raise StopValidation(CONTROL_CHARACTERS_MESSAGE)


def _bind_field(self, form, unbound_field, options):
    """Every field of every form in peerapp checks for control characters first."""
    field = unbound_field.bind(form=form, **options)
    field.validators = [no_control_characters, *field.validators]
    return field


# One rule in one place: the house's forms all subclass FlaskForm, whose Meta binds
# every field; binding through _bind_field puts the check in front of each field's
# validators, including forms written after this line and the CSRF token itself.
FlaskForm.Meta.bind_field = _bind_field


class WholeNumberField(IntegerField):
    """A whole number typed in a box. Empty (or spaces) is no number and no error of
    its own: whether that is allowed is the validators' business, so an optional
    field accepts it. Anything else that is not a whole number gets the field's one
    message, not a second generic one beside it."""

    def __init__(self, label=None, validators=None, message="Enter a whole number", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        self.data = None
        if not text:
            return
        try:
            self.data = int(text)
        except ValueError:
            raise ValueError(self.message) from None


class NumberNeeded:
    """A required whole number: flags the field required (so its label carries no
    "(optional)") and says once what to enter."""
    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.data is None:
            # A typed non-number already has its message from process_formdata.
            raise StopValidation("" if field.process_errors else self.message)


class Within:
    """Bounds, checked only when there is a number (empty is Optional's or NumberNeeded's)."""

    def __init__(self, minimum: int, maximum: int, message: str):
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def __call__(self, form, field):
        if field.data is not None and not self.minimum <= field.data <= self.maximum:
            raise ValidationError(self.message)


def bounded_integer(label: str, minimum: int = 0, maximum: int = SANE_MAX, required: bool | str = False,
                    **kwargs) -> WholeNumberField:
    """A whole-number field between minimum and maximum. Optional ones accept an empty
    box (data None); required ones say "Enter the ..." (or the message given as
    ``required``), and their label is not marked "(optional)"."""
    message = f"Enter a whole number from {minimum} to {maximum}"
    extra = kwargs.pop("validators", [])
    if required:
        first = NumberNeeded(required if isinstance(required, str) else f"Enter the {label[0].lower()}{label[1:]}")
    else:
        first = Optional()
    render_kw = {"inputmode": "numeric", **kwargs.pop("render_kw", {})}
    return WholeNumberField(label, validators=[first, Within(minimum, maximum, message), *extra],
                            message=message, render_kw=render_kw, **kwargs)


def text_field(label: str, max_length: int = 200, **kwargs) -> StringField:
    extra = kwargs.pop("validators", [])
    return StringField(label, validators=[*extra, Length(max=max_length), no_control_characters], **kwargs)


def long_text(label: str, max_length: int = 20_000, **kwargs) -> TextAreaField:
    extra = kwargs.pop("validators", [])
    return TextAreaField(label, validators=[*extra, Length(max=max_length), no_control_characters], **kwargs)


class NeededWhen:
    """Marks a field needed only in some cases, which its hint names ("Needed to
    decline"); a validate_ method does the checking. Its label says neither
    "(optional)" nor nothing-at-all wrongly: it carries no "(optional)" mark."""
    field_flags = {"conditional": True}

    def __call__(self, form, field):
        return None


SELECTS = ("SelectField", "QuerySelectField")


def marked_optional(field) -> bool:
    """Does the field's label say "(optional)"? Only when it may really be left
    empty: not flagged required, not needed-when, and (for a select) it offers an
    empty choice to leave it on. The field macro asks this, nothing else."""
    if field.flags.required or field.flags.conditional:
        return False
    if field.type in SELECTS:
        try:
            return any(choice[0] in ("", 0, None) for choice in field.iter_choices())
        except TypeError:  # choices not set yet
            return False
    return True
