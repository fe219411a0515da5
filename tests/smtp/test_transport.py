"""Connection tests and delivery against real SMTP servers on loopback."""
from __future__ import annotations

import logging
import threading
import time
from email.message import EmailMessage

import pytest

from portal.smtp import transport
from portal.smtp.transport import ConnectionParams, TransportPolicy, deliver, validate_ca_pem
from tests.smtp.servers import PASSWORD, USERNAME, policy_for


def run_test(params, policy):
    result = transport.test_connection(params, policy)
    assert result.code in transport.RESULT_CODES
    return result


# --- STARTTLS -------------------------------------------------------------------------------

def test_starttls_with_the_private_ca_connects_and_signs_in(starttls_server):
    result = run_test(starttls_server.params("starttls"), policy_for(starttls_server))

    assert result.ok, result
    assert "STARTTLS" in result.message and "accepted" in result.message
    assert result.server_reply.startswith("250")
    assert starttls_server.auth_attempts == [USERNAME]
    assert starttls_server.messages == []  # a test sends no mail


def test_starttls_without_the_ca_reports_an_untrusted_issuer(starttls_server):
    result = run_test(starttls_server.params("starttls", ca_pem=None), policy_for(starttls_server))

    assert result.code == "tls_failed"
    assert "untrusted issuer" in result.message
    assert starttls_server.auth_attempts == []  # no password went to an unverified server


def test_a_wrong_password_is_reported_with_the_server_reply(starttls_server, caplog):
    caplog.set_level(logging.DEBUG, logger="portal")
    params = starttls_server.params("starttls", password="wrong-password")
    result = run_test(params, policy_for(starttls_server))

    assert result.code == "auth_failed"
    assert result.message == "The username or password was not accepted."
    assert result.server_reply.startswith("535")
    our_logs = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("portal"))
    assert "auth_failed" in our_logs
    shown = f"{result.as_dict()} {params!r} {our_logs}"
    assert "wrong-password" not in shown and USERNAME not in shown


def test_starttls_is_required_never_skipped(plain_server):
    # The server offers AUTH in clear text, as a server stripped of STARTTLS would.
    result = run_test(plain_server.params("starttls"), policy_for(plain_server))

    assert result.code == "starttls_unsupported"
    assert "does not offer STARTTLS" in result.message
    assert plain_server.auth_attempts == []


def test_a_server_without_auth_cannot_take_a_username(smtp_server_factory):
    server = smtp_server_factory("starttls", advertise_auth=False)
    result = run_test(server.params("starttls"), policy_for(server))

    assert result.code == "auth_unsupported"
    assert "does not offer sign-in" in result.message
    assert run_test(server.params("starttls", username=None, password=None),
                    policy_for(server)).ok


# --- implicit TLS ---------------------------------------------------------------------------

def test_implicit_tls_with_the_private_ca_connects_and_signs_in(tls_server):
    result = run_test(tls_server.params("tls"), policy_for(tls_server))

    assert result.ok, result
    assert result.message.startswith("Connected over TLS")


@pytest.mark.parametrize("cert, explanation", [
    ("wrong_name", "does not match the host name localhost"),
    ("expired", "certificate has expired"),
])
def test_a_bad_certificate_says_what_is_wrong(smtp_server_factory, cert, explanation):
    server = smtp_server_factory("tls", cert=cert)
    result = run_test(server.params("tls"), policy_for(server))

    assert result.code == "tls_failed"
    assert explanation in result.message
    assert server.auth_attempts == []


def test_tls_on_a_starttls_port_hints_at_the_right_setting(starttls_server):
    result = run_test(starttls_server.params("tls"), policy_for(starttls_server))

    assert result.code == "tls_failed"
    assert "does not seem to speak TLS on this port" in result.message


def test_an_invalid_ca_is_reported_not_raised(starttls_server):
    result = run_test(starttls_server.params("starttls", ca_pem="not a certificate"),
                      policy_for(starttls_server))

    assert (result.code, result.message) == ("tls_failed", "The CA certificate is not valid PEM.")


# --- no encryption --------------------------------------------------------------------------

