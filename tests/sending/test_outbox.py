"""Nothing lost: Redis down while accepting, and a worker killed in the middle of a send."""
import os
import signal
import time
from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.extensions import db
from portal.sending.models import Message
from portal.sending.sweeper import sweep
from tests.conftest import free_port, start_redis_server
from tests.sending.conftest import message_body


@pytest.fixture
def own_redis(app, tmp_path):
    """A Redis only this test uses, so it can be stopped and started again."""
    port = free_port()
    proc = start_redis_server(port, tmp_path)
    saved = app.config["REDIS_URL"], app.extensions.pop("postroom.redis", None)
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    state = {"proc": proc, "port": port}
    yield state
    state["proc"].terminate()
    state["proc"].wait(timeout=10)
    client = app.extensions.pop("postroom.redis", None)
    if client is not None:
        client.close()
    app.config["REDIS_URL"] = saved[0]
    if saved[1] is not None:
        app.extensions["postroom.redis"] = saved[1]


def _row() -> Message:
    db.session.commit()  # end the read transaction: see what the worker wrote since
    return db.session.scalar(db.select(Message))


def test_redis_down_during_accept_still_202_and_the_sweeper_sends_it_later(
        client, api, relay, own_redis, drain, tmp_path):
    own_redis["proc"].terminate()
    own_redis["proc"].wait(timeout=10)

    response = client.post("/api/v1/messages", json=message_body(), headers=api)
    assert response.status_code == 202
    message = _row()
    assert message.status == "queued" and message.due_at is None  # Redis never took it

    own_redis["proc"] = start_redis_server(own_redis["port"], tmp_path)
    assert sweep()["queued"] == 0  # younger than a minute: it may still be on its way
    message.created_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    assert sweep()["queued"] == 1
    drain()
    assert _row().status == "sent"
    assert len(relay.messages) == 1


def test_worker_killed_mid_send_still_ends_sent(client, api, app, smtp_server_factory,
                                                worker_process, drain):
    slow = smtp_server_factory("none", data_delay=4)
    relay_url = f"smtp+plain://127.0.0.1:{slow.port}"
    app.config["POSTROOM_PLATFORM_SMTP_URL"], original = relay_url, app.config[
        "POSTROOM_PLATFORM_SMTP_URL"]
    try:
        client.post("/api/v1/messages", json=message_body(), headers=api)
        worker = worker_process(POSTROOM_PLATFORM_SMTP_URL=relay_url, POSTROOM_JOB_TIMEOUT="2")
        deadline = time.monotonic() + 30
        while _row().status != "sending" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _row().status == "sending"
        time.sleep(0.5)  # the worker is inside the SMTP conversation now
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        assert _row().status == "sending"  # what a dead worker leaves behind

        time.sleep(2.5)  # the claim (POSTROOM_JOB_TIMEOUT=2 s) runs out
        assert sweep()["revived"] == 1
        drain()
    finally:
        app.config["POSTROOM_PLATFORM_SMTP_URL"] = original
    message = _row()
    assert message.status == "sent" and message.attempts == 2
    assert len(slow.messages) >= 1  # delivered at least once
