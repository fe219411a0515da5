from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from portal.orgs.models import PLANS

PLAN_CHOICES = [SelectChoice(p, p.capitalize()) for p in PLANS]


class CreateOrgForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name"), Length(max=120)])
    slug = StringField("Slug", validators=[
        DataRequired("Enter a slug"),
        Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
               message="Use lower-case letters, digits and hyphens")])
    plan = SelectField("Plan", choices=PLAN_CHOICES, default="free")


class PlanForm(FlaskForm):
    plan = SelectField("Plan", choices=PLAN_CHOICES)
