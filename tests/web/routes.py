"""The app's route table, walked: every route with its full path (the API's prefix
included) and the parameters it declares, for tests that must visit every route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class Walked:
    path: str  # as declared, e.g. /api/papers/{paper_id:path}
    method: str
    route: APIRoute

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)

    @property
    def query_params(self) -> list[str]:
        return sorted(_query_params(self.route.dependant))

    def url(self, **values: str) -> str:
        return re.sub(r"{(\w+)(?::\w+)?}", lambda m: values[m[1]], self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _query_params(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_params(sub)
    return names


def walk(app: FastAPI) -> list[Walked]:
    return sorted(_walk(app.routes, ""), key=str)


def _walk(routes: list, prefix: str) -> Iterator[Walked]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if included is not None:                            # whole, not in app.routes
            yield from _walk(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield Walked(prefix + route.path, method, route)
