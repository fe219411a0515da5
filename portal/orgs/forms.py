from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, URL

from portal.orgs.models import ROLES

ROLE_CHOICES = [SelectChoice(r, r.capitalize()) for r in ROLES]


class OrgSettingsForm(FlaskForm):
    name = StringField("Organisation name", validators=[DataRequired("Enter a name"),
                                                        Length(max=120)])
    logo_url = StringField("Logo URL", validators=[Optional(), Length(max=500),
                                                   URL(message="Enter a full https:// URL")])
    brand_color = StringField("Brand colour", validators=[
        Optional(), Regexp(r"^#[0-9a-fA-F]{6}$", message="Use a colour like #1a73e8")])
    footer_text = TextAreaField("Email footer", validators=[Optional(), Length(max=500)])


class AddMemberForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter the person's email address"),
                                            Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="member")
    method = RadioField("How they sign in", default="invite", choices=[
        SelectChoice("invite", "Send a one-time invitation link"),
        SelectChoice("password", "Set an initial password now")])
    display_name = StringField("Display name", validators=[Optional(), Length(max=120)])
    password = PasswordField("Initial password", validators=[Optional(), Length(
        min=10, max=200, message="Use 10 to 200 characters")])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class AcceptInvitationForm(FlaskForm):
    display_name = StringField("Your name", validators=[Optional(), Length(max=120)])
    password = PasswordField("Choose a password", validators=[
        DataRequired("Choose a password"), Length(min=10, max=200,
                                                  message="Use 10 to 200 characters")])
