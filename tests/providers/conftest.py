"""A fake SendGrid/Resend API for the provider tests (see tests/providers/servers.py)."""
from tests.providers.servers import (  # noqa: F401  (pytest finds fixtures by name here)
    closed_url,
    provider_api,
    provider_settings,
    silent_url,
)
