"""Real SMTP servers for tests: aiosmtpd on 127.0.0.1, with certificates made at test time.

Plain helpers (make_certificates, start_smtp_server) and pytest fixtures built on them, exposed
by tests/smtp/conftest.py. Servers listen on 127.0.0.1 under the name "localhost", for which
the test certificates are issued; connect with policy_for(server), which allows private
addresses and the server's port.
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal.smtp.transport import ConnectionParams, TransportPolicy

USERNAME = "sender@example.com"
PASSWORD = "right-password"


# --- certificates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerCertificate:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


@dataclass(frozen=True)
class CertificateSet:
    """A private test CA and server certificates it signed."""

    ca_pem: str
    localhost: ServerCertificate   # valid for "localhost" and 127.0.0.1
    wrong_name: ServerCertificate  # valid, but for another host name
    expired: ServerCertificate     # for "localhost", expired yesterday


def make_certificates(directory: Path) -> CertificateSet:
    """Generate the CA and the three server certificates into `directory`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Postroom Test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - day).not_valid_after(now + 30 * day)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256()))

    def leaf(name: str, dns: list[str], ips: list[str], valid_from, valid_to) -> ServerCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        alt_names = [x509.DNSName(d) for d in dns]
        alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid_from).not_valid_after(valid_to)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return ServerCertificate(cert_path, key_path)

    return CertificateSet(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
        localhost=leaf("localhost", ["localhost"], ["127.0.0.1"], now - day, now + 30 * day),
        wrong_name=leaf("wrong-name", ["mail.wrong-name.test"], [], now - day, now + 30 * day),
        expired=leaf("expired", ["localhost"], ["127.0.0.1"], now - 30 * day, now - day))


# --- servers --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    authenticated: bool


class RecordingHandler:
    """aiosmtpd handler: keeps accepted messages, refuses chosen recipients with 550."""

    def __init__(self, refuse=(), advertise_auth: bool = True, defer=None,
                 data_delay: float = 0.0, reject_data=(), hang_up_on_data=()):
        self.messages: list[ReceivedMessage] = []
        self.sessions = 0  # EHLOs seen: one per plain session
        self.refuse = set(refuse)
        # a message to any of these is refused at the end of DATA / ends the session unanswered
        self.reject_data, self.hang_up_on_data = set(reject_data), set(hang_up_on_data)
        self.advertise_auth = advertise_auth
        # address -> how many more times to answer 451 (try again later) before accepting
        self.defer = dict(defer or {})
        self.data_delay = data_delay

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # the 5-argument hook must record it itself
        self.sessions += 1
        if not self.advertise_auth:
            responses = [line for line in responses if not line[4:].upper().startswith("AUTH")]
        # aiosmtpd reads pipelined commands fine but does not say so; say it, as real servers do.
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.hang_up_on_data.intersection(envelope.rcpt_tos):
            self.hang_up_on_data.clear()  # once: the client's next session goes through
            server.transport.abort()
            return "421 4.3.0 (never heard: the connection is gone)"
        if self.reject_data.intersection(envelope.rcpt_tos):
            return "554 5.6.0 Message content rejected"
        self.messages.append(ReceivedMessage(envelope.mail_from, list(envelope.rcpt_tos),
                                             envelope.content, bool(session.authenticated)))
        return "250 2.0.0 Queued as TEST1"


class Authenticator:
    """Accepts USERNAME / PASSWORD and records every login name it was offered."""

    def __init__(self):
        self.attempts: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.attempts.append(auth_data.login.decode())
        accepted = (auth_data.login, auth_data.password) == (USERNAME.encode(), PASSWORD.encode())
        return AuthResult(success=accepted, handled=False)


