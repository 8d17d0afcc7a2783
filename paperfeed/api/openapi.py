"""The OpenAPI description, made to agree with what the API answers.

FastAPI describes a 422 with its own validation body on every operation; this API
answers bad input with 400 in the one error shape (http/errors.py), so the 422 and its
schemas go. The `limit` bound is this app's setting (PAPERFEED_MAX_LIMIT), known only
when the app is made. Reading takes a token or the session and needs neither, which
OpenAPI says with an empty alternative (`{}`) in the operation's security; a read that
answers 401 without them (the admin status) gets no such alternative.
tests/web/test_openapi_conformance.py holds the description to the responses with a
generated-request fuzzer (schemathesis).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")


def describe(app: FastAPI, max_limit: int) -> None:
    """Install the corrections on FastAPI's documented hook (`app.openapi`)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()  # FastAPI builds it once and caches it on the app
        for path in spec["paths"].values():
            for method, operation in path.items():
                _correct(method, operation, max_limit)
        schemas = spec.get("components", {}).get("schemas", {})
        for name in FRAMEWORK_SCHEMAS:
            schemas.pop(name, None)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook


def _correct(method: str, operation: dict[str, Any], max_limit: int) -> None:
    operation["responses"].pop("422", None)
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "limit":
            parameter["schema"]["maximum"] = max_limit
    # A read that documents a 401 needs a member (the admin status): no empty alternative.
    if (method == "get" and "security" in operation and {} not in operation["security"]
            and "401" not in operation["responses"]):
        operation["security"].append({})
