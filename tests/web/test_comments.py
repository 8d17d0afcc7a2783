"""The discussion over HTTP (real SQLite, TestClient): post, reply, edit, delete, admin
hide without JavaScript; visitors and forged forms refused; hostile Markdown inert in the
page bytes; the shared paper page the same bytes for two members; counts on cards; the
Atom feed read back by feedparser."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import feedparser
import lxml.html
import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.store import COMMENT_RATE_LIMIT, MAX_COMMENT
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import csrf, signed_up

PAPER = "2501.00001"
HOSTILE = "\n\n".join([
    "<script>alert('script')</script>",
    "[click me](javascript:alert('link'))",
    "[sneaky](JaVaScRiPt:alert('case'))",
    "<img src=x onerror=alert('img')>",
    "![pixel](https://tracker.example/p.png)",
    '<div onclick="alert(\'block\')">\nraw HTML block\n</div>',
    '<a href="javascript:alert(\'a\')">raw link</a>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "fine: **bold**, `code`, [arXiv](https://arxiv.org/abs/2501.00001), "
    "[mail](mailto:ada@example.org)",
    "```\n<script>in a code block</script>\n```",
])


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                    base_url="https://papers.example.org"))
    catalog.ingest([Paper(title=f"Sparse retrieval with pairwise losses, part {i}",
                          abstract="We rank.", arxiv_id=f"2501.{i:05d}",
                          published=date(2026, 1, 5), categories=["cs.IR"],
                          authors=["Ada Lovelace"], source="test", source_ref=str(i))
                    for i in range(3)])
    catalog.reindex()
    return catalog


@pytest.fixture
def admin(catalog: Catalog) -> TestClient:
    return signed_up(catalog, "root")  # the first member is an admin


def _post(client: TestClient, body: str, parent: int | None = None,
          paper: str = PAPER) -> int:
    data = {"body": body, "csrf_token": csrf(client)}
    if parent is not None:
        data["parent"] = str(parent)
    answer = client.post(f"/papers/{paper}/comments", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(rf"/papers/{re.escape(paper)}#comment-(\d+)",
                         answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found[1])


def _cls(name: str) -> str:
    """An XPath step for elements of CSS class `name` (lxml's cssselect needs a package)."""
    return f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


def _find(element: lxml.html.HtmlElement, path: str) -> list:
    return element.xpath("." + path)


def _comment(page: str, comment_id: int) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(page).get_element_by_id(f"comment-{comment_id}")


def test_post_reply_edit_and_delete_without_javascript(catalog: Catalog,
                                                       admin: TestClient) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    first = _post(ada, "Does this *hold* for dense retrievers?")
    reply = _post(bob, "It does, see table 3.", parent=first)
    deeper = _post(ada, "Thanks!", parent=reply)  # a reply to a reply joins the thread
    page = bob.get(f"/papers/{PAPER}").text
    thread = _find(lxml.html.fromstring(page), _cls("thread"))[0]
    assert [a.get("id") for a in _find(thread, "//article")] == [
        f"comment-{first}", f"comment-{reply}", f"comment-{deeper}"]
    assert _find(_comment(page, first), _cls("comment-body") + "//em")[0].text == "hold"
    assert "(edited)" not in page

    answer = ada.post(f"/comments/{first}/edit", follow_redirects=False,
                      data={"body": "Does this hold for **dense** retrievers?",
                            "csrf_token": csrf(ada)})
    assert answer.headers["location"] == f"/papers/{PAPER}#comment-{first}"
    page = bob.get(f"/papers/{PAPER}").text
    edited = _comment(page, first)
    assert _find(edited, _cls("comment-body") + "//strong")[0].text == "dense"
    assert _find(edited, _cls("edited"))[0].text == "(edited)"

    assert ada.post(f"/comments/{first}/delete", data={"csrf_token": csrf(ada)},
                    follow_redirects=False).status_code == 303
    page = bob.get(f"/papers/{PAPER}").text
    assert _find(_comment(page, first), _cls("gone"))[0].text == "[deleted]"
    assert "dense" not in page and "It does, see table 3." in page  # replies keep their place


def test_members_change_only_their_own_comments(catalog: Catalog, admin: TestClient) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    mine = _post(ada, "words by ada")
    for action, data in (("edit", {"body": "bob's words"}), ("delete", {})):
        answer = bob.post(f"/comments/{mine}/{action}", data={**data, "csrf_token": csrf(bob)})
        assert answer.status_code == 403, action
    assert "words by ada" in bob.get(f"/papers/{PAPER}").text
    # Bob's page offers no edit for ada's comment; ada's does.
    assert not _find(_comment(bob.get(f"/papers/{PAPER}").text, mine), _cls("comment-edit"))
    assert _find(_comment(ada.get(f"/papers/{PAPER}").text, mine), _cls("comment-edit"))


def test_a_visitor_cannot_post_and_is_sent_to_log_in(catalog: Catalog) -> None:
    visitor = TestClient(create_app(catalog.settings, catalog))
    answer = visitor.post(f"/papers/{PAPER}/comments", follow_redirects=False,
                          data={"body": "anonymous", "csrf_token": csrf(visitor)})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    assert "why=comment" in answer.headers["location"]
    page = visitor.get(f"/papers/{PAPER}").text
    assert "Log in</a> to join the discussion" in page and 'name="body"' not in page
    assert catalog.store.comments.thread(catalog.store.papers.get(PAPER).key) == []  # type: ignore[union-attr]


def test_csrf_is_required(catalog: Catalog, admin: TestClient) -> None:
    ada = signed_up(catalog, "ada")
    for data in ({"body": "forged"}, {"body": "forged", "csrf_token": "x" * 32}):
        assert ada.post(f"/papers/{PAPER}/comments", data=data).status_code == 403
    mine = _post(ada, "real")
    assert ada.post(f"/comments/{mine}/delete").status_code == 403
    assert ada.post(f"/comments/{mine}/edit", data={"body": "forged"}).status_code == 403
    assert "real" in ada.get(f"/papers/{PAPER}").text


def test_an_admin_hides_and_shows_a_comment(catalog: Catalog, admin: TestClient) -> None:
    ada = signed_up(catalog, "ada")
    spam = _post(ada, "Buy cheap watches")
    assert ada.post(f"/comments/{spam}/hide", data={"csrf_token": csrf(ada)}).status_code == 403
    answer = admin.post(f"/comments/{spam}/hide", data={"hidden": "1", "csrf_token": csrf(admin)},
                        follow_redirects=False)
    assert answer.status_code == 303
    assert "cheap watches" not in ada.get(f"/papers/{PAPER}").text
    moderated = _comment(admin.get(f"/papers/{PAPER}").text, spam)  # admins review it
    assert _find(moderated, _cls("comment-hide") + "//button")[0].text == "Unhide"
    admin.post(f"/comments/{spam}/hide", data={"hidden": "0", "csrf_token": csrf(admin)})
    assert "cheap watches" in ada.get(f"/papers/{PAPER}").text


def test_hostile_markdown_is_inert_in_the_page_bytes(catalog: Catalog,
                                                     admin: TestClient) -> None:
    ada = signed_up(catalog, "ada")
    hostile = _post(ada, HOSTILE)
    for client in (ada, TestClient(create_app(catalog.settings, catalog)), admin):
        page = client.get(f"/papers/{PAPER}").text
        body = _find(_comment(page, hostile), _cls("comment-body"))[0]
        assert not body.xpath(".//script|.//img|.//div|.//iframe|.//object|.//style")
        assert not [name for el in body.iter() for name in el.attrib if name.startswith("on")]
        links = body.xpath(".//a")
        # The image is a plain link (images are off), the refused schemes are text.
        assert [a.get("href") for a in links] == ["https://tracker.example/p.png",
                                                   "https://arxiv.org/abs/2501.00001",
                                                   "mailto:ada@example.org"]
        assert {a.get("rel") for a in links} == {"nofollow ugc noopener"}
        assert body.xpath(".//pre/code")[0].text == "<script>in a code block</script>\n"
        lowered = page.lower()  # in the bytes, the hostile markup is only escaped text
        assert "<script>alert" not in lowered and "<img" not in lowered
        assert '<a href="javascript' not in lowered and "<div onclick" not in lowered


def test_the_shared_paper_page_is_the_same_bytes_for_two_members(catalog: Catalog,
                                                                 admin: TestClient) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    a, b = _post(ada, "ada was here"), _post(bob, "bob was here")
    cached = []
    for member in (ada, bob):
        app = create_app(catalog.settings, catalog)  # each its own, empty page cache
        client = TestClient(app, cookies=dict(member.cookies))
        page = client.get(f"/papers/{PAPER}").text
        entries = list(app.state.page_cache._entries.values())
        assert len(entries) == 1
        cached.append(entries[0][2])
        own, other = (a, b) if member is ada else (b, a)
        assert _find(_comment(page, own), _cls("comment-edit") + "//textarea")
        assert not _find(_comment(page, other), _cls("comment-controls"))
        assert 'name="body"' in page  # the member's post form was filled in
    assert cached[0] == cached[1]
    assert b"ada@" not in cached[0] and b"<!--pf:comment:" in cached[0]
    assert b"comment-edit" not in cached[0]


def test_a_comment_shows_at_once_and_counts_on_cards_and_in_the_api(
        catalog: Catalog, admin: TestClient) -> None:
    ada = signed_up(catalog, "ada")
    visitor = TestClient(create_app(catalog.settings, catalog))
    assert "No comments yet." in ada.get(f"/papers/{PAPER}").text  # cached before the post
    before = visitor.get("/papers/month").text
    assert "comment</a>" not in before
    top = _post(ada, "first")
    _post(ada, "second", parent=top)
    assert "first" in ada.get(f"/papers/{PAPER}").text  # the post refreshed the shared page
    card = lxml.html.fromstring(ada.get("/papers/month").text).xpath(
        f"//a[@href='/papers/{PAPER}#comments']")
    assert card and card[0].text == "2 comments"
    assert ada.get(f"/api/papers/{PAPER}").json()["numComments"] == 2
    items = {i["id"]: i for i in ada.get("/api/daily_papers?month=2026-01").json()}
    assert items[PAPER]["numComments"] == 2 and items["2501.00002"]["numComments"] == 0


def test_bad_comments_are_refused_with_a_clear_error(catalog: Catalog,
                                                     admin: TestClient) -> None:
    ada = signed_up(catalog, "ada")
    for body, words in (("   ", "needs some text"), ("x" * (MAX_COMMENT + 1), "at most")):
        answer = ada.post(f"/papers/{PAPER}/comments",
                          data={"body": body, "csrf_token": csrf(ada)})
        assert answer.status_code == 400 and words in answer.text
    answer = ada.post(f"/papers/{PAPER}/comments",
                      data={"body": "x", "parent": "abc", "csrf_token": csrf(ada)})
    assert answer.status_code == 400
    assert ada.post("/papers/9999.99999/comments",
                    data={"body": "x", "csrf_token": csrf(ada)}).status_code == 404
    for _ in range(COMMENT_RATE_LIMIT):
        _post(ada, "again")
    answer = ada.post(f"/papers/{PAPER}/comments", data={"body": "x", "csrf_token": csrf(ada)})
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert "comments in the last 10 minutes" in answer.text


def test_the_atom_feed_of_a_discussion(catalog: Catalog, admin: TestClient) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    top = _post(ada, "Is the code out? [repo](https://github.com/x/y)")
    _post(bob, "Yes <script>alert(1)</script>", parent=top)
    gone = _post(bob, "oops")
    bob.post(f"/comments/{gone}/delete", data={"csrf_token": csrf(bob)})
    answer = TestClient(create_app(catalog.settings, catalog)).get(
        f"/papers/{PAPER}/comments.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Discussion: Sparse retrieval with pairwise losses, part 1"
    base = f"https://papers.example.org/papers/{PAPER}"
    assert [(e.title, e.link) for e in feed.entries] == [
        ("bob replied", f"{base}#comment-{top + 1}"), ("ada commented", f"{base}#comment-{top}")]
    assert feed.entries[0].content[0].type == "text/html"
    # The content is the sanitised HTML: the script is text, the link is marked.
    reply_html = lxml.html.fromstring(feed.entries[0].content[0].value)
    assert not reply_html.xpath("//script") and "alert(1)" in reply_html.text_content()
    link = lxml.html.fromstring(feed.entries[1].content[0].value).xpath("//a")[0]
    assert link.get("rel") == "nofollow ugc noopener"
    page = ada.get(f"/papers/{PAPER}").text
    assert f'href="/papers/{PAPER}/comments.atom"' in page
