"""A real SMTP server for the tests of mail (aiosmtpd on a free port), and the fixtures that point
the app at it. A test module takes them as its own:

    smtp_port, app_config, mail_server = smtp.smtp_port, smtp.app_config, smtp.mail_server

`app_config` turns MAIL_SEND_AT_ONCE off: requests only write jobs and mail, as in production, and
a test runs the worker's pass itself.
"""

from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """An SMTP server's handler: keeps what it accepts (recipients, message); can refuse addresses
    or answer "try later"."""

    def __init__(self) -> None:
        self.messages: list = []
        self.data_answer: str | None = None  # e.g. "451 4.3.0 Try again later"
        self.refuse_recipients = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        if self.data_answer:
            return self.data_answer
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class MailServer:
    """aiosmtpd on a fixed port; a stopped Controller cannot start again, so each start makes one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list:
        """The messages received, oldest first."""
        return [message for _, message in self.mailbox.messages]

    def to(self, user: Any) -> list:
        """The messages received for the person, oldest first."""
        return [message for message in self.received if message["To"] == user.email]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port: int) -> dict:
    return {"MAIL_SEND_AT_ONCE": False, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_STARTTLS": False}


@pytest.fixture
def mail_server(smtp_port: int):
    server = MailServer(smtp_port)
    server.start()
    yield server
    server.stop()
