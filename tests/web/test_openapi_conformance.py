"""The OpenAPI description agrees with the API (issue 9.13): schemathesis generates
requests from the description, valid and invalid, and sends them to the app in process
(ASGI); every answer is checked: no server error, a documented status, the documented
content type, headers and body schema. Bounded (derandomized, a few dozen examples per
operation and mode) to stay a CI test.

Not checked: that every schema-valid request succeeds (`positive_data_acceptance`). The
calendar (`week=2025-W53` does not exist) and "one of date, week, month" are rules JSON
Schema cannot state; such requests get the documented 400 in the error shape, which the
checks above do hold them to.

Run through hypothesis directly: schemathesis's pytest integration (`from_fixture`)
does not run under pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

MAX_EXAMPLES = 30


@schemathesis.serializer("application/x-bibtex")
def _bibtex(_ctx: object, value: object) -> bytes:
    """A BibTeX import's body is text: generated values are sent as their UTF-8 bytes."""
    return value.encode() if isinstance(value, str) else str(value).encode()


@pytest.fixture(scope="module")
def api_schema(client: TestClient) -> schemathesis.BaseSchema:
    # Invalid input may be refused by the request guards before validation: an overlong
    # query string is a 414, which is as much a rejection as a 400.
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
        "expected-statuses": [400, 401, 403, 404, 405, 413, 414]}}})
    return schemathesis.openapi.from_asgi("/api/openapi.json", client.app, config=config)


def _operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    found = {(op.method.upper(), op.path) for op in _operations(api_schema)}
    assert ("GET", "/api/daily_papers") in found and ("POST", "/api/papers/{paper_id}/vote") \
        in found and ("POST", "/api/collections") in found and len(found) == 28, found
    assert {("GET", "/api/map"), ("GET", "/api/map/points.bin")} <= found
    assert {("POST", "/api/papers/{paper_id}/rating"), ("GET", "/api/recommendations")} <= found
    assert {("GET", "/api/papers/{paper_id}/comments"), ("POST", "/api/papers/{paper_id}/comments"),
            ("PATCH", "/api/comments/{comment_id}"), ("DELETE", "/api/comments/{comment_id}"),
            ("POST", "/api/comments/{comment_id}/hide")} <= found
    assert {("GET", "/api/authors"), ("GET", "/api/authors/{name}")} <= found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_as_described(api_schema: schemathesis.BaseSchema,
                                  mode: GenerationMode) -> None:
    for operation in _operations(api_schema):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def answers_as_described(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            answers_as_described()
        except Unsatisfiable:
            # Nothing invalid to send: e.g. a path's only parameter is any string.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue


def test_guard_refusals_are_described(api_schema: schemathesis.BaseSchema) -> None:
    """What the request guards refuse before any route runs (an overlong URL: 414, a body
    over the limit: 413) is described on every operation; a fuzzer reaches these only by
    luck, so each is sent on purpose and held to the same checks."""
    oversized = [({"query": {"pad": "x" * 5000}}, 414),
                 ({"headers": {"Content-Length": str(10 * 1024 * 1024)}}, 413)]
    for operation in _operations(api_schema):
        ids = {name: value for name, value in (("paper_id", "2501.00001"),
                                               ("collection_id", "1"), ("comment_id", "1"),
                                               ("name", "Ada"))
               if f"{{{name}}}" in operation.path}
        for request, status in oversized:
            case = operation.Case(path_parameters=ids, **request)
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            assert response.status_code == status, (operation.label, status)
