"""Sending domains built through the services, and the zone records that verify them."""
from __future__ import annotations

from portal.clock import utcnow
from portal.domains.models import SendingDomain
from portal.domains.records import expected_records
from portal.domains.services import activate_if_first, create_domain
from portal.domains.timeline import transition
from portal.extensions import db
from tests.domains.dns_server import split_255, txt


def make_sending_domain(org, name: str | None = None, *, verified: bool = False):
    """A domain as "Add domain" makes it; `verified` as if its records had been found."""
    domain = create_domain(org.id, name or f"mail-{org.slug}.example.com")
    if verified:
        domain.verified_at = domain.last_checked_at = utcnow()
        domain.check_results = {r.kind: {"status": "ok", "found": [r.value], "message": "Found."}
                                for r in expected_records(domain)}
        transition(domain, "verified", "Verified (test factory).")
        activate_if_first(domain)
    db.session.commit()
    return domain


def relative(name: str, origin: str) -> str:
    return "@" if name == origin else name[: -(len(origin) + 1)]


def zone_records(domain: SendingDomain, **override) -> list[tuple[str, str, str]]:
    """Every expected record, published right (TXT values split at 255 bytes as panels do).

    `kind=None` leaves a record out; `kind=[(name, type, data), …]` publishes those instead.
    """
    records = []
    for record in expected_records(domain):
        if record.kind in override:
            records += override[record.kind] or []
            continue
        data = txt(*split_255(record.value)) if record.type == "TXT" else record.value + "."
        records.append((relative(record.name, domain.name), record.type, data))
    return records


def publish(dns_server, domain: SendingDomain, extra=(), **override) -> None:
    """Serve `domain`'s zone with its records (see zone_records) plus `extra` ones."""
    dns_server.set_zone(domain.name, zone_records(domain, **override) + list(extra))
