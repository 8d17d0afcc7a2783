"""Verified addresses, the account page, and forms that do not reveal who has an account
(real SQLite, email over SMTP to a real server on loopback)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from ..smtp_server import SmtpSink
from .members import PASSWORD, csrf, link_in, mail_to, sign_up_and_verify

VICTIM = "vic@example.org"


@pytest.fixture
def catalog(tmp_path: Path, smtp_sink: SmtpSink) -> Catalog:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                    base_url="http://testserver", **smtp_sink.overrides))
    catalog.ingest([Paper(title="Pairwise ranking losses", abstract="Ranking.",
                          arxiv_id="2601.00001", published=date(2026, 1, 2),
                          source="test", source_ref="1")])
    return catalog


def _client(catalog: Catalog) -> TestClient:
    return TestClient(create_app(catalog.settings, catalog))


def _subscribe_and_confirm(catalog: Catalog, sink: SmtpSink, email: str) -> int:
    """A digest subscription made the anonymous way: the form, then the emailed link."""
    visitor = _client(catalog)
    answer = visitor.post("/subscribe", data={"email": email, "frequency": "weekly",
                                              "trending": "1", "csrf_token": csrf(visitor)})
    assert answer.status_code == 200, answer.text
    confirmed = visitor.get(link_in(mail_to(sink, email, "Confirm"), "/subscribe/confirm"))
    assert "You are subscribed" in confirmed.text
    sink.clear()
    [subscription] = catalog.store.subscriptions.of_email(email)
    return subscription.id


def _log_in(client: TestClient, login: str) -> None:
    answer = client.post("/login", data={"login": login, "password": PASSWORD,
                                         "csrf_token": csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_an_account_made_with_someone_elses_address_gets_none_of_their_digests(
        catalog: Catalog, smtp_sink: SmtpSink) -> None:
    """Issue 9.5: /subscriptions showed and controlled every subscription of the
    account's address, verified or not."""
    theirs = _subscribe_and_confirm(catalog, smtp_sink, VICTIM)
    mallory = _client(catalog)
    mallory.post("/signup", data={"username": "mallory", "email": VICTIM, "password": PASSWORD,
                                  "csrf_token": csrf(mallory)})
    _log_in(mallory, "mallory")

    page = mallory.get("/subscriptions")
    assert page.status_code == 200 and "Weekly: trending papers" not in page.text
    assert "Verify your address" in page.text
    assert mallory.get(f"/subscriptions/{theirs}/preview").status_code == 404
    changed = mallory.post(f"/subscriptions/{theirs}/status", data={
        "status": "unsubscribed", "csrf_token": csrf(mallory)})
    assert changed.status_code == 404
    assert catalog.store.subscriptions.get(theirs).status == "active"

    # Subscribing while logged in ties nothing to the account: the address's owner confirms.
    mallory.post("/subscribe", data={"email": VICTIM, "frequency": "daily", "query": "spam",
                                      "csrf_token": csrf(mallory)})
    pending = [s for s in catalog.store.subscriptions.of_email(VICTIM) if s.id != theirs]
    assert [(s.status, s.user_id) for s in pending] == [("pending", None)]
    assert "Weekly: trending papers" not in mallory.get("/subscriptions").text

    # What the victim's server received: a verification link for mallory, and a
    # confirmation request; neither acts until someone reading that mailbox clicks.
    verify = mail_to(smtp_sink, VICTIM, "Verify")
    assert b"To: vic@example.org" in verify.raw and b"mallory" in verify.raw
    assert link_in(verify, "/verify").startswith("/verify?token=")
    mail_to(smtp_sink, VICTIM, "Confirm your paperfeed digest")


