from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from portal.apikeys.models import SCOPES

SCOPE_HELP = {"send": "Send mail", "read": "Read delivery logs and jobs",
              "admin": "Manage settings over the API"}


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the key a name"), Length(max=80)])
    scopes = SelectMultipleField(
        "Scopes", choices=[(s, f"{s} — {SCOPE_HELP[s]}") for s in SCOPES], default=["send"],
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
        validators=[DataRequired("Choose at least one scope")])