def test_plaintext_works_only_where_the_platform_allows_it(plain_server):
    params = plain_server.params("none", username=None, password=None)

    allowed = run_test(params, policy_for(plain_server, allow_plaintext=True))
    refused = run_test(params, policy_for(plain_server, allow_plaintext=False))

    assert allowed.ok and allowed.message.startswith("Connected without encryption")
    assert refused.code == "plaintext_refused"
    assert "not allowed" in refused.message


# --- reaching the server --------------------------------------------------------------------

def test_nothing_listening_is_connection_refused(closed_port):
    params = ConnectionParams("localhost", closed_port, "starttls", None, None)
    result = run_test(params, policy_for(closed_port))

    assert result.code == "connection_refused"
    assert f"localhost:{closed_port}" in result.message


def test_a_silent_server_times_out_within_the_limit(silent_port):
    params = ConnectionParams("localhost", silent_port, "starttls", USERNAME, PASSWORD)
    policy = policy_for(silent_port, connect_timeout=1, total_timeout=2)

    started = time.monotonic()
    result = run_test(params, policy)

    assert time.monotonic() - started < 5
    assert result.code == "timeout"
    assert result.message.startswith("The server did not answer within 1 second.")
    assert "sent no greeting" in result.message


def test_starttls_on_an_implicit_tls_port_suggests_tls(tls_server):
    result = run_test(tls_server.params("starttls"),
                      policy_for(tls_server, connect_timeout=1, total_timeout=2))

    assert result.code == "timeout"
    assert "choose TLS" in result.message


def test_an_unknown_host_name_is_a_dns_failure():
    params = ConnectionParams("no-such-host.invalid", 587, "starttls", None, None)
    result = run_test(params, TransportPolicy())

    assert result.code == "dns_failure"
    assert "no-such-host.invalid could not be resolved" in result.message


def test_private_hosts_and_odd_ports_are_refused_by_default(starttls_server):
    internal = run_test(starttls_server.params("starttls", port=587), TransportPolicy())
    odd_port = run_test(starttls_server.params("starttls"), TransportPolicy())

    assert (internal.code, internal.message) == ("host_refused",
                                                 "SMTP host must be a public address")
    assert odd_port.code == "host_refused"
    assert odd_port.message.startswith(f"Port {starttls_server.port} is not allowed")
    assert starttls_server.auth_attempts == []


# --- delivery -------------------------------------------------------------------------------

