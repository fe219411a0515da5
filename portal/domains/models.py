"""Sending domains: the domain, its timeline, and which one the organisation sends from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.vault import register_encrypted_column

STATUSES = ("pending_dns", "verifying", "verified", "degraded", "failed", "deactivated")
# A domain in these states "holds" its name: only one organisation may at a time.
HOLDING_STATUSES = ("verified", "degraded")
STATUS_LABELS = {"pending_dns": "Waiting for DNS", "verifying": "Checking", "verified": "Verified",
                 "degraded": "Records missing", "failed": "Not verified",
                 "deactivated": "Turned off"}


class SendingDomain(db.Model):
    """A domain an organisation sends from once its DNS records are verified."""

    __tablename__ = "sending_domains"
    __table_args__ = (
        UniqueConstraint("org_id", "name", name="uq_sending_domains_org_name"),
        # The database, not only the check job, keeps a name verified in one org at a time.
        Index("uq_sending_domains_holder", "name", unique=True,
              sqlite_where=text("status IN ('verified', 'degraded')"),
              postgresql_where=text("status IN ('verified', 'degraded')")),
        # The periodic sweep asks for due checks.
        Index("ix_sending_domains_next_check_at", "next_check_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Lower-case ASCII (an IDN is stored as punycode, xn--…).
    name: Mapped[str] = mapped_column(String(253))
    status: Mapped[str] = mapped_column(String(16), default="pending_dns")
    status_message: Mapped[str | None] = mapped_column(String(500))
    mailbox: Mapped[str] = mapped_column(String(64), default="notifications")
    ownership_token: Mapped[str] = mapped_column(String(64))
    dkim_selector: Mapped[str] = mapped_column(String(63))
    dkim_public_key: Mapped[str] = mapped_column(Text)  # base64 DER, as published in p=
    # A vault token (portal.vault) of the PEM; never rendered, returned or logged.
    dkim_private_key_encrypted: Mapped[str] = mapped_column(Text)
    # {kind: {"status", "found": [...], "message"}} from the last check.
    check_results: Mapped[dict] = mapped_column(JSON, default=dict)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    check_step: Mapped[int] = mapped_column(default=0)  # position in the re-check backoff
    next_check_at: Mapped[datetime | None]
    # Set while a check is queued or running; doubles as a lease against double queueing.
    check_requested_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    events = relationship("DomainEvent", back_populates="domain", cascade="all, delete-orphan",
                          passive_deletes=True, order_by="DomainEvent.id.desc()")

    @property
    def display_name(self) -> str:
        """The name as people write it (an IDN in its own letters)."""
        from portal.domains.names import unicode_name

        return unicode_name(self.name)

    @property
    def from_email(self) -> str:
        return f"{self.mailbox}@{self.name}"

    @property
    def checking(self) -> bool:
        return self.check_requested_at is not None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<SendingDomain {self.id} {self.name} {self.status}>"


register_encrypted_column(SendingDomain.dkim_private_key_encrypted)


class DomainEvent(db.Model):
    """One line of a domain's timeline: a state change or an admin's action."""

    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_sending_domain_id_id", "sending_domain_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sending_domain_id: Mapped[int] = mapped_column(
        ForeignKey("sending_domains.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(500), default="")
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    domain = relationship("SendingDomain", back_populates="events")


class OrgSendingIdentity(db.Model):
    """Which verified domain an organisation sends from, and the one before it (for Revert).

    Kept beside Organization rather than on it, so the sending-domain capability owns its
    schema; no row means the organisation sends from the platform's address.
    """

    __tablename__ = "org_sending_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                        unique=True)
    active_domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("sending_domains.id", ondelete="SET NULL"))
    previous_domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("sending_domains.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    active_domain = relationship("SendingDomain", foreign_keys=[active_domain_id])
    previous_domain = relationship("SendingDomain", foreign_keys=[previous_domain_id])
