from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db

STATUSES = ("queued", "sending", "sent", "deferred", "failed",
            "rate_limited", "suppressed", "delivered", "bounced", "complained")
FINAL_STATUSES = ("sent", "failed", "suppressed", "delivered", "bounced", "complained")


class Message(db.Model):
    """One accepted message: its delivery-log row, written before it is queued."""

    __tablename__ = "messages"
    url_param = "message_id"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key", name="uq_messages_org_idempotency"),
        # Newest-first keyset pages, unfiltered and for each filter the log offers.
        Index("ix_messages_org_id_id", "org_id", "id"),
        Index("ix_messages_org_status_id", "org_id", "status", "id"),
        Index("ix_messages_org_type_id", "org_id", "email_type", "id"),
        Index("ix_messages_org_created", "org_id", "created_at"),
        # What the sweeper looks for: stuck, unqueued or due rows.
        Index("ix_messages_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    email_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # The full request as accepted (addresses, content, attachments): what the worker sends.
    request: Mapped[dict] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    to: Mapped[list] = mapped_column(JSON)
    as_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    route: Mapped[str | None] = mapped_column(String(16))
    route_reason: Mapped[str | None] = mapped_column(String(255))
    provider: Mapped[str | None] = mapped_column(String(16))
    from_email: Mapped[str | None] = mapped_column(String(254))
    from_name: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    # queued: when it was handed to Redis (None: not yet, e.g. Redis was down);
    # sending: until when the claiming worker holds it; deferred: when to retry.
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]

    events = relationship("MessageEvent", order_by="MessageEvent.id",
                          cascade="all, delete-orphan", passive_deletes=True)

    @property
    def url_value(self) -> str:
        """What URLs and the API call this message."""
        return self.public_id


class MessageRecipient(db.Model):
    """One row per address, so "find mail to this person" is an index lookup."""

    __tablename__ = "message_recipients"
    __table_args__ = (Index("ix_message_recipients_lookup", "org_id", "email", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(3))  # to | cc | bcc


class MessageEvent(db.Model):
    """A step in a message's timeline: queued, attempt, deferred, fallback, sent, failed…"""

    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_message_id_id", "message_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
