"""One SMTP conversation's clock and memory: its deadline, and the last reply heard."""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # transport imports this module at run time; these are for annotations only
    from portal.smtp.transport import ConnectionParams, TransportPolicy


@dataclass
class Attempt:
    """One conversation: its deadline, and the last reply heard with the credentials scrubbed."""

    deadline: float
    connect_timeout: float
    total_timeout: float
    secrets: tuple[str, ...]
    connecting: bool = True
    connected: bool = False
    # The last reply heard, as (code, text) until someone asks for it: formatting every reply
    # of a pipelined exchange showed up in profiles, and usually only the last one is read.
    _last: tuple[int, bytes | str] | str | None = None

    @property
    def reply(self) -> str | None:
        if isinstance(self._last, tuple):
            self._last = self.format(*self._last)
        return self._last

    @reply.setter
    def reply(self, value: str | None) -> None:
        self._last = value

    def heard(self, code: int, text: bytes | str) -> None:
        self._last = (code, text)

    def restart(self, connecting: bool = False) -> None:
        """A new exchange: the whole time budget again."""
        self.deadline = time.monotonic() + self.total_timeout
        self.connecting = connecting
        if connecting:
            self.connected = False

    @classmethod
    def start(cls, policy: TransportPolicy, params: ConnectionParams) -> "Attempt":
        return cls(time.monotonic() + policy.total_timeout, policy.connect_timeout,
                   policy.total_timeout, tuple(s for s in (params.username, params.password) if s))

    def timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the SMTP deadline has passed")
        return min(left, self.connect_timeout) if self.connecting else left

    def waited(self) -> float:
        """The limit that ran out, for the message."""
        early = self.connecting and time.monotonic() < self.deadline
        return self.connect_timeout if early else self.total_timeout

    def format(self, code: int, text: bytes | str) -> str:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        reply = f"{code} {text}".strip()[:1000]
        for secret in self.secrets:  # a server may echo the login back
            reply = reply.replace(secret, "[redacted]")
        return reply

    def decode_refused(self, refused: Mapping) -> dict[str, tuple[int, str]]:
        return {rcpt: (code, self.format(code, text).partition(" ")[2])
                for rcpt, (code, text) in refused.items()}
