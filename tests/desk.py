"""Helpers shared by the view tests of the rep's desk (the deal list, the deal page and its
actions). Not a test module: pytest collects only test_*.py."""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal

from deals import services
from deals.models import Concession, Deal, DealEvent, ExceptionRequest, FloorChange, Notification

HTMX = {"HTTP_HX_REQUEST": "true"}

# The query bounds of the deal page must not grow with the ledger: every bound is asserted
# with a small deal and a long one.
SIZES = [5, 200]

# User text that must come back escaped: markup, and an htmx attribute that would fire a request.
NASTY = '<img src=x onerror=alert(1)> hx-get="/x"'

# People who must not learn that the deal exists: a rep of another team, a rep of the deal's own
# team who does not own it, and the manager of another team.
STRANGERS = ["outsider", "teammate", "other_manager"]


def rows() -> dict[str, int]:
    """Row counts of every table a desk action writes, to prove a request wrote nothing."""
    return {
        model.__name__: model.objects.count()
        for model in (Deal, Concession, DealEvent, ExceptionRequest, FloorChange, Notification)
    }


def long_deal(make_deal, n: int, **kwargs) -> Deal:
    """A deal with `n` gives logged through the service, one of them retracted, and one pending
    exception request, so the page draws every kind of row there is.

    Opening 1,000,000 and floor 1 leave room for hundreds of 1.00 gives without a level change,
    and a request that crosses the floor without taking the net to zero (rule 10).
    """
    values = {"opening_price": Decimal("1000000.00"), "floor": Decimal("1.00")}
    values.update(kwargs)
    deal = make_deal(**values)
    owner = deal.owner
    first = None
    for i in range(n):
        result = services.concession_log(
            deal=deal,
            user=owner,
            kind="price_discount",
            amount=Decimal("1.00"),
            description=f"Give {i}",
            got_in_return="A reference" if i % 2 else "",
            form_key=uuid.uuid4().hex,
        )
        first = first or result.concession
    if first is not None:
        services.concession_retract(concession=first, user=owner, reason="Typed twice")
    deal.refresh_from_db()
    services.exception_request(
        deal=deal,
        user=owner,
        kind="free_product",
        amount=deal.net - Decimal("0.50"),
        description="Nearly everything for free",
    )
    deal.refresh_from_db()
    return deal


def page(response) -> str:
    return response.content.decode()


def words(response) -> str:
    """The response as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", page(response))
    return " ".join(html.unescape(text).split())


def field_error(response, field_id: str) -> str:
    """The error shown next to the input `field_id` (its `<ul id="...-error">`), as text."""
    match = re.search(
        rf'<ul class="errorlist" id="{re.escape(field_id)}-error">(.*?)</ul>', page(response), re.S
    )
    if not match:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def assert_field_in_error(response, field_id: str, message: str) -> None:
    """The message is shown next to the input, and the input points to it for screen readers."""
    assert message in field_error(response, field_id)
    match = re.search(
        rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', page(response)
    )
    assert match, f"no input {field_id}"
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(0)))
    assert attrs.get("aria-invalid") == "true"
    assert f"{field_id}-error" in attrs.get("aria-describedby", "").split()


def assert_fragment(response) -> None:
    """An htmx answer is a piece of the page, never a whole document."""
    body = page(response)
    assert "<html" not in body
    assert "<body" not in body


def assert_escaped(response) -> None:
    body = page(response)
    assert "&lt;img" in body
    assert "<img src=x" not in body
    assert 'hx-get="/x"' not in body


def assert_desk_update(response) -> None:
    """A change made through htmx answers with every part of the desk, out of band."""
    body = page(response)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#concession-panel"
    assert_fragment(response)
    assert body.lstrip().startswith('<section id="concession-panel"')
    for part in ("gauge", "chart", "concessions", "figures", "outcome", "plan-panel", "history"):
        assert re.search(rf'id="{part}"[^>]*hx-swap-oob="true"', body), part
    assert '<div id="status" hx-swap-oob="innerHTML">' in body


def assert_back_on_deal_page(response, deal) -> None:
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == f"/deals/{deal.pk}/"


def give_key() -> str:
    return uuid.uuid4().hex
