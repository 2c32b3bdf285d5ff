"""The authorization matrix: every URL in the URLconf, as every persona, with GET and POST.

EXPECTED is the one place that says who gets what. A URL added to the URLconf without a row
here fails test_every_url_in_the_urlconf_has_an_entry, so nobody can ship a page whose access
nobody decided. POSTs carry data a view refuses (an empty form, a price that is not money), so
the matrix checks the door, not the business rules: nothing is written whoever knocks.

The statuses: LOGIN is a redirect to the login page with ?next= back; 404 is a deal (or a
request on a deal) the persona may not see, so its existence does not leak; 403 is a rep on a
manager's page, which is no secret; 405 is the wrong method; 422 is the refused form, proof the
persona got through the door.
"""

from __future__ import annotations

import types
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse

import walkaway.urls
from deals import services
from deals.integrations import WebhookEndpoint
from deals.models import Concession, Membership, Notification

from .desk import rows

PERSONAS = ("anonymous", "owner", "teammate", "manager", "other_manager", "staff")

LOGIN = "login"  # 302 to /accounts/login/?next=<the path asked for>
ADMIN_LOGIN = "admin login"  # 302 to /admin/login/?next=<the path asked for>
HOME = "home"  # 302 to the deals list: a logged-in person has nothing to do on the login page

# The admin's own URLs are Django's; one entry point stands for all of them.
ADMIN_ENTRY_POINT = "admin:index"
# The API answers tokens, not sessions (no login redirect, no CSRF): every one of its
# operations has its row in tests/test_api_authz_matrix.py instead.
API_NAMESPACE = "api:"


@dataclass(frozen=True)
class Entry:
    """Who gets what at one URL. Statuses are in PERSONAS order."""

    get: tuple
    post: tuple
    # What the URL's <int:pk> names: the owner's deal, the pending request on it ("exception"),
    # the owner's API token ("token") or the team's webhook endpoint ("webhook").
    target: str = "deal"
    # Sent with the POST: something the view refuses, so that getting through writes nothing.
    data: dict = field(default_factory=dict)


#             anonymous  owner  teammate  manager  other_mgr  staff
EXPECTED: dict[str, Entry] = {
    "login": Entry(
        get=(200, HOME, HOME, HOME, HOME, HOME),
        post=(200, HOME, HOME, HOME, HOME, HOME),
    ),
    "logout": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 302, 302, 302, 302, 302),
    ),
    ADMIN_ENTRY_POINT: Entry(
        get=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
        post=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    ),
    "deal_list": Entry(
        get=(LOGIN, 200, 200, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "deal_create": Entry(
        get=(LOGIN, 200, 200, 200, 200, 200),
        post=(LOGIN, 422, 422, 422, 422, 422),
    ),
    "deal_detail": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "concession_preview": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "concession_log": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "concession_retract": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "concession_correct": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "deal_edit": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "deal_confirm": Entry(
        # The no-JavaScript confirm page of "Mark won" (at the net): it records nothing.
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "exception_request": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "floor_change": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "deal_win": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # An empty final price means "at the current net" and would close the deal.
        post=(LOGIN, 422, 404, 422, 404, 422),
        data={"final_price": "not money"},
    ),
    "deal_lose": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "deal_walk_away": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "plan_save": Entry(
        get=(LOGIN, 200, 404, 200, 404, 200),
        # Sent without its steps' management form: refused, nothing saved.
        post=(LOGIN, 422, 404, 422, 404, 422),
    ),
    "deal_come_back": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # The deal is open: "came back" is refused (409) to those who may act on it.
        post=(LOGIN, 409, 404, 409, 404, 409),
    ),
    "deal_reassign": Entry(
        # Its owner may see the deal but not hand it on: the page is not theirs to find.
        get=(LOGIN, 404, 404, 200, 404, 200),
        post=(LOGIN, 404, 404, 422, 404, 422),
    ),
    "approvals": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "exception_approve": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # The rep may see the deal but not decide on it: the request is not theirs to find.
        # (A comment is optional to approve: a figure that is not money is what is refused.)
        post=(LOGIN, 404, 404, 422, 404, 422),
        target="exception",
        data={"seen_conceded": "lots"},
    ),
    "exception_reject": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 404, 404, 422, 404, 422),
        target="exception",
    ),
    "dashboard": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "export_deals": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "export_concessions": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "notifications": Entry(
        get=(LOGIN, 200, 200, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "notification_read": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # Someone else's notification is never touched; one's own is marked read.
        post=(LOGIN, 303, 303, 303, 303, 303),
        target="notification",
    ),
    # Issue 14: the team's people.
    "team": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
    ),
    "invite": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 403, 403, 422, 422, 422),
    ),
    "member_role": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # The member is the team's manager; a role that does not exist is refused.
        post=(LOGIN, 403, 403, 422, 404, 422),
        target="membership",
        data={"role": "boss"},
    ),
    "member_remove": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # The team's only manager is not removed: it needs one.
        post=(LOGIN, 403, 403, 409, 404, 409),
        target="membership",
    ),
    "invite_accept": Entry(
        # An unknown token: gone, for everyone.
        get=(410, 410, 410, 410, 410, 410),
        post=(410, 410, 410, 410, 410, 410),
    ),
    "settings": Entry(
        get=(LOGIN, 200, 200, 200, 200, 200),
        post=(LOGIN, 422, 422, 422, 422, 422),
        data={"time_zone": "Mars/Olympus"},
    ),
    "password_reset": Entry(
        get=(200, 200, 200, 200, 200, 200),
        # No email: the form again.
        post=(200, 200, 200, 200, 200, 200),
    ),
    "password_reset_done": Entry(
        get=(200, 200, 200, 200, 200, 200),
        post=(405, 405, 405, 405, 405, 405),
    ),
    "password_reset_confirm": Entry(
        # A link that is not one: the page says so, and sets nothing.
        get=(200, 200, 200, 200, 200, 200),
        post=(200, 200, 200, 200, 200, 200),
    ),
    "password_reset_complete": Entry(
        get=(200, 200, 200, 200, 200, 200),
        post=(405, 405, 405, 405, 405, 405),
    ),
    "notifications_read": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # A tampered "up to" marks nothing read and goes back to the list.
        post=(LOGIN, 303, 303, 303, 303, 303),
        data={"up_to": "not a number"},
    ),
    "deal_import": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 403, 403, 422, 422, 422),
    ),
    "api_token_create": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        post=(LOGIN, 422, 422, 422, 422, 422),
    ),
    "api_token_revoke": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # The owner's token: only the owner finds it (revoking it again changes nothing).
        post=(LOGIN, 303, 404, 404, 404, 404),
        target="token",
    ),
    "webhooks": Entry(
        get=(LOGIN, 403, 403, 200, 200, 200),
        post=(LOGIN, 403, 403, 422, 422, 422),
    ),
    "webhook_detail": Entry(
        get=(LOGIN, 403, 403, 200, 404, 200),
        post=(LOGIN, 405, 405, 405, 405, 405),
        target="webhook",
    ),
    "webhook_disable": Entry(
        get=(LOGIN, 405, 405, 405, 405, 405),
        # The team's endpoint: its managers and staff switch it off (again: nothing changes).
        post=(LOGIN, 403, 403, 303, 404, 303),
        target="webhook",
    ),
}


