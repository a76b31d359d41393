"""Sending e-mail without ever turning a mail failure into an error page.

A refused or unreachable mail server is an everyday event, not a bug: the caller learns it from
the return value, tells the user and offers to send again; the details go to the log.
"""

import logging

from django.core.mail import send_mail

logger = logging.getLogger(__name__)


def send(*, subject: str, body: str, to: str) -> bool:
    """Send one message; True when the mail backend accepted it."""
    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
    except Exception:
        # Whatever the backend raises (SMTP refusal, DNS, timeout, TLS): the work that led to
        # the message is already saved, and the page must say the mail did not go.
        logger.exception("Could not send the e-mail “%s”", subject)
        return False
    return True
