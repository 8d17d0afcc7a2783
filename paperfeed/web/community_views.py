"""Member actions: submit a paper, upvote, hide (admins); a member's page."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..discover.visibility import lookup
from ..errors import ArxivUnavailable, BadRequest, NotFound
from ..http.session import current_user, require_admin, require_member, safe_next
from ..members import ManualPaper, Submissions
from ..members.submit import extra_links, parse_authors, parse_published
from ..models import StoredPaper
from .render import render, vote_state


def _submissions(request: Request) -> Submissions:
    catalog = request.app.state.catalog
    return Submissions(catalog, request.app.state.settings.arxiv_api_url)


def _paper(request: Request, paper_id: str) -> StoredPaper:
    """A paper as this visitor may see it (a hidden one only for admins)."""
    return lookup(request.app.state.catalog, paper_id, current_user(request))


def _paper_url(paper: StoredPaper, notice: str) -> str:
    return f"/papers/{quote(paper.id)}?notice={notice}"


def submit_form(request: Request) -> HTMLResponse:
    require_member(request, why="submit")
    return render(request, "submit.html", form={}, manual=False, active="submit")


def submit(request: Request, ref: str = Form(""), code: str = Form(""),
           project: str = Form("")) -> Response:
    user = require_member(request, "/submit")
    form = {"ref": ref, "code": code, "project": project}
    submissions = _submissions(request)
    try:
        links = extra_links(code, project)
        existing = submissions.existing(ref)
        if existing:
            return RedirectResponse(_paper_url(existing.paper, "already-submitted"), 303)
        result = submissions.by_arxiv_id(user, ref, links)
    except ArxivUnavailable as exc:
        return render(request, "submit.html", status=exc.status, form=form, manual=True,
                      active="submit",
                      error=f"{exc} You can enter the paper by hand below; it will be merged "
                            "with arXiv's record when the paper is harvested.")
    except BadRequest as exc:
        return render(request, "submit.html", status=400, form=form, manual=False,
                      active="submit", error=str(exc))
    notice = "submitted" if result.created else "already-submitted"
    return RedirectResponse(_paper_url(result.paper, notice), 303)


def submit_manual(request: Request, ref: str = Form(""), title: str = Form(""),
                  abstract: str = Form(""), authors: str = Form(""), code: str = Form(""),
                  project: str = Form(""), published: str = Form("")) -> Response:
    user = require_member(request, "/submit")
    form = {"ref": ref, "title": title, "abstract": abstract, "authors": authors,
            "code": code, "project": project, "published": published}
    try:
        entry = ManualPaper(title=title, abstract=abstract, authors=parse_authors(authors),
                            arxiv_id=ref.strip() or None, links=extra_links(code, project),
                            published=parse_published(published, datetime.now(UTC).date()))
        result = _submissions(request).manual(user, entry)
    except BadRequest as exc:
        return render(request, "submit.html", status=400, form=form, manual=True,
                      active="submit", error=str(exc))
    notice = "submitted" if result.created else "already-submitted"
    return RedirectResponse(_paper_url(result.paper, notice), 303)


def _back(request: Request, default: str) -> str:
    """Where a plain-form vote returns to: the page it was cast on, if ours."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return default
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(path, default)


def vote_form(request: Request, paper_id: str) -> Response:
    """The no-JavaScript vote: toggle, then back to the page it came from."""
    paper = _paper(request, paper_id)
    back = _back(request, f"/papers/{quote(paper.id)}")
    user = require_member(request, back if "#" in back else f"{back}#paper-{paper.key}",
                          why="upvote")
    request.app.state.catalog.store.community.vote(user.id, paper.key)
    return RedirectResponse(f"{back}#paper-{paper.key}" if "#" not in back else back, 303)


def hide(request: Request, paper_id: str, hidden: str = Form("1")) -> Response:
    require_admin(request)
    paper = _paper(request, paper_id)
    community = request.app.state.catalog.store.community
    if community.submission(paper.key) is None:
        raise BadRequest("Only a submitted paper can be hidden.")
    community.set_hidden(paper.key, hidden == "1")
    return RedirectResponse(_paper_url(paper, "hidden" if hidden == "1" else "shown"), 303)


def member(request: Request, username: str) -> HTMLResponse:
    store = request.app.state.catalog.store
    community = store.community
    found = store.members.user_by_name(username)
    if found is None:
        raise NotFound(f"no member called {username!r}")
    page_size = request.app.state.settings.page_size
    papers = store.papers.get_many(community.upvoted(found.id, page_size))
    return render(request, "member.html", member=found, papers=papers,
                  is_self=current_user(request) == found, **vote_state(request, papers))
