"""/api/v1: JSON over bearer API keys. Capabilities add their routes in their own api.py."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from portal.api import auth  # noqa: E402,F401  (registers the authentication hook)
from portal.api import openapi  # noqa: E402,F401
from portal.domains import api as domains_api  # noqa: E402,F401
from portal.orgs import api as orgs_api  # noqa: E402,F401
from portal.providers import api as providers_api  # noqa: E402,F401
from portal.queue import api as queue_api  # noqa: E402,F401
from portal.sending import api as sending_api  # noqa: E402,F401
from portal.smtp import api as smtp_api  # noqa: E402,F401
