from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.extensions import db
from portal.vault import register_encrypted_column

PROVIDERS = ("sendgrid", "resend")
PROVIDER_LABELS = {"sendgrid": "SendGrid", "resend": "Resend"}


class ProviderAccount(db.Model):
    """An organisation's API key for one email provider."""

    __tablename__ = "provider_accounts"
    __table_args__ = (
        CheckConstraint("provider IN ('sendgrid', 'resend')", name="known_provider"),
        UniqueConstraint("org_id", "provider", name="uq_provider_accounts_org_provider"),
        # The database, not only the code, guarantees at most one provider in use per org.
        Index("uq_provider_accounts_org_enabled", "org_id", unique=True,
              sqlite_where=text("enabled"), postgresql_where=text("enabled")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    # A vault token (portal.vault); never rendered, returned or logged.
    api_key_encrypted: Mapped[str] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(4), default="")
    enabled: Mapped[bool] = mapped_column(default=False)
    last_checked_at: Mapped[datetime | None]
    last_check_code: Mapped[str | None] = mapped_column(String(32))
    last_check_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def label(self) -> str:
        return PROVIDER_LABELS[self.provider]

    @property
    def last_check_ok(self) -> bool:
        return self.last_check_code == "ok"

    def __repr__(self) -> str:
        return f"<ProviderAccount {self.id} {self.provider}>"


register_encrypted_column(ProviderAccount.api_key_encrypted)
