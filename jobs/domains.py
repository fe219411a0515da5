"""Sending-domain jobs: DNS checks (on the `dns` queue)."""
from portal.domains import lifecycle
from portal.extensions import db


def check_domain(domain_id: int) -> dict:
    """Look up a domain's records, store the results and move its state on."""
    outcome = lifecycle.run_domain_check(domain_id)
    db.session.commit()
    return outcome