# The URLconf -----------------------------------------------------------------------------------


def url_names(resolver: URLResolver, namespace: str = "") -> tuple[set[str], list[str]]:
    """Every named URL under `resolver`, and a description of every unnamed one.

    The admin namespace is Django's and stands as its one entry point.
    """
    names: set[str] = set()
    unnamed: list[str] = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if inner == "admin:":
                names.add(ADMIN_ENTRY_POINT)
                continue
            if inner == API_NAMESPACE:
                continue
            found, missing = url_names(pattern, inner)
            names |= found
            unnamed += missing
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                names.add(f"{namespace}{pattern.name}")
            else:
                unnamed.append(f"{namespace}{pattern.pattern}")
    return names, unnamed


def test_every_url_in_the_urlconf_has_an_entry():
    names, unnamed = url_names(get_resolver())
    assert not unnamed, f"URL patterns without a name cannot be in the matrix: {unnamed}"
    missing = sorted(names - EXPECTED.keys())
    assert not missing, (
        f"These URLs have no entry in tests/test_authz_matrix.py EXPECTED: {missing}. "
        "Decide who may open them and add a row for each."
    )


def test_every_entry_in_the_matrix_is_a_url_that_exists():
    names, _ = url_names(get_resolver())
    stale = sorted(EXPECTED.keys() - names)
    assert not stale, f"EXPECTED has entries for URLs that no longer exist: {stale}"


def _a_view(request):  # pragma: no cover - never called, only routed to
    raise AssertionError


def test_the_walk_finds_a_new_url_even_inside_an_include():
    # The check above is only as good as the walk: a URL added anywhere must show up.
    nested = types.ModuleType("nested_urls")
    nested.urlpatterns = [path("deeper/", _a_view, name="brand_new_inner")]
    urlconf = types.ModuleType("urlconf_with_new_urls")
    urlconf.urlpatterns = [
        *walkaway.urls.urlpatterns,
        path("new/", _a_view, name="brand_new"),
        path("more/", (nested.urlpatterns, "more", "more")),
        path("anonymous/", _a_view),
    ]
    names, unnamed = url_names(get_resolver(urlconf))
    assert {"brand_new", "more:brand_new_inner"} <= names - EXPECTED.keys()
    assert unnamed == ["anonymous/"]
    assert ADMIN_ENTRY_POINT in names
    assert not any(name.startswith("admin:") and name != ADMIN_ENTRY_POINT for name in names)


def test_every_entry_names_a_status_for_every_persona():
    for name, entry in EXPECTED.items():
        assert len(entry.get) == len(PERSONAS), name
        assert len(entry.post) == len(PERSONAS), name


# The walk --------------------------------------------------------------------------------------


