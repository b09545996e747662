"""Every form in the app says truthfully which fields are optional.

The field macro marks a box "(optional)" when the field is not flagged required,
so a field that refuses an empty value must carry the flag (DataRequired,
InputRequired, bounded_integer(required=...)), and a field flagged required must
refuse an empty value. Walked over every form class in every area, each sent
with nothing filled in."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import peerapp
from peerapp.demo import load_demo

# Fields the macro draws as a fieldset or checkbox, or never marks: no "(optional)" on them.
NOT_MARKED = {"HiddenField", "CSRFTokenField", "CheckboxesField", "RadioField", "MultiCheckboxField",
              "BooleanField", "PasswordField", "SubmitField", "FormField", "FieldList"}
SELECTS = ("SelectField", "QuerySelectField")


def all_form_classes() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(peerapp.__path__, "peerapp."):
        if module.name.endswith(".forms") or module.name == "peerapp.forms":
            importlib.import_module(module.name)
    found, todo = [], [FlaskForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("peerapp."):
                found.append(sub)
    return sorted(set(found), key=lambda c: (c.__module__, c.__name__))


def test_the_walk_finds_the_forms_of_every_area():
    modules = {c.__module__ for c in all_form_classes()}
    for area in ("training", "workforce", "wrap", "referrals", "matching", "admin", "auth"):
        assert f"peerapp.{area}.forms" in modules


def _boxes(form):
    for name, f in form._fields.items():
        if f.type not in NOT_MARKED and name != "csrf_token":
            yield name, f


def _blank_choice(f):
    """What a person leaves a select on to say nothing: its empty choice, if it has one."""
    try:
        return next((str(c[0]) for c in f.iter_choices() if c[0] in ("", 0, None)), None)
    except TypeError:
        return None


def _shown(app, f) -> str:
    template = app.jinja_env.from_string('{% from "macros/forms.html" import field %}{{ field(f) }}')
    return template.render(f=f)


def test_optional_label_and_validators_agree(app):
    """Each box sent empty (a select on its empty choice): refused exactly when its
    label lacks "(optional)"; a box needed only sometimes says when in its hint."""
    with app.app_context():
        load_demo()
    wrong, walked, skipped = [], 0, []
    for form_class in all_form_classes():
        with app.test_request_context("/", method="POST"):
            app.preprocess_request()
            probe = form_class(formdata=None, meta={"csrf": False})
            empty = MultiDict()
            for name, f in _boxes(probe):
                blank = _blank_choice(f) if f.type in SELECTS else ""
                if blank is not None:
                    empty[f.name] = blank
            form = form_class(formdata=empty, meta={"csrf": False})
            try:
                form.validate()
            except (AttributeError, TypeError):  # a rule that needs the record its view passes
                skipped.append(form_class.__name__)
                continue
            walked += 1
            for name, f in _boxes(form):
                where = f"{form_class.__module__[8:]}.{form_class.__name__}.{name}"
                says_optional = "(optional)" in _shown(app, f)
                if f.name not in empty:  # a select with no empty choice cannot be left empty
                    if says_optional:
                        wrong.append(f"{where}: '(optional)' on a select with no empty choice")
                    continue
                refused = bool(f.errors)
                if f.flags.conditional:
                    if says_optional or not f.description:
                        wrong.append(f"{where}: needed only sometimes: no '(optional)', and a hint saying when")
                elif refused and says_optional:
                    wrong.append(f"{where}: labelled '{f.label.text} (optional)' but refused when empty: {f.errors}")
                elif not refused and not says_optional:
                    wrong.append(f"{where}: not labelled optional but accepted when empty")
    assert walked >= 40 and len(skipped) <= walked // 5, (walked, skipped)
    assert wrong == [], "\n".join(wrong)
