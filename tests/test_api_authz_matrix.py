"""Every API operation, from the live OpenAPI schema, as anonymous and as people who may not see
the deal: 401 without a token, 404 for anything not theirs (never 403), and nothing written.
An operation added without a row here fails, as the screens' matrix does."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest

from deals import services
from deals.api import api

from .api import Api, api_for
from .desk import rows

# Sent with each write: valid, so that only the door can refuse it.
BODIES = {
    ("post", "/deals"): {
        "title": "T",
        "customer": "C",
        "currency": "USD",
        "opening_price": "100.00",
        "floor": "50.00",
        "team": "{team}",
    },
    ("patch", "/deals/{deal_id}"): {"title": "Taken over"},
    ("put", "/deals/by-ref/{source}/{ref}"): {"title": "T", "customer": "C", "team": "{team}"},
    ("post", "/deals/{deal_id}/floor"): {"new_floor": "8000.00", "reason": "Mine now"},
    ("post", "/deals/{deal_id}/won"): {},
    ("post", "/deals/{deal_id}/lost"): {"reason": "price"},
    ("post", "/deals/{deal_id}/walk-away"): {"reason": "Gone"},
    ("post", "/deals/{deal_id}/came-back"): None,
    ("put", "/deals/{deal_id}/plan"): {
        "steps": [{"kind": "other", "amount": "1.00", "give": "x", "ask": "y"}]
    },
    ("post", "/deals/{deal_id}/reassign"): {"new_owner": "tom"},
    ("post", "/deals/{deal_id}/concessions"): {
        "kind": "other",
        "amount": "1.00",
        "description": "x",
    },
    ("post", "/deals/{deal_id}/concessions/{concession_id}/retract"): {"reason": "x"},
    ("post", "/deals/{deal_id}/concessions/{concession_id}/correct"): {
        "kind": "other",
        "amount": "1.00",
        "description": "x",
    },
    ("post", "/deals/{deal_id}/exception-requests"): {
        "kind": "other",
        "amount": "5000.00",
        "description": "x",
    },
    ("post", "/exception-requests/{request_id}/approve"): {"comment": "x"},
    ("post", "/exception-requests/{request_id}/reject"): {"comment": "x"},
    ("post", "/webhooks"): {
        "url": "https://crm.example.com/h",
        "team": "{team}",
        "events": ["deal.won"],
    },
    ("delete", "/webhooks/{endpoint_id}"): None,
}
# What a person who may not see the owner's deal gets: 404 wherever the path names a thing of
# ours; lists answer 200 with none of it; writes that name our team are 404 (not theirs).
NOT_THEIRS = 404
LISTS = {
    ("get", "/teams"),
    ("get", "/deals"),
    ("get", "/events"),
    ("get", "/webhooks"),
    ("get", "/exception-requests"),
}
# The by-ref PUT names no deal of ours: for a person outside the team it names a team not theirs.


def operations():
    schema = api.get_openapi_schema(path_prefix="")
    for path, ops in schema["paths"].items():
        for method in ops:
            yield method, path


@pytest.fixture
def world(owner, manager, deal, give, team):
    concession = give(deal, "100").concession
    request = services.exception_request(
        deal=deal,
        user=owner,
        kind="other",
        amount=Decimal("5000.00"),
        description="x",
        form_key=uuid.uuid4().hex,
    )
    from deals.integrations import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        team=team,
        url="https://crm.example.com/h",
        events=["deal.won"],
        secret="s",
        created_by=manager,
    )
    return {
        "deal_id": deal.pk,
        "concession_id": concession.pk,
        "request_id": request.pk,
        "endpoint_id": endpoint.pk,
        "source": "hubspot",
        "ref": "R-1",
        "team": team.pk,
    }


def call(client: Api, method: str, path: str, world):
    url = re.sub(r"{(\w+)}", lambda m: str(world[m.group(1)]), path)
    body = BODIES.get((method, path))
    if isinstance(body, dict):
        body = {k: (world["team"] if v == "{team}" else v) for k, v in body.items()}
    if method == "get":
        return client.get(url, {"amount": "1"} if path.endswith("/preview") else None)
    return client.send(method, url, body)


def test_every_write_operation_has_a_body_here():
    writes = {(m, p) for m, p in operations() if m != "get"}
    assert writes == set(BODIES), writes ^ set(BODIES)


def test_every_operation_without_a_token_is_401(world):
    before = rows()
    for method, path in operations():
        response = call(Api(None), method, path, world)
        assert response.status_code == 401, (method, path, response.status_code)
    assert rows() == before


@pytest.mark.parametrize("persona", ["outsider", "other_manager", "teammate"])
def test_every_operation_on_what_is_not_theirs_is_404(request, world, persona):
    client = api_for(request.getfixturevalue(persona))
    before = rows()
    wrong = []
    for method, path in operations():
        if (method, path) in LISTS:
            continue
        if persona == "teammate" and (method, path) in {
            ("post", "/deals"),
            ("put", "/deals/by-ref/{source}/{ref}"),
        }:
            continue  # a teammate may create deals in the team: not a door to ours
        response = call(client, method, path, world)
        if response.status_code != NOT_THEIRS:
            wrong.append(f"{method.upper()} {path}: {response.status_code} {response.json()}")
    assert not wrong, "\n".join(wrong)
    assert rows() == before


@pytest.mark.parametrize("persona", ["outsider", "other_manager", "teammate"])
def test_lists_show_them_none_of_ours(request, world, persona):
    client = api_for(request.getfixturevalue(persona))
    for path in ("/deals", "/events", "/webhooks", "/exception-requests"):
        assert client.get(path).json()["items"] == [], (persona, path)
