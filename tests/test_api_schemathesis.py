"""Proof by a tool we did not write: schemathesis drives the live API from its own OpenAPI
schema, with a real token, and checks that nothing answers 5xx, that every answer matches the
schema (body, content type, headers) and that its status is documented, and that requests the
schema forbids are refused. PostgreSQL tier (`make test` with DATABASE_URL); bounded to a fixed
number of examples per operation so that the run stays under two minutes on two cores."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from deals import services

from .conftest import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
    ]
)
MAX_EXAMPLES = 5


def test_schemathesis_finds_nothing(live_server, owner, manager, team, give, tmp_path, settings):
    require_postgres()
    settings.WALKAWAY_API_RATE_LIMIT = (1_000_000, 60)
    # Something to find: a deal with a concession, a pending exception, a manager's token.
    deal = services.deal_create(
        user=owner,
        team=team,
        title="Crates",
        customer="Acme",
        currency="USD",
        opening_price=Decimal("10000.00"),
        floor=Decimal("9000.00"),
    )
    give(deal, "300", got="A reference")
    _, token = services.api_token_create(user=manager, name="schemathesis")
    schema = f"{live_server.url}/api/v1/openapi.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        schema,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "15",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    tail = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, tail
    assert "No issues found" in run.stdout or "passed" in run.stdout, tail
