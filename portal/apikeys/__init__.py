"""API keys: created and revoked by org admins, checked on every /api/v1 request."""
