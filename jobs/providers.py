"""Provider jobs: checking an org's saved API key."""
from portal.extensions import db
from portal.providers import services


def check_key(account_id: int) -> dict:
    """Ask the provider whether it accepts the saved key; returns {"ok", "code", "message"}."""
    outcome = services.run_key_check(account_id)
    db.session.commit()
    return outcome
