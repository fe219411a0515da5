"""A domain's way through its states, driven by DNS checks:

    pending_dns → verifying → verified, or back to pending_dns (→ failed when the window ends)
    verified → degraded (a required record disappeared) → verified (it came back)
    any → deactivated (an admin turned it off)

The schedule lives in the row (`next_check_at`), never in memory: the periodic sweep queues
what is due, so a restarted worker carries on where things stand.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal.clock import utcnow
from portal.domains.checks import NOT_CHECKED, RecordResult, check_records
from portal.domains.lookup import DnsLookup, LookupFailed, build_resolver
from portal.domains.models import SendingDomain
from portal.domains.records import expected_records
from portal.domains.schedule import backoff_delay, recheck_delay, window_end, window_text
from portal.domains.services import (
    DomainError,
    activate_domain,
    activate_if_first,
    held_elsewhere,
    reactivate_domain,
)
from portal.domains.timeline import transition
from portal.extensions import db
from portal.queue.services import enqueue

log = logging.getLogger(__name__)

# A check queued longer ago than this is presumed lost (Redis restarted) and queued again.
CHECK_LEASE = timedelta(minutes=10)
CHECKED_STATUSES = ("pending_dns", "verifying", "verified", "degraded")


@dataclass(frozen=True)
class CheckSummary:
    required: int
    found: int
    last_checked_at: datetime | None

    @property
    def text(self) -> str:
        return f"{self.found} of {self.required} required records found"


def summarise(domain: SendingDomain) -> CheckSummary:
    required = [r.kind for r in expected_records(domain) if r.required]
    results = domain.check_results or {}
    found = sum(1 for kind in required if results.get(kind, {}).get("status") == "ok")
    return CheckSummary(len(required), found, domain.last_checked_at)


def result_of(domain: SendingDomain, kind: str) -> RecordResult:
    stored = (domain.check_results or {}).get(kind)
    if not stored:
        return NOT_CHECKED
    return RecordResult(stored["status"], tuple(stored.get("found") or ()),
                        stored.get("message") or "")


def request_check(domain: SendingDomain, *, user_id: int | None = None,
                  now: datetime | None = None):
    """Check now: queue a check on the `dns` queue at once and return its job row. It resets
    the backoff; on a failed domain it is the Retry that starts a new window."""
    now = now or utcnow()
    if domain.status == "deactivated":
        raise DomainError("This domain is turned off: turn it on to check it again.", "status")
    if domain.status == "failed":
        domain.window_started_at = now
        transition(domain, "pending_dns", f"Retry: a new {window_text()} window to find "
                   "the records started.")
    domain.check_step = 0
    return _queue_check(domain, now, user_id, actor_label=None)


def turn_on_domain(domain: SendingDomain, *, make_active: bool, user_id: int | None = None):
    """Turn a turned-off domain back on and check it. If its last check found every required
    record it is verified at once and, with `make_active` (or when the org sends from no
    domain), becomes the sending domain."""
    reactivate_domain(domain)
    if domain.status == "verified" and make_active:
        activate_domain(domain)
    elif domain.status == "verified":
        activate_if_first(domain)
    return request_check(domain, user_id=user_id)


def _queue_check(domain: SendingDomain, now: datetime, user_id: int | None, actor_label):
    # Due now, leased now: if the job is lost, the sweep queues it again once the lease ends;
    # the check itself sets the next time.
    domain.check_requested_at = domain.next_check_at = now
    if domain.status == "pending_dns":
        # A verified or degraded domain keeps its state (and keeps sending) while re-checked.
        transition(domain, "verifying", "Checking the DNS records.", actor_label=actor_label)
    return enqueue("jobs.domains.check_domain", domain.id, queue="dns", org_id=domain.org_id,
                   user_id=user_id)


def run_domain_check(domain_id: int, now: datetime | None = None,
                     lookup: DnsLookup | None = None) -> dict:
    """The check job's work: look up every record, store the results, move the state on."""
    domain = db.session.get(SendingDomain, domain_id)
    if domain is None:
        return {"ok": False, "message": "This domain was deleted."}
    if domain.status not in CHECKED_STATUSES:
        domain.check_requested_at = None
        return _outcome(domain, f"Not checked: the domain is {domain.status_label.lower()}.")
    expected = expected_records(domain)
    try:
        results = check_records(expected, lookup or DnsLookup(build_resolver(current_app.config)))
    except LookupFailed as exc:  # no usable resolver at all
        results = {r.kind: RecordResult("lookup_failed", (), f"{exc}.") for r in expected}
    apply_check_results(domain, results, now or utcnow())
    return _outcome(domain, summarise(domain).text)


