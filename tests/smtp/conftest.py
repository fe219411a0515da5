"""Real SMTP servers for the SMTP tests (see tests/smtp/servers.py)."""
from tests.smtp.servers import (  # noqa: F401  (pytest finds fixtures by name here)
    closed_port,
    plain_server,
    silent_port,
    smtp_certificates,
    smtp_server_factory,
    starttls_server,
    tls_server,
)
