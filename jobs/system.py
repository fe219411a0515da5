"""Jobs that exercise the worker itself."""
from portal.extensions import db
from portal.system.services import describe_worker


def check_worker() -> dict:
    """Round trip used by the dashboard's "Check background worker" button."""
    report = describe_worker()
    db.session.commit()
    return report
