"""A domain's states over time: checks scheduled by the previous check, the verification
window, daily re-checks that catch a vanished record, and the sweep that queues what is due.
Time is driven by passing `now` and setting row times, never by sleeping."""
import time
from datetime import timedelta

import pytest
from rq import Queue

from portal.audit.models import AuditEvent
from portal.clock import utcnow
from portal.domains.lifecycle import request_check, run_domain_check, sweep_due_domain_checks
from portal.domains.models import DomainEvent, SendingDomain
from portal.domains.services import deactivate_domain, sending_identity
from portal.extensions import db, redis_client
from tests.domains.dns_server import txt
from tests.domains.factories import make_sending_domain, publish
from tests.factories import PASSWORD, make_org, make_user


@pytest.fixture
def org():
    return make_org("Acme", "acme")


@pytest.fixture
def domain(dns_server, org):
    return make_sending_domain(org, "acme.example.com")


def check_at(domain, now):
    outcome = run_domain_check(domain.id, now=now)
    db.session.commit()
    return outcome


def minutes_until_next(domain, now):
    return (domain.next_check_at - now) / timedelta(minutes=1)


def test_a_new_domain_waits_for_dns_and_is_first_checked_after_five_minutes(domain):
    assert domain.status == "pending_dns"
    assert 4.9 < (domain.next_check_at - domain.created_at) / timedelta(minutes=1) <= 5
    [event] = domain.events
    assert event.action == "created" and "waiting" in event.message


def test_pending_checks_back_off_5_10_20_40_minutes_then_hourly(dns_server, domain):
    dns_server.set_zone(domain.name, [])
    now, delays = utcnow(), []
    for _ in range(6):
        check_at(domain, now)
        assert domain.status == "pending_dns"
        delays.append(round(minutes_until_next(domain, now)))
        now = domain.next_check_at
    assert delays == [10, 20, 40, 60, 60, 60]  # the first check ran at 5 minutes


def test_check_now_runs_at_once_and_resets_the_backoff(dns_server, domain):
    dns_server.set_zone(domain.name, [])
    domain.check_step = 4
    job = request_check(domain)
    db.session.commit()
    assert domain.status == "verifying" and job.queue == "dns"
    now = utcnow()
    check_at(domain, now)
    assert domain.status == "pending_dns" and round(minutes_until_next(domain, now)) == 5


def test_after_the_window_the_domain_fails_and_retry_starts_a_new_window(dns_server, domain):
    dns_server.set_zone(domain.name, [])
    domain.window_started_at = utcnow() - timedelta(days=7, minutes=1)
    db.session.commit()
    check_at(domain, utcnow())
    assert domain.status == "failed" and domain.next_check_at is None
    assert domain.status_message == "DNS records were not found within 7 days."
    assert sweep_due_domain_checks(now=utcnow() + timedelta(days=30)) == 0  # no more checks

    request_check(domain)  # Retry
    db.session.commit()
    assert domain.status == "verifying"
    assert utcnow() - domain.window_started_at < timedelta(minutes=1)
    # Had that job been lost, the sweep would queue the check again once its lease ended.
    assert sweep_due_domain_checks(now=utcnow() + timedelta(minutes=11)) == 1
    publish(dns_server, domain)
    assert check_at(domain, utcnow())["status"] == "verified"


def test_verified_then_a_record_removed_is_degraded_then_recovered(client, dns_server, org,
                                                                    domain):
    make_user("boss@example.com", org=org, role="admin")
    publish(dns_server, domain)
    now = utcnow()
    check_at(domain, now)
    assert domain.status == "verified" and sending_identity(org.id) is not None
    assert round(minutes_until_next(domain, now)) == 24 * 60  # re-checked daily

    publish(dns_server, domain, dkim=None)
    check_at(domain, domain.next_check_at)
    assert domain.status == "degraded" and "DKIM" in domain.status_message
    assert sending_identity(org.id) is None  # mail goes out as the platform meanwhile
    client.login("boss@example.com", PASSWORD)
    page = client.get("/settings/organization").get_data(as_text=True)
    assert "acme.example.com: DNS records are missing." in page

    publish(dns_server, domain)
    check_at(domain, domain.next_check_at)
    assert domain.status == "verified" and sending_identity(org.id) is not None
    assert "DNS records are missing" not in client.get("/settings/organization").get_data(
        as_text=True)
    changes = [(e.from_status, e.to_status) for e in reversed(domain.events) if e.to_status]
    assert changes == [("pending_dns", "verified"), ("verified", "degraded"),
                       ("degraded", "verified")]


