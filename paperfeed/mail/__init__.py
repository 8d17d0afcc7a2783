"""Outgoing email: compose a message, render it from templates, send it over SMTP.

    message = compose(to=..., subject=..., text=text, html=html,
                      sender=settings.mail_from, reply_to=settings.mail_reply_to)
    Mailer(settings).send(message)          # raises MailError(permanent=...) on failure
    MailQueue(settings).put("what", job)    # job() -> message, run and sent off the request
"""

from ..errors import MailError
from .queue import MailQueue
from .render import render_email
from .smtp import MailConnection, Mailer, compose, mail_enabled

__all__ = ["MailConnection", "MailError", "MailQueue", "Mailer", "compose", "mail_enabled",
           "render_email"]
