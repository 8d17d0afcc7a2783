"""A digest as an email: HTML and text parts from templates, RFC 8058 unsubscribe headers."""

from __future__ import annotations

from email.message import EmailMessage

from ..mail import compose
from ..mail.render import render_email
from ..models import StoredPaper, Subscription
from ..settings import Settings

SECTION_TITLES = {"for_you": "For you", "trending": "Trending",
                  "search": "New for “{query}”"}


def digest_subject(subscription: Subscription, sections: dict[str, list[StoredPaper]],
                   period_label: str) -> str:
    count = sum(len(papers) for papers in sections.values())
    papers = f"{count} paper{'s' if count != 1 else ''}"
    if list(sections) == ["for_you"]:
        what = f"{papers} for you"
    elif list(sections) == ["search"]:
        what = f"{papers} for “{subscription.query}”"
    elif "search" in sections:
        what = f"{papers}: trending and new for “{subscription.query}”"
    else:
        what = f"{count} trending paper{'s' if count != 1 else ''}"
    return f"paperfeed · {what} · {period_label}"


def render_digest(subscription: Subscription, sections: dict[str, list[StoredPaper]],
                  votes: dict[int, int], period_label: str,
                  urls: dict[str, str]) -> tuple[str, str, str]:
    """(subject, text, html)."""
    heading = ("Your paperfeed digest" if len(sections) > 1 else
               "New papers for you" if "search" in sections else "Trending papers")
    parts = [{"title": SECTION_TITLES[name].format(query=subscription.query or ""),
              "papers": papers} for name, papers in sections.items() if papers]
    text, html = render_email("digest", heading=heading, sections=parts, votes=votes,
                              subscription=subscription, period_label=period_label, urls=urls,
                              site_url=urls["site"])
    return digest_subject(subscription, sections, period_label), text, html


def digest_message(settings: Settings, subscription: Subscription, message_id: str,
                   subject: str, text: str, html: str, urls: dict[str, str]) -> EmailMessage:
    message = compose(
        to=subscription.email, subject=subject, text=text, html=html,
        sender=settings.mail_from, reply_to=settings.mail_reply_to,
        headers={
            # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs here.
            "List-Unsubscribe": f"<{urls['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": "paperfeed digests <digests.paperfeed.invalid>",
            "Auto-Submitted": "auto-generated",
            "Precedence": "bulk",
        })
    # The id was fixed when the digest was planned: if a crash forces a resend, mail
    # clients that de-duplicate by Message-ID still show one copy.
    message.replace_header("Message-ID", message_id)
    return message
