from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.vault import register_encrypted_column


class SmtpConfiguration(db.Model):
    """An SMTP server that mail leaves through: an org's (org_id) or one person's (user_id)."""

    __tablename__ = "smtp_configurations"
    __table_args__ = (
        CheckConstraint("(org_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
        UniqueConstraint("org_id", "from_email", name="uq_smtp_configurations_org_from"),
        UniqueConstraint("user_id", "from_email", name="uq_smtp_configurations_user_from"),
        # The database, not only the code, guarantees at most one primary per owner.
        Index("uq_smtp_configurations_org_primary", "org_id", unique=True,
              sqlite_where=text("is_primary AND org_id IS NOT NULL"),
              postgresql_where=text("is_primary AND org_id IS NOT NULL")),
        Index("uq_smtp_configurations_user_primary", "user_id", unique=True,
              sqlite_where=text("is_primary AND user_id IS NOT NULL"),
              postgresql_where=text("is_primary AND user_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_email: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str] = mapped_column(String(120))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int]
    security: Mapped[str] = mapped_column(String(10))
    # Vault tokens (portal.vault); never rendered, returned or logged.
    username_encrypted: Mapped[str | None] = mapped_column(Text)
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    ca_pem: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    last_tested_at: Mapped[datetime | None]
    last_test_code: Mapped[str | None] = mapped_column(String(32))
    last_test_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user = relationship("User")

    @property
    def is_personal(self) -> bool:
        return self.user_id is not None

    @property
    def has_credentials(self) -> bool:
        return self.username_encrypted is not None

    @property
    def last_test_ok(self) -> bool:
        return self.last_test_code == "ok"

    def __repr__(self) -> str:
        return f"<SmtpConfiguration {self.id}>"


register_encrypted_column(SmtpConfiguration.username_encrypted)
register_encrypted_column(SmtpConfiguration.password_encrypted)
