"""Forms of the data rights pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import DataRequired

from ..forms import SelectField, bounded_integer, text_field


class ErasureForm(FlaskForm):
    reason = text_field("Why these records are to be erased", 200, validators=[DataRequired("Say why, without personal details")],
                        description="For example: request under Article 17, reference SAR-2026-014; or past retention. "
                                    "No personal details: this is kept after the erasure.")


class RetentionForm(FlaskForm):
    kind = SelectField("Kind of record")
    years = bounded_integer("Years to keep", minimum=0, maximum=200, required=True)
