from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address"),
                                            Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[Length(max=120)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired("Enter your current password")])
    new_password = PasswordField("New password",
                                 validators=[DataRequired("Enter a new password"),
                                             Length(min=10, max=200,
                                                    message="Use 10 to 200 characters")])
