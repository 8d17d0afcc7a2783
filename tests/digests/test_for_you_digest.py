"""The "For you" section of a member's digest, over real SMTP: the member's own ranking
first, only when they asked for it, and never a paper twice (nor one already sent)."""

from __future__ import annotations

import re
from pathlib import Path

from paperfeed.digests import DigestSender

from ..smtp_server import SmtpSink
from .test_digests import _catalog, _paper_links


def test_the_for_you_section_ranks_by_the_members_ratings(tmp_path: Path,
                                                          smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink, digest_size=2)
    store = catalog.store
    ada = store.members.add_user("ada", "ada@example.org", "hash")
    bob = store.members.add_user("bob", "bob@example.org", "hash")
    voter = store.members.add_user("voter", "voter@example.org", "hash")
    key = {p: store.papers.get(p).key for p in ("2611.00000", "2611.00001", "2611.00002",
                                                "2611.00005")}
    # Ada likes the ranking paper (liked papers are never recommended back to her) and
    # dislikes lensing; two other papers trend.
    store.ratings.rate(ada.id, key["2611.00000"], 1)
    store.ratings.rate(ada.id, key["2611.00002"], -1)
    store.community.vote(voter.id, key["2611.00001"], True)
    store.community.vote(voter.id, key["2611.00005"], True)
    for member in (ada, bob):
        sub = store.subscriptions.add(member.email, "daily", True, None, user_id=member.id)
        store.subscriptions.set_status(sub.id, "active")
    store.ratings.set_digest_for_you(ada.id, True)
    store.ratings.rate(bob.id, key["2611.00000"], 1)  # bob has signals, but no section

    assert DigestSender(catalog, catalog.settings).send("daily").sent == 2
    messages = {m["To"]: m for m in smtp_sink.wait_for(2)}
    mine, theirs = messages["ada@example.org"], messages["bob@example.org"]
    text = mine.get_body(("plain",)).get_content()
    html = mine.get_body(("html",)).get_content()
    assert "For you" in text and "For you" in html
    assert "For you" not in theirs.get_body(("plain",)).get_content()
    links = _paper_links(mine)
    assert len(links) == len(set(links)), "never a paper twice"
    for_you = text.split("For you", 1)[1].split("Trending", 1)[0]
    # The other ranking paper is closest to what she liked: first in her section.
    assert _paper_links_in(for_you)[0] == "2611.00001"
    assert not {"2611.00000", "2611.00002"} & set(_paper_links_in(for_you))  # rated ones
    # What For you took is not repeated under Trending.
    trending = text.split("Trending", 1)[1] if "Trending" in text else ""
    assert "2611.00001" not in _paper_links_in(trending)


def _paper_links_in(text: str) -> list[str]:
    return re.findall(r"/papers/(\S+)", text)