def _outcome(domain: SendingDomain, message: str) -> dict:
    summary = summarise(domain)
    return {"ok": domain.status == "verified", "sending_domain_id": domain.id,
            "status": domain.status, "found": summary.found, "required": summary.required,
            "message": message}


def apply_check_results(domain: SendingDomain, results: dict[str, RecordResult],
                        now: datetime) -> None:
    """Store a check's results and take the transition they call for. Flushes only."""
    domain.check_results = {kind: result.as_dict() for kind, result in results.items()}
    domain.last_checked_at, domain.check_requested_at = now, None
    required = [r for r in expected_records(domain) if r.required]
    statuses = {r.kind: results.get(r.kind, NOT_CHECKED).status for r in required}
    summary = summarise(domain).text
    if all(status == "ok" for status in statuses.values()) and not held_elsewhere(domain):
        _verified(domain, now, summary)
    elif domain.status in ("verified", "degraded"):
        _schedule_backoff(domain, now)
        lost = [r.label for r in required if statuses[r.kind] in ("missing", "mismatch")]
        if lost and domain.status == "verified":
            # Only the admin's records count here: a failed lookup is ours and is retried.
            domain.status_message = f"Missing or changed: {', '.join(lost)}."
            transition(domain, "degraded", f"{summary}. {domain.status_message} Mail comes "
                       "from the platform's address until the records are back.",
                       actor_label="worker")
    else:
        _not_yet(domain, now, summary, statuses)


def _verified(domain: SendingDomain, now: datetime, summary: str) -> None:
    domain.check_step, domain.status_message = 0, None
    domain.next_check_at = now + recheck_delay()
    if domain.status != "verified":
        message = "Records are back: verified again." if domain.status == "degraded" \
            else f"{summary}: verified."
        domain.verified_at = now
        transition(domain, "verified", message, actor_label="worker")
        activate_if_first(domain, actor_label="worker")


def _not_yet(domain: SendingDomain, now: datetime, summary: str, statuses: dict) -> None:
    if all(status == "ok" for status in statuses.values()):
        domain.status_message = ("This domain is verified for another account on this "
                                 "platform; it can be verified here once it is removed there.")
    else:
        domain.status_message = None
    if now >= window_end(domain.window_started_at):
        domain.next_check_at = None
        domain.status_message = f"DNS records were not found within {window_text()}."
        transition(domain, "failed", f"{summary}. {domain.status_message} Retry starts a new "
                   "window.", actor_label="worker")
        return
    _schedule_backoff(domain, now)
    transition(domain, "pending_dns", f"{summary}. Next check at "
               f"{domain.next_check_at:%Y-%m-%d %H:%M} UTC.", actor_label="worker")


def _schedule_backoff(domain: SendingDomain, now: datetime) -> None:
    domain.next_check_at = now + backoff_delay(domain.check_step)
    domain.check_step += 1


def sweep_due_domain_checks(now: datetime | None = None, limit: int = 200) -> int:
    """Queue every check whose time has come (and re-queue lost ones); returns how many.

    Run by each worker's periodic sweeper. Each domain is claimed by a conditional UPDATE, so
    two workers sweeping at once queue it once. Commits (an entry point, like a job).
    """
    now = now or utcnow()
    due = (SendingDomain.status.in_(CHECKED_STATUSES), SendingDomain.next_check_at <= now,
           or_(SendingDomain.check_requested_at.is_(None),
               SendingDomain.check_requested_at < now - CHECK_LEASE))
    ids = db.session.scalars(select(SendingDomain.id).where(*due)
                             .order_by(SendingDomain.next_check_at).limit(limit)).all()
    queued = 0
    for domain_id in ids:
        claimed = db.session.execute(
            update(SendingDomain).where(SendingDomain.id == domain_id, *due)
            .values(check_requested_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue  # another worker took it
        domain = db.session.get(SendingDomain, domain_id, populate_existing=True)
        _queue_check(domain, now, None, actor_label="worker")
        queued += 1
    db.session.commit()
    if queued:
        log.info("domain sweep: queued %s check(s)", queued)
    return queued