def make_message(*recipients: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Postroom Test <sender@example.com>"
    message["To"] = ", ".join(recipients)
    message["Subject"] = "Hello from the transport test"
    message.set_content("It arrived.\n")
    return message


def test_a_delivered_message_arrives_and_refused_recipients_are_listed(smtp_server_factory):
    server = smtp_server_factory("starttls", refuse={"nobody@example.net"})
    recipients = ["alice@example.net", "nobody@example.net"]

    result = deliver(server.params("starttls"), policy_for(server), make_message(*recipients),
                     sender="sender@example.com", recipients=recipients)

    assert result.ok, result
    assert "1 of 2 recipients" in result.message
    assert result.refused == {"nobody@example.net": (550, "5.1.1 No such mailbox here")}
    assert result.server_reply == "250 2.0.0 Queued as TEST1"
    [received] = server.messages
    assert (received.mail_from, received.rcpt_tos) == ("sender@example.com",
                                                       ["alice@example.net"])
    assert received.authenticated
    assert b"Subject: Hello from the transport test" in received.content


def test_a_delivery_nobody_accepts_is_recipients_refused(smtp_server_factory):
    server = smtp_server_factory("starttls", refuse={"nobody@example.net"})

    result = deliver(server.params("starttls"), policy_for(server),
                     make_message("nobody@example.net"), sender="sender@example.com",
                     recipients=["nobody@example.net"])

    assert result.code == "recipients_refused"
    assert result.refused["nobody@example.net"][0] == 550
    assert result.server_reply == "550 5.1.1 No such mailbox here"
    assert server.messages == []


def test_a_pooled_session_that_broke_reopens_later_with_a_fresh_time_budget(
        smtp_server_factory):
    server = smtp_server_factory("starttls", hang_up_on_data={"bob@example.net"})
    connection = transport.SmtpConnection(server.params("starttls"),
                                          policy_for(server, total_timeout=1.0))

    def send(to: str):
        [result] = connection.send_many([(make_message(to).as_bytes(), "sender@example.com",
                                          [to])])
        return result

    assert send("alice@example.net").ok
    assert send("bob@example.net").code == "unexpected_reply"  # the server hung up
    time.sleep(1.2)  # longer than a whole exchange may take
    assert send("carol@example.net").ok  # not a stale deadline's "timeout"
    assert [m.rcpt_tos for m in server.messages] == [["alice@example.net"], ["carol@example.net"]]
    connection.close()


def test_the_pools_idle_sweep_leaves_a_session_sending_a_long_batch_alone(
        smtp_server_factory):
    from portal.sending.providers.smtp import SmtpPool

    server = smtp_server_factory("none", data_delay=0.2)  # a slow server: the batch takes a while
    pool = SmtpPool()
    params = server.params("none", username=None, password=None)
    policy = policy_for(server, allow_plaintext=True)
    connection = pool.connection(params, policy)
    recipients = ["alice@example.net", "bob@example.net", "carol@example.net"]
    items = [(make_message(to).as_bytes(), "sender@example.com", [to]) for to in recipients]

    def sweep_while_it_sends():  # what a worker's sweeper thread does every few seconds
        for _ in range(500):
            if connection.in_use:
                break
            time.sleep(0.01)
        time.sleep(0.1)
        pool.close_idle(0)

    sweeper = threading.Thread(target=sweep_while_it_sends)
    sweeper.start()
    results = connection.send_many(items)
    sweeper.join()
    assert [result.code for result in results] == ["ok"] * 3
    assert [m.rcpt_tos for m in server.messages] == [[to] for to in recipients]
    assert server.handler.sessions == 1
    pool.close_idle(0)  # idle now: closed
    assert not connection.alive


def test_a_delivery_with_a_wrong_password_sends_nothing(starttls_server):
    result = deliver(starttls_server.params("starttls", password="nope"),
                     policy_for(starttls_server), make_message("alice@example.net"),
                     sender="sender@example.com", recipients=["alice@example.net"])

    assert result.code == "auth_failed"
    assert starttls_server.messages == []


# --- parameters and policy ------------------------------------------------------------------

def test_secrets_stay_out_of_repr():
    params = ConnectionParams("smtp.example.com", 587, "starttls", "me@example.com",
                              "hunter2-secret", "-----BEGIN CERTIFICATE-----")
    assert "hunter2" not in repr(params) and "me@example.com" not in repr(params)
    assert "BEGIN CERTIFICATE" not in repr(params)


@pytest.mark.parametrize("change", [
    {"host": "smtp2.example.com"}, {"port": 465}, {"security": "tls"},
    {"username": "other@example.com"}, {"password": "other"}, {"ca_pem": "other"},
])
def test_a_passed_test_is_bound_to_every_parameter(change):
    params = ConnectionParams("smtp.example.com", 587, "starttls", "me@example.com", "pw", None)
    changed = ConnectionParams(**{**params.__dict__, **change})

    assert params.fingerprint() == ConnectionParams(**params.__dict__).fingerprint()
    assert params.fingerprint() != changed.fingerprint()
    assert params.fingerprint(b"key") != changed.fingerprint(b"key") != params.fingerprint()


def test_ca_certificates_are_checked_before_they_are_stored(smtp_certificates):
    validate_ca_pem(smtp_certificates.ca_pem)
    key_pem = smtp_certificates.localhost.key_path.read_text()
    for bad, message in [("hello", "not valid PEM"),
                         ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                          "not valid PEM"),
                         (smtp_certificates.ca_pem + key_pem, "never a private key")]:
        with pytest.raises(ValueError, match=message):
            validate_ca_pem(bad)


def test_policy_reads_the_app_settings():
    policy = TransportPolicy.from_config({
        "POSTROOM_SMTP_ALLOW_PRIVATE": True, "POSTROOM_SMTP_PORTS": [25, 465, 587, 2525, 8025],
        "SMTP_CONNECT_TIMEOUT": 3.0, "SMTP_TEST_TIMEOUT": 12.0})

    assert policy.allow_private and not policy.allow_plaintext
    assert policy.allowed_ports == frozenset({25, 465, 587, 2525, 8025})
    assert (policy.connect_timeout, policy.total_timeout) == (3.0, 12.0)
    assert TransportPolicy.from_config({}) == TransportPolicy()
