from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField, \
    TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

SECURITY_CHOICES = [
    SelectChoice("starttls", "STARTTLS (usually port 587)"),
    SelectChoice("tls", "TLS from the start (usually port 465)"),
]
PLAINTEXT_CHOICE = SelectChoice("none", "No encryption (test servers only)")


class SmtpForm(FlaskForm):
    """The wizard: connection, then sender. Credentials are never rendered back."""

    host = StringField("SMTP host", validators=[DataRequired("Enter the server's host name"),
                                                Length(max=253)])
    security = SelectField("Security", choices=SECURITY_CHOICES, default="starttls")
    port = IntegerField("Port", default=587, validators=[
        DataRequired("Enter the port"), NumberRange(1, 65535, "Enter a port from 1 to 65535")])
    username = StringField("Username", validators=[Optional(), Length(max=254)])
    password = PasswordField("Password", validators=[Optional(), Length(max=500)])
    ca_pem = TextAreaField("Trusted CA certificate (optional)",
                           validators=[Optional(), Length(max=20000)])
    remove_ca = BooleanField("Remove the saved CA certificate")
    from_email = EmailField("From address", validators=[
        DataRequired("Enter the address mail will come from"), Length(max=254)])
    from_name = StringField("From name", validators=[
        DataRequired("Enter the name recipients will see"), Length(max=120)])
    test_token = HiddenField()

    def allow_plaintext(self) -> "SmtpForm":
        self.security.choices = SECURITY_CHOICES + [PLAINTEXT_CHOICE]
        return self