@pytest.fixture
def world(owner, teammate, manager, other_manager, staff, deal, give):
    """The owner's open deal with one concession and one pending exception request, and a
    notification for every persona, so every URL has something to point at."""
    concession = give(deal, "100", got="A reference").concession
    deal.refresh_from_db()
    exception = services.exception_request(
        deal=deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("2000.00"),
        description="Half price",
        form_key=uuid.uuid4().hex,
    )
    for user in (owner, teammate, manager, other_manager, staff):
        Notification.objects.create(user=user, deal=deal, message="Something happened")
    token, _ = services.api_token_create(user=owner, name="CRM")
    endpoint = WebhookEndpoint.objects.create(
        team=deal.team,
        url="https://crm.example.com/hook",
        events=["deal.won"],
        secret="s",
        created_by=manager,
    )
    return types.SimpleNamespace(
        deal=deal,
        concession=concession,
        exception=exception,
        token=token,
        webhook=endpoint,
        notification=Notification.objects.filter(user=owner).first(),
        membership=Membership.objects.get(user=manager),
    )


def url_for(name: str, world) -> str:
    if name == ADMIN_ENTRY_POINT:
        return reverse(name)
    # Each name has one route; its parameters say which objects the URL points at.
    [(possibilities, *_)] = get_resolver().reverse_dict.getlist(name)
    params = set(possibilities[0][1])
    kwargs = {}
    if "pk" in params:
        target = EXPECTED[name].target
        kwargs["pk"] = getattr(world, target).pk
    if "token" in params:
        kwargs["token"] = "not-an-invitation"
    if "uidb64" in params:
        kwargs.update(uidb64="MQ", token="not-a-token")
    if "concession_pk" in params:
        kwargs["concession_pk"] = world.concession.pk
    if "outcome" in params:
        kwargs["outcome"] = "won"
    return reverse(name, kwargs=kwargs)


def outcome(response, url: str) -> str | int:
    """The status as the matrix spells it: redirects are named by where they lead."""
    if response.status_code != 302:
        return response.status_code
    location = response.headers["Location"]
    if location == f"{reverse(settings.LOGIN_URL)}?next={quote(url)}":
        return LOGIN
    if location == f"/admin/login/?next={quote(url)}":
        return ADMIN_LOGIN
    if location == reverse("deal_list"):
        return HOME
    return 302


def as_persona(client: Client, request, persona: str) -> None:
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_url_answers_each_persona_as_the_matrix_says(client, request, world, persona):
    column = PERSONAS.index(persona)
    before = rows()
    wrong = []
    for name in sorted(EXPECTED):
        entry = EXPECTED[name]
        url = url_for(name, world)
        for method, statuses in (("GET", entry.get), ("POST", entry.post)):
            # Logging out (or in) changes who the client is; every request starts as the persona.
            client.logout()
            as_persona(client, request, persona)
            response = client.get(url) if method == "GET" else client.post(url, entry.data)
            got = outcome(response, url)
            if got != statuses[column]:
                wrong.append(f"{method} {url} ({name}): expected {statuses[column]}, got {got}")
    assert not wrong, f"As {persona}:\n" + "\n".join(wrong)
    # The matrix knocks on doors; it must not have changed a single deal.
    assert rows() == before
    assert Concession.objects.filter(deal=world.deal).count() == 1


def test_a_deal_that_does_not_exist_answers_like_a_deal_one_may_not_see(client, owner, world):
    # 404 for "not yours" is only discreet if "does not exist" looks the same.
    client.force_login(owner)
    missing = world.deal.pk + 1000
    assert client.get(reverse("deal_detail", args=[missing])).status_code == 404
    assert client.post(reverse("concession_log", args=[missing])).status_code == 404


# CSRF ------------------------------------------------------------------------------------------


def csrf_client(request, persona: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    as_persona(client, request, persona)
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_post_without_a_csrf_token_is_refused(request, world, persona):
    client = csrf_client(request, persona)
    let_through = []
    for name in sorted(EXPECTED):
        url = url_for(name, world)
        response = client.post(url, EXPECTED[name].data)
        if response.status_code != 403 or b"CSRF verification failed" not in response.content:
            let_through.append(f"{url} ({name}): {response.status_code}")
    assert not let_through, f"As {persona}, POST without a CSRF token got through:\n" + "\n".join(
        let_through
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_wrong_csrf_token_is_refused_and_the_right_one_lets_the_post_through(
    request, world, persona
):
    client = csrf_client(request, persona)
    secret = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    column = PERSONAS.index(persona)
    before = rows()
    wrong = []
    for name in sorted(EXPECTED):
        entry = EXPECTED[name]
        url = url_for(name, world)
        client.logout()
        as_persona(client, request, persona)
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
        forged = client.post(url, {**entry.data, "csrfmiddlewaretoken": _get_new_csrf_string()})
        if forged.status_code != 403:
            wrong.append(f"{url} ({name}) with a wrong token: {forged.status_code}")
        # htmx sends the token as a header (base.html sets it on <body>).
        genuine = client.post(url, entry.data, HTTP_X_CSRFTOKEN=secret)
        got = outcome(genuine, url)
        if got != entry.post[column]:
            wrong.append(f"{url} ({name}) with the token: expected {entry.post[column]}, got {got}")
    assert not wrong, f"As {persona}:\n" + "\n".join(wrong)
    assert rows() == before
