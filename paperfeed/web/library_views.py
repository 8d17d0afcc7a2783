"""The member's library on the site: Save on every card, collections, share links,
BibTeX/CSL-JSON export and BibTeX import.

A collection is private: its pages answer its owner and, for someone else, 404 (not
403: an id says nothing). Sharing makes `/c/{token}` readable by anyone with the link;
it is in no list, carries `noindex`, and stops working when unshared or re-shared.
None of these pages is cached: each is one member's, or behind a secret link.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from anyio.to_thread import run_sync
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import BadRequest, Conflict, RequestTooLarge
from ..feeds.citations import to_bibtex, to_csl_json
from ..http.guards import MAX_UPLOAD_BYTES
from ..http.session import current_user, require_member
from ..members.library import Collections
from ..members.library_import import import_bibtex
from ..models import Collection, StoredPaper
from .community_views import _back, _paper
from .render import render, vote_state

NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}
NOTICES = {"shared": "Anyone with the link below can now read this collection.",
           "unshared": "The share link no longer works; the collection is private.",
           "renamed": "Renamed.", "created": "Collection created."}


def _collections(request: Request) -> Collections:
    return Collections(request.app.state.catalog.store)


def _papers(request: Request, collection: Collection, page: int = 0) -> list[StoredPaper]:
    store = request.app.state.catalog.store
    size = request.app.state.settings.page_size
    return store.papers.get_many(store.library.papers(collection.id, size, page * size))


def _page_number(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 100_000:
        raise BadRequest("p: a page number from 0")
    return int(raw)


# -- Save on cards ------------------------------------------------------------------------


def save_form(request: Request, paper_id: str) -> Response:
    """The no-JavaScript Save: toggle, then back to the card it was pressed on."""
    paper = _paper(request, paper_id)
    back = _back(request, f"/papers/{quote(paper.id)}")
    back = back if "#" in back else f"{back}#paper-{paper.key}"
    user = require_member(request, back, why="save")
    _collections(request).toggle_saved(user, paper.key)
    return RedirectResponse(back, 303)


def paper_collections(request: Request, paper_id: str) -> HTMLResponse:
    """Choose the collections a paper is in."""
    paper = _paper(request, paper_id)
    user = require_member(request, why="save")
    store = request.app.state.catalog.store
    holding = store.library.holding(user.id, [paper.key]).get(paper.key, set())
    return render(request, "paper_collections.html", paper=paper, holding=holding,
                  collections=store.library.of_member(user.id), active="library")


# -- collections --------------------------------------------------------------------------


def library(request: Request) -> HTMLResponse:
    user = require_member(request, why="save")
    return render(request, "library.html", active="library",
                  collections=request.app.state.catalog.store.library.of_member(user.id))


def create(request: Request, name: str = Form(""), paper: str = Form("")) -> Response:
    user = require_member(request, "/library")
    try:
        collection = _collections(request).create(user, name)
    except (BadRequest, Conflict) as exc:
        if paper:
            raise
        return render(request, "library.html", status=exc.status, active="library",
                      collections=request.app.state.catalog.store.library.of_member(user.id),
                      error=str(exc), name=name)
    if paper:  # made from a paper's "Collections…" page: put the paper in it
        found = _paper(request, paper)
        _collections(request).add(user, collection.id, found.key)
        return RedirectResponse(f"/papers/{quote(found.id)}/collections", 303)
    return RedirectResponse(f"/library/{collection.id}?notice=created", 303)


def collection_page(request: Request, collection_id: int, p: str = "0",
                    notice: str = "") -> HTMLResponse:
    return _collection_page(request, collection_id, _page_number(p), NOTICES.get(notice))


def _collection_page(request: Request, collection_id: int, page: int = 0,
                     notice: str | None = None, error: str | None = None,
                     status: int = 200) -> HTMLResponse:
    """The owner's page; `notice` and `error` are our own words, never the URL's."""
    user = require_member(request, why="save")
    collection = _collections(request).owned(user, collection_id)
    papers = _papers(request, collection, page)
    base = request.app.state.settings.base_url.rstrip("/")
    return render(request, "collection.html", status=status, collection=collection,
                  papers=papers, page=page, owner=True, notice=notice,
                  error=error, active="library", base_url=base,
                  page_size=request.app.state.settings.page_size,
                  **vote_state(request, papers))


def shared_page(request: Request, token: str, p: str = "0") -> HTMLResponse:
    collection = _collections(request).shared(token)
    page = _page_number(p)
    papers = _papers(request, collection, page)
    owner = current_user(request)
    response = render(request, "collection.html", collection=collection, papers=papers,
                      page=page, owner=False, token=token, noindex=True,
                      is_mine=owner is not None and owner.id == collection.user_id,
                      page_size=request.app.state.settings.page_size,
                      **vote_state(request, papers))
    response.headers.update(NOINDEX)
    return response


def _redirect(collection_id: int, notice: str = "") -> RedirectResponse:
    return RedirectResponse(f"/library/{collection_id}"
                            + (f"?notice={notice}" if notice else ""), 303)


def rename(request: Request, collection_id: int, name: str = Form("")) -> Response:
    user = require_member(request, f"/library/{collection_id}")
    try:
        _collections(request).rename(user, collection_id, name)
    except (BadRequest, Conflict) as exc:
        return _collection_page(request, collection_id, error=str(exc), status=exc.status)
    return _redirect(collection_id, "renamed")


def delete(request: Request, collection_id: int) -> Response:
    user = require_member(request, f"/library/{collection_id}")
    _collections(request).delete(user, collection_id)
    return RedirectResponse("/library", 303)


def share(request: Request, collection_id: int) -> Response:
    user = require_member(request, f"/library/{collection_id}")
    _collections(request).share(user, collection_id)
    return _redirect(collection_id, "shared")


def unshare(request: Request, collection_id: int) -> Response:
    user = require_member(request, f"/library/{collection_id}")
    _collections(request).unshare(user, collection_id)
    return _redirect(collection_id, "unshared")


def add_paper(request: Request, collection_id: int, paper: str = Form("")) -> Response:
    user = require_member(request, f"/library/{collection_id}")
    found = _paper(request, paper)
    _collections(request).add(user, collection_id, found.key)
    return RedirectResponse(_back(request, f"/library/{collection_id}"), 303)


def remove_paper(request: Request, collection_id: int, paper: str = Form("")) -> Response:
    user = require_member(request, f"/library/{collection_id}")
    found = _paper(request, paper)
    _collections(request).remove(user, collection_id, found.key)
    return RedirectResponse(_back(request, f"/library/{collection_id}"), 303)


async def _read_upload(upload: UploadFile) -> str:
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise RequestTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // 1024} kB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("That file is not UTF-8 text; save the BibTeX file as UTF-8.") from None


async def import_file(request: Request, collection_id: int,
                      bibtex: Annotated[UploadFile, File()]) -> Response:
    text = await _read_upload(bibtex)
    return await _run_import(request, collection_id, text, bibtex.filename or "upload.bib")


async def _run_import(request: Request, collection_id: int, text: str,
                      filename: str) -> Response:
    """Parse and store in a worker thread: the import writes to the store, never on the
    event loop."""
    def run() -> Response:
        user = require_member(request, f"/library/{collection_id}")
        try:
            report = import_bibtex(request.app.state.catalog, user, collection_id, text,
                                   filename[:100])
        except BadRequest as exc:
            return _collection_page(request, collection_id, error=str(exc),
                                    status=exc.status)
        return render(request, "import_done.html", report=report, active="library",
                      collection=_collections(request).owned(user, collection_id))
    return await run_sync(run)


# -- exports ------------------------------------------------------------------------------


def _export(request: Request, collection: Collection, kind: str,
            headers: dict[str, str] | None = None) -> Response:
    store = request.app.state.catalog.store
    papers = store.papers.get_many(store.library.papers(collection.id, 10_000_000))
    filename = f"collection-{collection.id}"
    if kind == "bib":
        body, media = to_bibtex(papers), "application/x-bibtex; charset=utf-8"
    else:
        body, media = to_csl_json(papers), "application/vnd.citationstyles.csl+json"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'inline; filename="{filename}.{kind}"', **(headers or {})})


def export_bib(request: Request, collection_id: int) -> Response:
    user = require_member(request, f"/library/{collection_id}.bib")
    return _export(request, _collections(request).owned(user, collection_id), "bib")


def export_json(request: Request, collection_id: int) -> Response:
    user = require_member(request, f"/library/{collection_id}.json")
    return _export(request, _collections(request).owned(user, collection_id), "json")


def shared_bib(request: Request, token: str) -> Response:
    return _export(request, _collections(request).shared(token), "bib", NOINDEX)


def shared_json(request: Request, token: str) -> Response:
    return _export(request, _collections(request).shared(token), "json", NOINDEX)
