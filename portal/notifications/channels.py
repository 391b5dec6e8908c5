"""The ways a notification leaves the portal. Email is built in; a bureau adds another (SMS
through its provider's gateway) by writing a Channel subclass and listing its dotted path in
`NOTIFICATION_CHANNELS` (settings, or the PORTAL_NOTIFICATION_CHANNELS variable)."""

import smtplib
import socket
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from portal.models import User


class TransientError(Exception):
    """Worth trying again later: the server is away, busy or said 4xx."""


class PermanentError(Exception):
    """Trying again would fail the same way: no address, the server said 5xx."""


@dataclass
class Message:
    recipient: User
    subject: str
    text: str
    unsubscribe_url: str = ""


class Channel:
    name = ""
    supports_digest = False
    # The User column holding the address, for the reminders written set-based (bulk.py).
    address_column = ""

    def address(self, user: User) -> str:
        """Where this channel reaches the user; "" when it cannot (no delivery is made)."""
        raise NotImplementedError

    def send(self, message: Message) -> None:
        """Hand the message over, raising TransientError or PermanentError when that fails."""
        raise NotImplementedError


class EmailChannel(Channel):
    """Email through Django's backend (SMTP in production, the console on the embedded default)."""

    name = "email"
    supports_digest = True
    address_column = "email"

    def address(self, user: User) -> str:
        return user.email

    def send(self, message: Message) -> None:
        headers = {}
        if message.unsubscribe_url:
            headers = {"List-Unsubscribe": f"<{message.unsubscribe_url}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        email = EmailMultiAlternatives(subject=message.subject, body=message.text, to=[message.recipient.email],
                                       from_email=settings.DEFAULT_FROM_EMAIL, headers=headers,
                                       connection=get_connection(fail_silently=False, timeout=30))
        try:
            email.send()
        except Exception as error:
            raise classify_smtp_error(error) from error


def classify_smtp_error(error: Exception) -> Exception:
    """Transient (retried with backoff) or permanent (failed with the reason)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return TransientError(f"recipient refused for now: {error.recipients}")
        return PermanentError(f"recipient refused: {error.recipients}")
    if isinstance(error, smtplib.SMTPResponseException):
        kind = TransientError if 400 <= error.smtp_code < 500 else PermanentError
        return kind(f"{error.smtp_code} {error.smtp_error!r}")
    if isinstance(error, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError,
                          socket.timeout, TimeoutError, OSError)):
        return TransientError(f"{type(error).__name__}: {error}")
    return PermanentError(f"{type(error).__name__}: {error}")


@cache
def _load(paths: tuple[str, ...]) -> tuple[Channel, ...]:
    return tuple(import_string(path)() for path in paths)


def channels() -> tuple[Channel, ...]:
    return _load(tuple(settings.NOTIFICATION_CHANNELS))