def test_a_failed_lookup_does_not_degrade_a_verified_domain(dns_server, domain):
    publish(dns_server, domain)
    check_at(domain, utcnow())
    dns_server.stop()
    now = utcnow()
    check_at(domain, now)
    assert domain.status == "verified"
    assert round(minutes_until_next(domain, now)) == 5  # looked at again soon, not tomorrow


def test_every_transition_is_an_audit_event_and_a_timeline_entry(dns_server, domain):
    publish(dns_server, domain)
    request_check(domain)
    db.session.commit()
    check_at(domain, utcnow())
    deactivate_domain(domain)
    db.session.commit()
    timeline = [(e.action, e.from_status, e.to_status)
                for e in db.session.scalars(db.select(DomainEvent).order_by(DomainEvent.id))]
    assert timeline == [("created", None, None), ("verifying", "pending_dns", "verifying"),
                        ("verified", "verifying", "verified"), ("activated", None, None),
                        ("deactivated", "verified", "deactivated")]
    actions = list(db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.target_type == "SendingDomain").order_by(AuditEvent.id)))
    assert actions == [f"domain.{action}" for action, _, _ in timeline]


def test_the_sweep_queues_each_due_check_once_and_skips_what_is_not_due(dns_server, org):
    due = make_sending_domain(org, "due.example.com")
    later = make_sending_domain(org, "later.example.com")
    off = make_sending_domain(org, "off.example.com")
    deactivate_domain(off)
    now = utcnow() + timedelta(minutes=6)
    later.next_check_at = now + timedelta(minutes=30)
    db.session.commit()

    assert sweep_due_domain_checks(now=now) == 1
    assert sweep_due_domain_checks(now=now) == 0  # a second worker's sweep finds it taken
    db.session.expire_all()
    assert db.session.get(SendingDomain, due.id).status == "verifying"
    assert Queue("dns", connection=redis_client()).count == 1
    # A check whose job was lost (Redis restarted) is queued again once its lease ends.
    assert sweep_due_domain_checks(now=now + timedelta(minutes=11)) == 1


def test_the_sweep_runs_the_check_through_a_real_worker(dns_server, drain, domain):
    publish(dns_server, domain)
    assert sweep_due_domain_checks(now=utcnow() + timedelta(minutes=5)) == 1
    drain()
    db.session.expire_all()
    assert db.session.get(SendingDomain, domain.id).status == "verified"


def test_only_one_organisation_holds_a_name_verified(dns_server, org, domain):
    other = make_sending_domain(make_org("Rival", "rival"), "acme.example.com")
    publish(dns_server, domain)
    check_at(domain, utcnow())
    assert domain.status == "verified"
    # Both organisations' records are published; the second still cannot verify it.
    publish(dns_server, other, extra=[
        ("@", "TXT", txt(f"postroom-verification={domain.ownership_token}"))])
    check_at(other, utcnow())
    assert other.status == "pending_dns"
    assert "verified for another account" in other.status_message


def test_a_running_worker_checks_a_due_domain_by_itself(dns_server, worker_process, domain):
    publish(dns_server, domain)
    domain.next_check_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    worker_process(POSTROOM_SWEEP_INTERVAL="0.2", POSTROOM_DNS_NAMESERVERS=dns_server.nameserver)
    deadline = time.monotonic() + 30  # waits for another process; the schedule is the row's
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(SendingDomain, domain.id).status == "verified":
            break
        time.sleep(0.1)
    assert db.session.get(SendingDomain, domain.id).status == "verified"
