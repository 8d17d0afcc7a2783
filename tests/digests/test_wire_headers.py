"""A digest's headers as the SMTP server received the bytes, not as a parser decodes them.

RFC 2369/8058 readers take List-Unsubscribe literally: `<url>` on the header line, no
encoded-words. Long base URLs and long addresses (the link token carries the address)
must not change that.
"""

from __future__ import annotations

import re
from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.digests import DigestSender
from paperfeed.mail import Mailer, compose
from paperfeed.settings import Settings

from ..conftest import make_settings
from ..smtp_server import SmtpSink
from .test_digests import _corpus, _subscribe

LONG_BASE = "https://papers.physics-and-astronomy.example-university.edu/reading-group/paperfeed"
LONG_EMAIL = "first.middle.lastname.with-a-long-department-suffix@astro.example-university.edu"
QUERY = "naïve pairwise ranking loss =?utf-8?b?SGVsbG8=?="


def _header(raw: bytes, name: str) -> bytes:
    """The header's bytes on the wire, continuation lines included."""
    match = re.search(rb"\r\n" + name.encode() + rb": (.*?)\r\n(?! )", raw, re.S)
    assert match, f"no {name} header"
    return match.group(1)


def test_list_unsubscribe_goes_out_as_a_raw_url(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    catalog = Catalog(make_settings(
        tmp_path, load_demo=False, base_url=LONG_BASE, **smtp_sink.overrides,
        mail_from="paperfeed <digests@mail.reading-group.example-university.edu>"))
    catalog.ingest(_corpus())
    catalog.reindex()
    subscription_id = _subscribe(catalog, LONG_EMAIL, trending=False, query=QUERY)
    sender = DigestSender(catalog, catalog.settings)
    assert sender.send("daily").sent == 1
    [delivered] = smtp_sink.deliveries
    raw = delivered.raw
    unsubscribe = re.fullmatch(rb"<(" + LONG_BASE.encode() + rb"/unsubscribe\?token=([\w.-]+))>",
                               _header(raw, "List-Unsubscribe"))
    assert unsubscribe, _header(raw, "List-Unsubscribe")
    assert len(unsubscribe[1]) > 200, "long enough that the default policy encoded and folded it"
    assert sender.subscriptions.from_link(unsubscribe[2].decode()).id == subscription_id
    assert _header(raw, "List-Unsubscribe-Post") == b"List-Unsubscribe=One-Click"
    assert _header(raw, "List-Id") == b"paperfeed digests <digests.paperfeed.invalid>"
    [item] = catalog.store.outbox.items()
    assert _header(raw, "Message-ID") == item.message_id.encode()
    assert b"=?" not in _header(raw, "List-Unsubscribe") + _header(raw, "Message-ID")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))

    subject = delivered.message["Subject"]
    assert QUERY in subject, "a query that looks like an encoded-word arrives as typed"
    assert subject.startswith("paperfeed · ") and "Hello" not in subject


def test_list_headers_fold_only_between_items() -> None:
    first = "<https://example.org/unsubscribe?token=" + "a" * 90 + "&x=1,2>"
    second = "<mailto:unsubscribe@example.org?subject=stop>"
    message = compose(to="a@example.org", subject="s", text="t", html=None,
                      sender="paperfeed <pf@example.org>",
                      headers={"List-Unsubscribe": f"{first}, {second}"})
    wire = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    assert f"\r\nList-Unsubscribe: {first},\r\n {second}\r\n".encode() in wire


def test_a_subject_that_looks_encoded_arrives_as_typed(smtp_sink: SmtpSink) -> None:
    subject = "paperfeed · 2 papers for “=?utf-8?b?SGVsbG8=?=” · Monday"
    message = compose(to="a@example.org", subject=subject, text="t", html=None,
                      sender="paperfeed <pf@example.org>")
    Mailer(Settings().with_overrides(**smtp_sink.overrides)).send(message)
    [delivered] = smtp_sink.deliveries
    assert delivered.message["Subject"] == subject
    assert b"SGVsbG8=?=" not in delivered.raw, "the look-alike travels encoded, not raw"
