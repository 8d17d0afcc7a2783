"""`GET /api/map`: the map of the corpus (points and cluster labels), the same for everyone.

Like every API route they take a token or the session (the router's `api_credentials`,
which only notes a token: one OpenAPI contract for all reads), but never look either up,
so every byte may be cached by any proxy; the responses carry the map's version as an ETag.
Two forms of the points:

- ``/api/map``: JSON, with the points as columns (`id`, `x`, `y`, `cluster`; positions in
  [0, 1]): easy for any client, 32 MB at 588k papers, 12 MB gzipped as written by the
  indexer (sent so to clients that accept gzip).
- ``/api/map/points.bin``: the binary form the `/map` page draws from (map_artifact.encode_points),
  gzip-encoded when the client accepts it. With ``?v=<version>`` it is immutable.
"""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..catalog import Catalog
from ..discover import atlas
from ..http.session import api_credentials
from .errors import ERRORS

router = APIRouter(tags=["map"], dependencies=[Depends(api_credentials)])
Described = dict[int | str, dict[str, Any]]
NOT_MODIFIED: Described = {304: {"description": "Not modified: still this ETag's version"}}
BINARY: Described = {200: {
    "description": "The points in the binary form (see the route's text)",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
FRESH_S = 60  # a new day's papers move the map; its unversioned URL is re-checked this often


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _not_modified(request: Request, etag: str) -> bool:
    return request.headers.get("if-none-match") == etag


@router.get("/map", responses={**ERRORS, **NOT_MODIFIED},
            summary="The map of the corpus: points and labels")
def map_json(request: Request) -> Response:
    """Every paper's position on the map (`points`: columns of equal length) and each
    cluster's label, centre and size. `version` changes when the map does."""
    catalog = _catalog(request)
    found = atlas.points(catalog)
    etag = f'"{found.version}"'
    headers = {"ETag": etag, "Vary": "Accept-Encoding",
               "Cache-Control": f"public, max-age={FRESH_S}"}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(_encoded(request, atlas.encode_body(catalog, found), headers),
                    media_type="application/json", headers=headers)


def _encoded(request: Request, body: bytes, headers: dict[str, str]) -> bytes:
    """`body` (gzipped) as is for a client that accepts gzip, else unzipped."""
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return body
    return gzip.decompress(body)


@router.get("/map/points.bin", responses={**ERRORS, **NOT_MODIFIED, **BINARY},
            response_class=Response, summary="The map's points, binary")
def map_binary(request: Request, v: str = "") -> Response:
    """The points in the compact binary form (map_artifact.encode_points); gzip-encoded for
    clients that accept it. Immutable when `v` names the current version."""
    catalog = _catalog(request)
    found = atlas.points(catalog)
    etag = f'"{found.version}"'
    immutable = v == found.version
    headers = {"ETag": etag, "Vary": "Accept-Encoding", "Cache-Control":
               "public, max-age=31536000, immutable" if immutable
               else f"public, max-age={FRESH_S}"}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(_encoded(request, atlas.encode_binary(catalog, found), headers),
                    media_type="application/octet-stream", headers=headers)
