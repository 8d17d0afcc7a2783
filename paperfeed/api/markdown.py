"""A paper as Markdown, at `/papers/{id}.md`: the public API's `read_paper` reads it.

Plain text, so nothing in it is markup to a browser (served as text/markdown).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..discover.visibility import lookup
from ..http.session import api_credentials, current_user
from ..models import StoredPaper

router = APIRouter(dependencies=[Depends(api_credentials)])


def as_markdown(paper: StoredPaper) -> str:
    lines = [f"# {paper.title}", ""]
    if paper.authors:
        lines.append(f"Authors: {', '.join(paper.authors)}")
    if paper.published:
        lines.append(f"Published: {paper.published.isoformat()}")
    if paper.arxiv_id:
        lines.append(f"arXiv: {paper.arxiv_id}")
    lines += [f"{name}: {url}" for name, url in sorted(paper.links.items())]
    lines += ["", "## Abstract", "", paper.abstract, ""]
    return "\n".join(lines)


@router.get("/papers/{paper_id:path}.md", include_in_schema=False)
def paper_markdown(request: Request, paper_id: str) -> Response:
    paper = lookup(request.app.state.catalog, paper_id, current_user(request))
    return Response(as_markdown(paper), media_type="text/markdown; charset=utf-8")
