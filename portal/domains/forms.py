from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class DomainForm(FlaskForm):
    """Add a sending domain; the service normalises and validates the name."""

    name = StringField("Domain", validators=[
        DataRequired("Enter a domain name such as example.com"), Length(max=300)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "example.com"})


class MailboxForm(FlaskForm):
    """Rename the default mailbox (the part of the from address before @)."""

    mailbox = StringField("Default mailbox", validators=[
        DataRequired("Enter the part before @, such as notifications"), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
