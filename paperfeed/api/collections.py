"""JSON API for a member's library: collections, their papers, Save, exports.

Every route acts as a member: a personal token (`Authorization: Bearer pf_…`), or the
session cookie with the X-CSRF-Token header on writes. Someone else's collection is a
404, as on the site. Papers come in the list shape of the daily-papers API (shapes.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ..catalog import Catalog
from ..discover.visibility import lookup
from ..errors import BadRequest, RequestTooLarge
from ..feeds.citations import to_bibtex, to_csl_json
from ..http.errors import refuse_get_on_post_routes
from ..http.guards import MAX_UPLOAD_BYTES
from ..http.session import api_credentials, current_user, member_credentials, require_member
from ..members.library import MAX_ID, MAX_NAME, Collections
from ..members.library_import import import_bibtex
from ..models import Collection, StoredPaper
from .errors import MEMBER_ERRORS, _described
from .routes import _limit
from .shapes import ListItem, Marks, list_item

router = APIRouter(tags=["library"], dependencies=[Depends(api_credentials)])
ERRORS = {**MEMBER_ERRORS, **_described({
    404: "No such collection of yours, or no such paper",
    409: "You already have a collection with that name"})}
Page = Annotated[int, Query(ge=0, le=100_000, description="Page, from 0")]
CollectionId = Annotated[int, Path(ge=1, le=MAX_ID, description="The collection's id")]


class CollectionOut(BaseModel):
    id: int
    name: str
    papers: int = Field(description="How many papers it holds")
    shared: bool = Field(description="Readable by anyone with its share link")
    shareUrl: str | None
    createdAt: str


class CollectionPapers(CollectionOut):
    items: list[ListItem]


class NameIn(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)


class CollectionChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME, description="A new name")
    shared: bool | None = Field(None, description="true: readable by anyone with its share "
                                "link (kept if it has one); false: private again (the link "
                                "stops working)")


class SkippedOut(BaseModel):
    source_ref: str = Field(description="Where in the file: name and line")
    reason: str


class ImportOut(BaseModel):
    matched: int = Field(description="Entries found in the store (arXiv id, DOI or title)")
    added: int = Field(description="Entries stored as new papers")
    already: int = Field(description="Entries the collection held before")
    skipped: list[SkippedOut]
    collection: CollectionOut


class PaperIn(BaseModel):
    paper_id: str = Field(min_length=1, max_length=200, description="paperfeed or arXiv id")


class SavedOut(BaseModel):
    id: str
    saved: bool


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _collections(request: Request) -> Collections:
    return Collections(_catalog(request).store)


def _out(request: Request, collection: Collection) -> dict:
    base = request.app.state.settings.base_url.rstrip("/")
    return {"id": collection.id, "name": collection.name, "papers": collection.count,
            "shared": collection.share_token is not None, "createdAt": collection.created_at,
            "shareUrl": f"{base}/c/{collection.share_token}" if collection.share_token else None}


def _paper(request: Request, paper_id: str) -> StoredPaper:
    return lookup(_catalog(request), paper_id, current_user(request))


@router.get("/collections", response_model=list[CollectionOut], responses=ERRORS,
            summary="Your collections, with how many papers each holds")
def list_collections(request: Request) -> list[dict]:
    user = require_member(request)
    return [_out(request, c) for c in _catalog(request).store.library.of_member(user.id)]


@router.post("/collections", response_model=CollectionOut, status_code=201, responses=ERRORS,
             dependencies=[Depends(member_credentials)], summary="Make a private collection")
def create_collection(request: Request, body: NameIn) -> dict:
    return _out(request, _collections(request).create(require_member(request), body.name))


@router.get("/collections/{collection_id}", response_model=CollectionPapers,
            responses=ERRORS, summary="One of your collections, its papers latest added first")
def get_collection(request: Request, collection_id: CollectionId, p: Page = 0,
                   limit: int = _limit(50)) -> dict:
    collection = _collections(request).owned(require_member(request), collection_id)
    store = _catalog(request).store
    papers = store.papers.get_many(store.library.papers(collection.id, limit, p * limit))
    marks = Marks.of(_catalog(request), papers)
    return {**_out(request, collection), "items": [list_item(x, marks) for x in papers]}


@router.delete("/collections/{collection_id}", status_code=204, responses=ERRORS,
               dependencies=[Depends(member_credentials)],
               summary="Delete a collection (its papers stay on the site)")
def delete_collection(request: Request, collection_id: CollectionId) -> Response:
    _collections(request).delete(require_member(request), collection_id)
    return Response(status_code=204)


@router.patch("/collections/{collection_id}", response_model=CollectionOut, responses=ERRORS,
              dependencies=[Depends(member_credentials)],
              summary="Rename a collection, share it by link, or make it private again")
def change_collection(request: Request, collection_id: CollectionId,
                      body: CollectionChange) -> dict:
    user = require_member(request)
    collections = _collections(request)
    collection = collections.owned(user, collection_id)
    if body.name is not None:
        collection = collections.rename(user, collection_id, body.name)
    if body.shared and collection.share_token is None:
        collection = collections.share(user, collection_id)
    elif body.shared is False and collection.share_token is not None:
        collection = collections.unshare(user, collection_id)
    return _out(request, collection)


@router.post("/collections/{collection_id}/import", response_model=ImportOut, responses=ERRORS,
             dependencies=[Depends(member_credentials)],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-bibtex": {"schema": {"type": "string"}}}}},
             summary="Import a BibTeX file (the request body, UTF-8, at most 2 MB) into a "
                     "collection: entries matched to papers by arXiv id, DOI or title, "
                     "others stored; a bad file changes nothing")
async def import_into(request: Request, collection_id: CollectionId) -> dict:
    data = await request.body()  # the body guard stops reading past 2 MB on this route
    if len(data) > MAX_UPLOAD_BYTES:
        raise RequestTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // 1024} kB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text; send the BibTeX file as UTF-8") from None

    def run() -> dict:  # it writes to the store: never on the event loop
        user = require_member(request)
        report = import_bibtex(_catalog(request), user, collection_id, text, "upload.bib")
        return {"matched": report.matched, "added": report.added, "already": report.already,
                "skipped": [{"source_ref": s.source_ref, "reason": s.reason}
                            for s in report.skipped],
                "collection": _out(request, _collections(request).owned(user, collection_id))}
    return await run_in_threadpool(run)


@router.post("/collections/{collection_id}/papers", response_model=CollectionOut,
             responses=ERRORS, dependencies=[Depends(member_credentials)],
             summary="Add a paper to a collection (no change if it is there)")
def add_paper(request: Request, collection_id: CollectionId, body: PaperIn) -> dict:
    user = require_member(request)
    paper = _paper(request, body.paper_id)
    _collections(request).add(user, collection_id, paper.key)
    return _out(request, _collections(request).owned(user, collection_id))


@router.delete("/collections/{collection_id}/papers/{paper_id:path}",
               response_model=CollectionOut, responses=ERRORS,
               dependencies=[Depends(member_credentials)],
               summary="Take a paper out of a collection")
def remove_paper(request: Request, collection_id: CollectionId, paper_id: str) -> dict:
    user = require_member(request)
    paper = _paper(request, paper_id)
    _collections(request).remove(user, collection_id, paper.key)
    return _out(request, _collections(request).owned(user, collection_id))


@router.get("/collections/{collection_id}/export", responses={
    **ERRORS, 200: {"content": {"application/x-bibtex": {"schema": {"type": "string"}},
                                "application/vnd.citationstyles.csl+json": {
                                    "schema": {"type": "array", "items": {"type": "object"}}}},
                    "description": "The collection as BibTeX or CSL-JSON"}},
    response_class=Response, summary="Export a collection: BibTeX or CSL-JSON")
def export_collection(request: Request, collection_id: CollectionId,
                      format: Literal["bibtex", "csl-json"] = "bibtex") -> Response:
    collection = _collections(request).owned(require_member(request), collection_id)
    store = _catalog(request).store
    papers = store.papers.get_many(store.library.papers(collection.id, 10_000_000))
    if format == "bibtex":
        return Response(to_bibtex(papers), media_type="application/x-bibtex")
    return Response(to_csl_json(papers), media_type="application/vnd.citationstyles.csl+json")


@router.post("/papers/{paper_id:path}/save", response_model=SavedOut, responses=ERRORS,
             dependencies=[Depends(member_credentials)],
             summary="Save: toggle a paper in your library (into “Saved”; out of every "
                     "collection when saved)")
def save(request: Request, paper_id: str) -> SavedOut:
    user = require_member(request)
    paper = _paper(request, paper_id)
    return SavedOut(id=paper.id, saved=_collections(request).toggle_saved(user, paper.key))


refuse_get_on_post_routes(router.routes)
