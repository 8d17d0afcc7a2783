"""GET /api/admin/status: the admin page's numbers as JSON, for monitoring scripts.

An admin's personal token (`Authorization: Bearer pf_…`) or session; anyone else gets a
401 (no member) or 403 (not an admin) in the one error shape. The numbers are
`jobs.status.site_status`, as on /admin and in `paperfeed index status`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ..http.session import api_credentials, require_admin
from ..jobs.status import site_status
from .errors import MEMBER_ERRORS

router = APIRouter(tags=["admin"], dependencies=[Depends(api_credentials)])


class IndexOut(BaseModel):
    name: str
    model: str = Field(description="The embedder of a vector tier; empty for the keyword index")
    done: int = Field(description="Papers the index holds")
    total: int = Field(description="Papers in the store")
    up_to_change: int = Field(description="The store's change the index is up to")
    rate: float = Field(description="Papers/s of the running backfill; 0 when none runs")
    eta_s: float | None = Field(description="Seconds left at that rate; 0 when done, "
                                            "null when no rate is measured yet")


class HarvestOut(BaseModel):
    name: str
    pages: int
    records: int
    unfinished: bool
    last_error: str | None
    updated_at: str


class HiddenOut(BaseModel):
    id: str
    title: str


class StatusOut(BaseModel):
    papers: int
    store_change: int = Field(description="The store's latest change")
    indexes: list[IndexOut]
    last_harvest: HarvestOut | None
    outbox: dict[str, int] = Field(description="Digests by status")
    outbox_queued: int = Field(description="Digests still to be delivered")
    hidden_submissions: int
    hidden: list[HiddenOut] = Field(description="The latest hidden submissions (up to 50)")
    members: int


@router.get("/admin/status", response_model=StatusOut, responses=MEMBER_ERRORS,
            summary="Admins: index progress (backfill rate, ETA), last harvest, digest "
                    "queue, hidden submissions, members")
def admin_status(request: Request) -> StatusOut:
    require_admin(request)
    catalog = request.app.state.catalog
    status = site_status(catalog.store, catalog.settings.index_dir)
    harvest = status.last_harvest
    return StatusOut(
        papers=status.papers, store_change=status.store_seq,
        indexes=[IndexOut(name=t.name, model=t.model, done=t.done, total=t.total,
                          up_to_change=t.seq, rate=t.rate, eta_s=t.eta_s)
                 for t in status.indexes],
        last_harvest=HarvestOut(name=harvest.name, pages=harvest.pages,
                                records=harvest.records,
                                unfinished=harvest.resumption_token is not None,
                                last_error=harvest.last_error, updated_at=harvest.updated_at)
        if harvest else None,
        outbox=status.outbox, outbox_queued=status.outbox_queued,
        hidden_submissions=status.hidden_count,
        hidden=[HiddenOut(id=p.id, title=p.title) for p in status.hidden],
        members=status.members)
