"""peerapp's select (peerapp.forms.Select) writes each option itself, for speed: it
must give exactly the HTML WTForms' own select gives, and every select uses it."""
from __future__ import annotations

import pytest
import wtforms
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

from peerapp.forms import Select, SelectField

from tests.test_form_labels import all_form_classes

CHOICES = [
    ("", "Any state"),
    ("a&b", "Tom & Jerry <script>alert(1)</script>"),
    ('say "hi"', "O'Neil"),
    ("markup", Markup("<em>already safe</em>")),
    ("no-label", ""),
    ("with-attributes", "Kept apart", {"disabled": True, "data-x": "1"}),
]


class _Form(wtforms.Form):
    plain = SelectField("Plain", choices=CHOICES)
    numbers = SelectField("Numbers", coerce=int, choices=[(0, "None"), (7, "Seven"), (12, "Twelve")])
    flags = SelectField("Flags", coerce=lambda v: v in (True, "True"), choices=[(True, "Yes"), (False, "No")])
    required = SelectField("Required", choices=[("x", "X")], validators=[wtforms.validators.InputRequired()])


@pytest.mark.parametrize("posted", [{}, {"plain": 'say "hi"', "numbers": "12", "flags": "True"},
                                    {"plain": "a&b", "numbers": "7", "flags": "False"}])
def test_each_select_renders_exactly_as_wtforms_own(posted):
    form = _Form(MultiDict(posted))
    for field in form:
        for attributes in ({}, {"class_": "nhsuk-select", "aria-describedby": 'x-hint "y"'}):
            ours = field(**attributes)
            theirs = wtforms.widgets.Select()(field, **attributes)
            assert str(ours) == str(theirs), field.name
            assert isinstance(ours, Markup)
    assert '<option selected value="' in str(form.plain()) or not posted


def test_the_escaping_is_the_html_a_browser_needs():
    html = str(_Form(MultiDict({"plain": "a&b"})).plain())
    assert '<option selected value="a&amp;b">Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt;</option>' in html
    assert '<option value="say &#34;hi&#34;">O&#39;Neil</option>' in html
    assert "<em>already safe</em>" in html  # a Markup label is the app's own HTML
    assert '<option value="no-label">no-label</option>' in html


def test_every_select_in_every_form_is_peerapps():
    """A select made from WTForms' own class would be ~25 us an option slower; one
    with a widget of its own must say so here."""
    found = []
    for form in all_form_classes():
        for name, value in vars(form).items():
            if isinstance(value, UnboundField) and issubclass(value.field_class, wtforms.SelectField) \
                    and not issubclass(value.field_class, (wtforms.SelectMultipleField, wtforms.RadioField)):
                found.append(f"{form.__name__}.{name}")
                assert issubclass(value.field_class, SelectField), f"{form.__name__}.{name}"
                assert isinstance(value.kwargs.get("widget", Select()), Select), f"{form.__name__}.{name}"
    assert len(found) >= 25, found
