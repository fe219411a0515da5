from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length


class ProviderKeyForm(FlaskForm):
    """Save or replace one provider's key; the key is never rendered back."""

    api_key = PasswordField("API key", validators=[DataRequired("Paste the API key"),
                                                   Length(max=500)],
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
