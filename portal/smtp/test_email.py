""""Send test email": a real message through one configuration to the person who asked."""
from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from portal.audit.services import record_audit
from portal.extensions import db
from portal.queue.services import enqueue
from portal.smtp.models import SmtpConfiguration
from portal.smtp.services import SmtpOwner, stored_params, transport_policy
from portal.smtp.transport import deliver

log = logging.getLogger(__name__)


def start_test_email(config: SmtpConfiguration, to_email: str, *, job_org_id: int | None,
                     user_id: int | None):
    """Queue a test message to `to_email` (the acting person's own address)."""
    return enqueue("jobs.smtp.send_test_email", config.id, to_email, queue="send",
                   org_id=job_org_id, user_id=user_id)


def build_test_message(config: SmtpConfiguration, to_email: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((config.from_name, config.from_email))
    message["To"] = to_email
    message["Subject"] = "Postroom test email"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config.from_email.rsplit("@", 1)[1])
    message.set_content(
        f"This is a test email from Postroom, sent through {config.host}:{config.port} "
        f"as {config.from_email}.\n\nIf you can read this, the SMTP configuration works.\n")
    return message


def send_test_email(config_id: int, to_email: str) -> dict:
    """The job's work: send, audit the outcome, report it (no secrets in the result)."""
    config = db.session.get(SmtpConfiguration, config_id)
    if config is None:
        return {"ok": False, "code": "not_found", "to": to_email,
                "message": "This configuration was deleted before the test email was sent."}
    result = deliver(stored_params(config), transport_policy(),
                     build_test_message(config, to_email), sender=config.from_email,
                     recipients=[to_email])
    record_audit("smtp.test_email_sent", org_id=SmtpOwner.of(config).audit_org_id,
                 target=config, details={"result": result.code}, actor_label="worker")
    log.info("smtp test email org=%s config=%s result=%s", config.org_id, config.id, result.code)
    return {"ok": result.code == "ok", "code": result.code, "message": result.message,
            "server_reply": result.server_reply, "to": to_email}
