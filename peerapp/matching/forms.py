"""Matching forms: the team's settings, overriding a proposal, approving several."""
from __future__ import annotations

import math

from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from ..forms import SelectField, long_text
from .engine import DEFAULT_WEIGHTS, WEIGHT_LABELS
from .models import MAX_WEIGHT


class WeightField(FloatField):
    """A float from 0 to MAX_WEIGHT. NaN slips through NumberRange (every comparison
    with NaN is false), so finiteness is checked first."""

    def pre_validate(self, form):
        if self.data is None:
            return
        if not math.isfinite(self.data) or not 0 <= self.data <= MAX_WEIGHT:
            self.data = None
            raise ValidationError(f"Enter a number from 0 to {MAX_WEIGHT:g}, like 1 or 0.5")


def _weight_field(name: str) -> WeightField:
    return WeightField(WEIGHT_LABELS.get(name, name.replace("_", " ").capitalize()),
                       validators=[InputRequired(f"Enter a number from 0 to {MAX_WEIGHT:g}")],
                       description=f"Default {DEFAULT_WEIGHTS[name]:g}. 0 means it does not count.")


class SettingsForm(FlaskForm):
    most_matches_first = BooleanField(
        "Match as many referrals as possible first",
        description="Then the best fit among those. Untick to go for the highest total score only.")

    weight_names = list(DEFAULT_WEIGHTS)

    def weight_fields(self):
        return [self[f"weight_{name}"] for name in self.weight_names]

    def weights(self) -> dict[str, float]:
        return {name: float(self[f"weight_{name}"].data) for name in self.weight_names}

    def fill_from(self, settings) -> None:
        for name, value in settings.weights.items():
            self[f"weight_{name}"].data = value
        self.most_matches_first.data = bool(settings.most_matches_first)


for _name in DEFAULT_WEIGHTS:
    setattr(SettingsForm, f"weight_{_name}", _weight_field(_name))


class OverrideForm(FlaskForm):
    """Another eligible peer with capacity, and why."""
    peer_role = SelectField("Peer to assign instead", coerce=int, validate_choice=False,
                            validators=[DataRequired("Choose the peer to assign instead")])
    reason = long_text("Why this peer instead", 1000, validators=[DataRequired("Write why you chose another peer")],
                       description="Kept with the run, so the choice can be understood later.")

    def __init__(self, *args, choices=(), refusal=None, **kwargs):
        """``refusal(role_id)`` says why a peer not among the choices may not take it."""
        super().__init__(*args, **kwargs)
        self.peer_role.choices = [(0, "Choose a peer")] + list(choices)
        self.refusal = refusal

    def validate_peer_role(self, field):
        if field.data and field.data not in {value for value, _ in self.peer_role.choices}:
            raise ValidationError(self.refusal(field.data) if self.refusal else "Choose one of the peers listed")

