from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from portal.apikeys.models import SCOPES

SCOPE_HELP = {"send": "Send mail", "read": "Read delivery logs and jobs",
              "admin": "Manage settings over the API"}


def at_least_one(form, field):
    # DataRequired would mark every checkbox `required`, forcing the browser to tick them all.
    if not field.data:
        raise ValidationError("Choose at least one scope")


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the key a name"), Length(max=80)])
    scopes = SelectMultipleField(
        "Scopes", choices=[SelectChoice(s, f"{s} — {SCOPE_HELP[s]}") for s in SCOPES], default=["send"],
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
        validators=[at_least_one])
