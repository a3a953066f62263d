"""Requests generated from /api/v1/openapi.json (schemathesis): valid and invalid ones, to
every operation, as nobody, as a provider, as a supervisor and as a liaison officer. No
answer may be a server error, every answer must be one the schema documents (status code,
content type, body), valid requests must not be refused and invalid ones not accepted.

The requests go in-process to Tipline's WSGI application, inside the test's transaction,
so the suite runs the same on SQLite and PostgreSQL without a server to start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tipline.crossref import api as crossref_api
from tipline.crossref import core as crossref_core
from tipline.intake import core
from tipline.intake import services as intake_services
from tipline.intake.choices import Channel, TokenScope

from ..conftest import drain, staff_user

# Each caller sends at least MIN_REQUESTS; four callers: the 2,000 the issue asks, at least.
CALLERS = ("anonymous", "provider", "supervisor", "liaison")
MIN_REQUESTS = 500
MAX_EXAMPLES = 15  # per operation and per mode (valid, invalid): about 2,600 in all
# Where a schema-valid request may still be refused by design, and why:
# - a report needs one of urls, excerpt or media, each URL a page on a real host name, each
#   file an image: rules a JSON schema does not hold, answered 422 (400 for bulk) by field;
# - an envelope is a JWE only our partners can seal: any other is refused (400, 403).
# A bulk body answers 202 with its bad entries listed, so invalid entries are not refused
# with a 4xx: tests/intake/test_api.py checks each listed refusal.
NOT_CHECKED = {
    "POST /api/v1/reports": [positive_data_acceptance],
    "POST /api/v1/reports/bulk": [positive_data_acceptance, negative_data_rejection],
    "POST /api/v1/exchange/inbox": [positive_data_acceptance],
}
AD = "Nouvelle en ville, dispo ce soir. Appelez le 01 99 00 12 34 ou ecrivez a ana@mail.example"


@schemathesis.serializer("application/jose")
def _compact_jose(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """The exchange inbox takes a compact JWE as text: generated bodies are sent as such."""
    return value.encode() if isinstance(value, str) else str(value).encode()


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """Tipline's WSGI application, answering in the test's database transaction: as Django's
    test client does, the connection is not closed between requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def caller(request: pytest.FixtureRequest, db: Any) -> dict[str, str]:
    """Something for generated ids to find (reports carried through every stage, two of them
    linked by a phone number), and the Authorization header of one kind of caller."""
    drafts = [
        (
            i,
            core.parse_report(
                {"urls": [f"https://ads.example/{i}"], "excerpt": AD}, max_media_bytes=1
            ),
        )
        for i in range(3)
    ]
    intake_services.reports_receive(drafts=drafts, channel=Channel.PUBLIC)
    drain()
    who = request.param
    if who == "anonymous":
        return {}
    if who == "provider":
        _, token = intake_services.provider_create(name="Example Platform")
    else:
        _, token = intake_services.staff_token_create(
            user=staff_user(f"fuzz-{who}", who),
            name="fuzz",
            scopes=[TokenScope.ANALYST, TokenScope.SUPERVISOR],
        )
    return {"Authorization": f"Bearer {token}"}


def _send_generated(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> int:
    """Send one operation's generated requests and check each answer; returns how many."""
    sent = 0

    # The caller's token is fixed, so an invalid request is invalid for what it sends.
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers or None))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,  # the same requests on every run: CI is reproducible
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(excluded_checks=NOT_CHECKED.get(operation.label, []))

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE
    return sent


@pytest.mark.parametrize("caller", CALLERS, indirect=True)
def test_generated_requests_get_documented_answers_and_no_server_error(
    wsgi_app: Any, caller: dict[str, str], request: pytest.FixtureRequest
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    # An unknown query parameter is ignored, as HTTP APIs (and Django) do: not a finding.
    schema.config.generation.update(allow_extra_parameters=False)
    sent = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                sent += _send_generated(operation, mode, caller)
            except (Exception, BaseExceptionGroup) as exc:  # report every operation, not one
                failures.append(f"{operation.label} ({mode}): {exc}")
    print(f"{request.node.callspec.params['caller']}: {sent} generated requests")
    assert not failures, "\n\n".join(failures)
    assert sent >= MIN_REQUESTS, f"only {sent} requests were generated"


def test_the_closed_vocabularies_in_the_schema_are_cross_references_own() -> None:
    assert set(get_args(crossref_api.SearchType)) == set(crossref_core.SEARCH_TYPES)
    assert set(get_args(crossref_api.ValueKind)) == set(crossref_core.VALUE_KINDS)
