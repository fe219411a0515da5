from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.extensions import db


class BackgroundJob(db.Model):
    """Who owns an RQ job. RQ keeps the status; this row keeps tenancy and outlives RQ's TTLs."""

    __tablename__ = "background_jobs"
    url_param = "job_id"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    func: Mapped[str] = mapped_column(String(120))
    queue: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
