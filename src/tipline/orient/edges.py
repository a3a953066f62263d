"""The outside world Orient talks to, behind small interfaces: partner hotlines' inboxes
(HTTP) and mail servers (Django's mail backends). Re-checks use Analyze's capture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, mailers


class DeliveryError(Exception):
    """A delivery did not happen. `permanent` means trying again will not help (the
    receiver refused the message itself); otherwise it is retried with backoff."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class PartnerTransport(Protocol):
    def post(self, url: str, token: str) -> Answer:
        """POST a sealed envelope; raise DeliveryError when no answer came back."""
        ...


class HttpTransport:
    """Partners' inboxes over HTTP(S). Their URLs are entered by supervisors, not by the
    public, so they are trusted (a partner on the same closed network may be private)."""

    def __init__(self, *, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    def post(self, url: str, token: str) -> Answer:
        try:
            response = httpx.post(
                url,
                content=token.encode(),
                headers={"Content-Type": "application/jose", "Accept": "application/json"},
                timeout=self.timeout_s,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"no answer from {url}: {type(exc).__name__}: {exc}") from exc
        return Answer(response.status_code, response.content)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message to the mail system; raise DeliveryError when it cannot."""
        ...


class DjangoMailer:
    """Django's configured mail backend: SMTP in production, files in the demo."""

    def send(self, message: EmailMessage) -> None:
        try:
            if mailers.default.send_messages([message]) != 1:
                raise DeliveryError("the mail backend accepted no message")
        except DeliveryError:
            raise
        except Exception as exc:  # smtplib, socket and OS errors alike: retried later
            raise DeliveryError(f"mail not sent: {type(exc).__name__}: {exc}") from exc


def transport() -> PartnerTransport:
    return HttpTransport(timeout_s=settings.OUTBOX_TIMEOUT_S)


def mailer() -> Mailer:
    return DjangoMailer()
