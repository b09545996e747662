from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .. import passwords


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password"), Length(max=128)])


class NewPasswordMixin:
    new_password = PasswordField(
        "New password",
        description=f"At least {passwords.MIN_LENGTH} characters. A few unrelated words together are easy to remember and hard to guess.",
        validators=[DataRequired("Enter a new password")])
    confirm = PasswordField("Type the new password again",
                            validators=[DataRequired("Type the new password again"),
                                        EqualTo("new_password", "The two passwords do not match")])

    def validate_new_password(self, field):
        user = getattr(self, "user", None)
        found = passwords.problems(field.data or "", email=getattr(user, "email", ""))
        if found:
            raise ValidationError(" ".join(found))


class PasswordChangeForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired("Enter your current password"), Length(max=128)])

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field):
        if not passwords.verify(self.user.password_hash, field.data or ""):
            self.wrong_current = True
            raise ValidationError("Your current password is not right")




class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password"), Length(max=128)])