def test_verifying_the_address_makes_its_subscriptions_the_members(
        catalog: Catalog, smtp_sink: SmtpSink) -> None:
    sub_id = _subscribe_and_confirm(catalog, smtp_sink, "ada@example.org")
    ada = _client(catalog)
    answer = ada.post("/signup", data={"username": "ada", "email": "ada@example.org",
                                       "password": PASSWORD, "csrf_token": csrf(ada)})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    delivery = mail_to(smtp_sink, "ada@example.org", "Verify")
    assert delivery.rcpt_tos == ["ada@example.org"]
    assert b"Subject: Verify your paperfeed address" in delivery.raw
    link = link_in(delivery, "/verify")

    _log_in(ada, "ada")  # before the click: a member, but not the address's owner
    assert "Weekly: trending papers" not in ada.get("/subscriptions").text
    account = ada.get("/account")
    assert "not verified" in account.text and "Send a new verification link" in account.text

    scanner = _client(catalog)  # a mail system's link scanner follows the link: no effect
    assert "Verify and log in" in scanner.get(link).text
    assert not catalog.store.members.user_by_name("ada").verified

    token = link.split("token=", 1)[1]
    done = ada.post("/verify", data={"token": token, "csrf_token": csrf(ada)},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account?notice=verified"
    assert catalog.store.members.user_by_name("ada").verified
    page = ada.get("/subscriptions")
    assert "Weekly: trending papers" in page.text and "Verify your address" not in page.text
    assert ada.get(f"/subscriptions/{sub_id}/preview").status_code == 200
    assert ">verified<" in ada.get("/account").text

    again = scanner.post("/verify", data={"token": token, "csrf_token": csrf(scanner)},
                         follow_redirects=False)
    assert again.status_code == 400 and "verified already" in again.text
    assert not scanner.cookies.get("pf_session"), "a spent link logs nobody in"
    forged = ada.get("/verify", params={"token": token[:-3] + "abc"})
    assert forged.status_code == 400 and "not valid" in forged.text


def test_resending_the_verification_link_is_rate_limited(catalog: Catalog,
                                                         smtp_sink: SmtpSink) -> None:
    ada = _client(catalog)
    ada.post("/signup", data={"username": "ada", "email": "ada@example.org",
                              "password": PASSWORD, "csrf_token": csrf(ada)})
    _log_in(ada, "ada")
    answers = []
    for _ in range(3):
        assert ada.app.state.mail.wait_idle(10)  # the mail thread counts what it sends
        answers.append(ada.post("/account/verification", data={"csrf_token": csrf(ada)},
                                follow_redirects=False).status_code)
    assert answers == [303, 303, 429], "sign-up's email and two more in an hour"
    assert ada.app.state.mail.wait_idle(10)
    assert [m["Subject"] for m in smtp_sink.messages] == ["Verify your paperfeed address"] * 3
    first, last = (link_in(d, "/verify") for d in (smtp_sink.deliveries[0],
                                                   smtp_sink.deliveries[-1]))
    assert ada.get(first).status_code == ada.get(last).status_code == 200


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
        catalog: Catalog, smtp_sink: SmtpSink) -> None:
    """Issue 9.10: sign-up said "That email is already registered"."""
    catalog.store.members.add_user("ada", "ada@example.org", "hash")
    visitor = _client(catalog)
    token = csrf(visitor)
    free = visitor.post("/signup", data={"username": "bob", "email": "bob@example.org",
                                         "password": PASSWORD, "csrf_token": token})
    taken = visitor.post("/signup", data={"username": "carol", "email": "ada@example.org",
                                          "password": PASSWORD, "csrf_token": token})
    assert (free.status_code, free.text) == (taken.status_code, taken.text)
    assert "set-cookie" not in free.headers and "set-cookie" not in taken.headers
    assert catalog.store.members.user_by_name("carol") is None

    assert mail_to(smtp_sink, "bob@example.org", "Verify")
    notice = mail_to(smtp_sink, "ada@example.org", "already have")
    text = notice.message.get_body(("plain",)).get_content()
    assert "ada" in text and "/forgot" in text and "token=" not in text

    clash = visitor.post("/signup", data={"username": "ADA", "email": "new@example.org",
                                          "password": PASSWORD, "csrf_token": token})
    assert clash.status_code == 400 and "username is taken" in clash.text, \
        "usernames are public on member pages: a clash may be said"


def test_forgot_password_sends_from_the_mail_thread(tmp_path: Path) -> None:
    """Issue 9.10: /forgot sent inline, so it took longer when the account existed. With
    a slow SMTP server the answer comes before the server has accepted anything."""
    with SmtpSink(rcpt_delay_s=1.5) as slow:
        catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                        base_url="http://testserver", **slow.overrides))
        catalog.store.members.add_user("ada", "ada@example.org", "hash")
        client = _client(catalog)
        known = client.post("/forgot", data={"login": "ada", "csrf_token": csrf(client)})
        assert known.status_code == 200 and slow.messages == []
        unknown = client.post("/forgot", data={"login": "nobody", "csrf_token": csrf(client)})
        assert (known.status_code, known.text) == (unknown.status_code, unknown.text)
        [message] = slow.wait_for(1)
        assert message["To"] == "ada@example.org" and "/reset?token=" in \
            message.get_body(("plain",)).get_content()
        assert client.app.state.mail.wait_idle(10) and len(slow.messages) == 1


def test_change_password_on_the_account_page(catalog: Catalog, smtp_sink: SmtpSink) -> None:
    ada = _client(catalog)
    sign_up_and_verify(ada, smtp_sink, "ada")
    other_device = _client(catalog)
    _log_in(other_device, "ada")
    wrong = ada.post("/account/password", data={"current": "not it at all",
                                                "password": "a new long password",
                                                "csrf_token": csrf(ada)})
    assert wrong.status_code == 400 and "current password" in wrong.text
    done = ada.post("/account/password", data={"current": PASSWORD,
                                               "password": "a new long password",
                                               "csrf_token": csrf(ada)}, follow_redirects=False)
    assert done.status_code == 303 and "Your password is changed" in ada.get(done.headers[
        "location"]).text
    assert other_device.get("/account", follow_redirects=False).status_code == 303, \
        "other sessions end"
    fresh = _client(catalog)
    refused = fresh.post("/login", data={"login": "ada", "password": PASSWORD,
                                         "csrf_token": csrf(fresh)})
    assert refused.status_code == 400


def test_account_page_needs_a_member(catalog: Catalog) -> None:
    answer = _client(catalog).get("/account", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/account"
