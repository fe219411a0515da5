"""Send jobs: several messages per job, each committed on its own."""
from portal.sending.delivery import deliver_messages as deliver


def deliver_messages(message_ids: list[int]) -> dict:
    """Deliver a batch of accepted messages; returns counts by resulting status."""
    return deliver(message_ids)
