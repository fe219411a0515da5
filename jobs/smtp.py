"""SMTP jobs: connection tests and test emails."""
from portal.extensions import db
from portal.smtp import services, test_email


def run_connection_test(sealed_params: str, owner_key: str, config_id: int | None,
                        audit_org_id: int | None) -> dict:
    """Test a connection (parameters arrive encrypted); returns the outcome and test pass."""
    outcome = services.run_connection_test(sealed_params, owner_key, config_id, audit_org_id)
    db.session.commit()
    return outcome


def send_test_email(config_id: int, to_email: str) -> dict:
    """Send a real test message through a saved configuration."""
    outcome = test_email.send_test_email(config_id, to_email)
    db.session.commit()
    return outcome