@dataclass
class RunningServer:
    """A started server: where it listens, what it received, which logins it saw."""

    host: str
    port: int
    ca_pem: str
    handler: RecordingHandler
    authenticator: Authenticator
    controller: Controller = field(repr=False)
    stopped: bool = False

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages

    @property
    def auth_attempts(self) -> list[str]:
        return self.authenticator.attempts

    def params(self, security: str, **changes) -> ConnectionParams:
        """Parameters for this server: the right credentials and the CA, unless changed."""
        values = dict(host=self.host, port=self.port, security=security, username=USERNAME,
                      password=PASSWORD, ca_pem=self.ca_pem)
        return ConnectionParams(**{**values, **changes})

    def stop(self) -> None:
        """Stop listening (safe to call twice: tests stop a server to simulate an outage)."""
        if not self.stopped:
            self.controller.stop()
            self.stopped = True


def policy_for(server_or_port, **changes) -> TransportPolicy:
    """A policy that lets tests reach a loopback server on its random port."""
    port = getattr(server_or_port, "port", server_or_port)
    values = dict(allow_private=True, allowed_ports=frozenset({25, 465, 587, 2525, port}),
                  connect_timeout=5.0, total_timeout=10.0, ehlo_name="client.test")
    return TransportPolicy(**{**values, **changes})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp_server(certificates: CertificateSet, security: str = "starttls", *,
                      cert: str = "localhost", advertise_auth: bool = True,
                      auth_require_tls: bool | None = None, refuse=(), defer=None,
                      data_delay: float = 0.0, reject_data=(),
                      hang_up_on_data=()) -> RunningServer:
    """Start an aiosmtpd server: security "starttls", "tls" (implicit) or "none".

    `cert` picks the certificate ("localhost", "wrong_name", "expired"); `advertise_auth=False`
    hides AUTH from EHLO; `auth_require_tls=False` offers AUTH before STARTTLS too; `refuse` lists
    recipients answered with 550; `defer` maps recipients to a number of 451 answers before
    acceptance; `data_delay` holds the DATA reply back that many seconds; a message to an
    address in `reject_data` is refused with 554 at the end of DATA, and one to an address in
    `hang_up_on_data` makes the server drop the connection there, once, without a reply.
    Call .stop() when done (the fixtures do).
    """
    tls = getattr(certificates, cert).server_context() if security != "none" else None
    if auth_require_tls is None:
        # aiosmtpd counts only STARTTLS as encryption: with implicit TLS it would hide AUTH.
        auth_require_tls = security != "tls"
    handler = RecordingHandler(refuse, advertise_auth, defer, data_delay, reject_data,
                               hang_up_on_data)
    authenticator = Authenticator()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="mx.postroom.test",
        ssl_context=tls if security == "tls" else None,
        tls_context=tls if security == "starttls" else None,
        authenticator=authenticator, auth_require_tls=auth_require_tls)
    controller.start()
    return RunningServer("localhost", port, certificates.ca_pem, handler, authenticator,
                         controller)


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def smtp_certificates(tmp_path_factory) -> CertificateSet:
    """The test CA and its server certificates, made once per session."""
    return make_certificates(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture
def smtp_server_factory(smtp_certificates):
    """start(security="starttls", **options) -> RunningServer; every server stops afterwards."""
    started: list[RunningServer] = []

    def start(security: str = "starttls", **options) -> RunningServer:
        server = start_smtp_server(smtp_certificates, security, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def starttls_server(smtp_server_factory) -> RunningServer:
    """STARTTLS with the private CA's certificate for localhost; AUTH PLAIN/LOGIN after TLS."""
    return smtp_server_factory("starttls")


@pytest.fixture
def tls_server(smtp_server_factory) -> RunningServer:
    """Implicit TLS (like port 465) with the certificate for localhost; AUTH PLAIN/LOGIN."""
    return smtp_server_factory("tls")


@pytest.fixture
def plain_server(smtp_server_factory) -> RunningServer:
    """No TLS at all, yet offering AUTH in clear text: what a downgrading attacker shows."""
    return smtp_server_factory("none", auth_require_tls=False)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]
