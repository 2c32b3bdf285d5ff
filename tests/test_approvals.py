"""approvals, exception_approve, exception_reject: the manager decides pending floor exceptions
(DOMAIN.md, rule 4), one card at a time, told when the deal moved on since the rep asked."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db.models import Q
from django.urls import reverse

from deals import services
from deals.models import Concession, ExceptionRequest

from .desk import HTMX, NASTY, assert_escaped, assert_fragment, page, rows, words
from .review import ask, fresh, give

COMMENT = "Strategic account; worth it."


@pytest.fixture
def pending(deal):
    """Conceded 600 of 1,000 room: asking for 500 goes 100 below the floor."""
    give(deal, "600")
    return ask(deal, "500", note="They have a competing quote.")


def approve_url(request):
    return reverse("exception_approve", args=[request.pk])


def reject_url(request):
    return reverse("exception_reject", args=[request.pk])


def hidden_inputs(response) -> dict[str, str]:
    return dict(
        re.findall(r'<input type="hidden" name="(seen_\w+)" value="([^"]*)">', page(response))
    )


def approved_concessions(request):
    return Concession.objects.filter(exception_request=request)


# The list ---------------------------------------------------------------------------------------


def test_the_manager_sees_each_pending_request_with_its_figures(client, manager, pending):
    client.force_login(manager)
    response = client.get(reverse("approvals"))
    assert response.status_code == 200
    text = words(response)
    assert "ERP roll-out" in text
    assert "Rep olivia" in text
    assert "Amount $500.00" in text
    assert "Shortfall below the floor $100.00" in text
    assert "They have a competing quote." in text
    assert re.search(r"Asked \d+\s+minutes? ago", text)
    assert f'href="{reverse("deal_detail", args=[pending.deal_id])}"' in page(response)
    assert f'<label for="id_comment_{pending.pk}">Comment</label>' in page(response)
    assert ">Approve</button>" in page(response)
    assert ">Reject</button>" in page(response)


def test_requests_are_listed_oldest_first_and_decided_ones_leave_the_list(
    client,
    manager,
    make_deal,
):
    first, second, third = (make_deal(title=t) for t in ("First", "Second", "Third"))
    requests = []
    for deal in (first, second, third):
        give(deal, "1000")
        requests.append(ask(deal, "10"))
    client.force_login(manager)
    client.post(reject_url(requests[1]), {"comment": "No."})
    body = page(client.get(reverse("approvals")))
    first_at, third_at = (body.index(f'id="request-{requests[i].pk}"') for i in (0, 2))
    assert first_at < third_at
    assert f'id="request-{requests[1].pk}"' not in body


def test_the_pending_count_shows_in_the_navigation(client, manager, pending):
    client.force_login(manager)
    assert 'aria-label="1 pending">1</span>' in page(client.get(reverse("approvals")))


def test_user_text_on_a_card_is_escaped(client, manager, deal):
    give(deal, "900")
    ask(deal, "200", description=NASTY, note=NASTY)
    client.force_login(manager)
    assert_escaped(client.get(reverse("approvals")))


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider"])
def test_a_rep_gets_403_on_the_page(client, request, persona, pending):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("approvals")).status_code == 403
    assert client.get(reverse("approvals"), **HTMX).status_code == 403


def test_a_manager_of_another_team_sees_none_of_our_requests(client, other_manager, pending):
    client.force_login(other_manager)
    response = client.get(reverse("approvals"))
    assert response.status_code == 200
    assert "ERP roll-out" not in page(response)
    assert "No requests are waiting for you." in words(response)


def test_staff_see_every_teams_requests(client, staff, pending):
    client.force_login(staff)
    assert f'id="request-{pending.pk}"' in page(client.get(reverse("approvals")))


def test_the_list_answers_an_htmx_request_with_the_list_alone(client, manager, pending):
    client.force_login(manager)
    response = client.get(reverse("approvals"), **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<section id="request-list"')


def test_the_list_refuses_other_methods(client, manager):
    client.force_login(manager)
    assert client.post(reverse("approvals")).status_code == 405


@pytest.mark.parametrize("size", [3, 30])
def test_the_list_costs_the_same_queries_for_3_or_30_requests(
    client, manager, make_deal, size, django_assert_max_num_queries
):
    for _ in range(size):
        deal = make_deal()
        give(deal, "1000")
        ask(deal, "10")
    client.force_login(manager)
    # 3 of them for the cards' context: latest concessions, the reps' deals, their requests.
    with django_assert_max_num_queries(11):
        response = client.get(reverse("approvals"))
    assert page(response).count('class="card request-card') == size


# Approving --------------------------------------------------------------------------------------


def test_approving_logs_the_concession_through_the_service(client, manager, pending):
    client.force_login(manager)
    response = client.post(approve_url(pending), {"comment": COMMENT}, **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert "Approved: the concession is logged on ERP roll-out." in words(response)
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.comment) == ("approved", manager, COMMENT)
    concession = approved_concessions(pending).get()
    assert concession.amount == Decimal("500.00")
    assert concession.created_by == pending.requested_by
    deal = fresh(pending.deal)
    assert (deal.conceded, deal.level) == (Decimal("1100.00"), "below_floor")


def test_deciding_with_htmx_refreshes_the_pending_count_in_the_navigation(client, manager, pending):
    client.force_login(manager)
    before = client.get(reverse("approvals")).content.decode()
    assert 'aria-label="1 pending"' in before
    response = client.post(approve_url(pending), {"comment": COMMENT}, **HTMX)
    html = response.content.decode()
    assert re.search(r'<span id="nav-approvals-count" hx-swap-oob="true">\s*</span>', html)


def test_approving_without_javascript_redirects_back_with_a_message(client, manager, pending):
    client.force_login(manager)
    response = client.post(approve_url(pending), {"comment": COMMENT})
    assert response.status_code == 303
    assert response.headers["Location"] == reverse("approvals")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Approved: the concession is logged on ERP roll-out."
    ]
    assert approved_concessions(pending).count() == 1


def test_approving_needs_no_comment(client, manager, pending):
    """Issue 14: a comment is optional to approve; the card says "Approved" in words."""
    client.force_login(manager)
    response = client.post(approve_url(pending), {"comment": "  "}, **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert "is-approved" in page(response)
    assert "Approved Approved: the concession is logged" in words(response)
    assert (fresh(pending).status, fresh(pending).comment) == ("approved", "")
    assert approved_concessions(pending).count() == 1


def test_rejecting_needs_a_reason_without_javascript_too(client, manager, pending):
    client.force_login(manager)
    before = rows()
    response = client.post(reject_url(pending), {"comment": ""})
    assert response.status_code == 422
    assert "<html" in page(response)
    assert "Write the reason for the rep: rejecting needs one." in words(response)
    assert rows() == before
    assert fresh(pending).status == "pending"


def test_a_rejected_card_says_so_in_words(client, manager, pending):
    client.force_login(manager)
    response = client.post(reject_url(pending), {"comment": "No."}, **HTMX)
    assert response.status_code == 200
    assert "is-rejected" in page(response)
    assert "Rejected Rejected: nothing was logged" in words(response)


def test_the_card_shows_the_deal_the_manager_decides_on(client, manager, pending, make_deal):
    """Issue 14: opening price, floor, net now, room used, the latest concessions with their
    gets, and the rep's record, as the deal page shows the figures."""
    other = make_deal(title="Walked")
    services.deal_walk_away(deal=other, user=other.owner, reason="Too low")
    client.force_login(manager)
    text = words(client.get(reverse("approvals")))
    assert "Opening price $10,000.00" in text
    assert "Walk-away floor $9,000.00" in text
    assert "Net now $9,400.00" in text
    assert "Room used 60%" in text
    assert "Target price" not in text
    assert "Latest concessions" in text
    assert "nothing in return" in text
    assert "olivia's record: 2 deals, 1 walk-away, 1 exception asked, 0 granted." in text


def test_approving_after_the_deal_moved_on_tells_what_changed_and_logs_nothing(
    client,
    manager,
    pending,
):
    give(pending.deal, "100")  # 700 conceded now, 300 left: the 500 asked is 200 below.
    client.force_login(manager)
    before = rows()
    response = client.post(approve_url(pending), {"comment": COMMENT}, **HTMX)
    assert response.status_code == 409
    assert_fragment(response)
    text = words(response)
    assert "The deal changed since this was asked: conceded went from $600.00 to $700.00" in text
    assert "approving it now takes the deal $200.00 below the walk-away floor" in text
    assert hidden_inputs(response) == {"seen_conceded": "700.00", "seen_floor": "9000.00"}
    assert COMMENT in page(response)  # what the manager typed is kept
    assert rows() == before
    assert fresh(pending).status == "pending"

    # The second "Approve" carries what the manager was just shown, and decides on it.
    again = client.post(
        approve_url(pending), {"comment": COMMENT, **hidden_inputs(response)}, **HTMX
    )
    assert again.status_code == 200
    assert approved_concessions(pending).count() == 1
    assert fresh(pending.deal).conceded == Decimal("1200.00")


def test_a_deal_that_moves_again_between_the_two_clicks_is_caught_again(
    client,
    manager,
    pending,
):
    give(pending.deal, "100")
    client.force_login(manager)
    first = client.post(approve_url(pending), {"comment": COMMENT}, **HTMX)
    give(pending.deal, "50")
    second = client.post(approve_url(pending), {"comment": COMMENT, **hidden_inputs(first)}, **HTMX)
    assert second.status_code == 409
    assert "conceded went from $700.00 to $750.00" in words(second)
    assert hidden_inputs(second) == {"seen_conceded": "750.00", "seen_floor": "9000.00"}
    assert not approved_concessions(pending).exists()


def test_the_deal_changed_answer_works_without_javascript(client, manager, pending):
    give(pending.deal, "100")
    client.force_login(manager)
    response = client.post(approve_url(pending), {"comment": COMMENT})
    assert response.status_code == 409
    assert "<html" in page(response)
    assert "The deal changed since this was asked" in words(response)
    assert hidden_inputs(response) == {"seen_conceded": "700.00", "seen_floor": "9000.00"}
    again = client.post(approve_url(pending), {"comment": COMMENT, **hidden_inputs(response)})
    assert again.status_code == 303
    assert approved_concessions(pending).count() == 1


def test_a_tampered_seen_figure_is_refused(client, manager, pending):
    client.force_login(manager)
    response = client.post(
        approve_url(pending), {"comment": COMMENT, "seen_conceded": "lots"}, **HTMX
    )
    assert response.status_code == 422
    assert "Enter an amount such as 1250.00." in words(response)
    assert fresh(pending).status == "pending"


def test_the_second_approval_is_told_it_was_already_decided_and_logs_nothing(
    client, manager, pending
):
    client.force_login(manager)
    assert client.post(approve_url(pending), {"comment": COMMENT}, **HTMX).status_code == 200
    second = client.post(approve_url(pending), {"comment": COMMENT}, **HTMX)
    assert second.status_code == 409
    assert_fragment(second)
    assert "This request was already approved by maria." in words(second)
    assert approved_concessions(pending).count() == 1
    assert Concession.objects.filter(deal=pending.deal).count() == 2  # the 600 and the 500


def test_already_decided_without_javascript_redirects_with_a_warning(client, manager, pending):
    client.force_login(manager)
    client.post(reject_url(pending), {"comment": "No."})
    response = client.post(approve_url(pending), {"comment": COMMENT})
    assert response.status_code == 303
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages[-1] == "This request was already rejected by maria."
    assert not approved_concessions(pending).exists()


def test_a_request_on_a_closed_deal_cannot_be_approved_but_can_be_rejected(
    client, manager, owner, pending
):
    from deals import services

    services.deal_lose(deal=pending.deal, user=owner, reason="price")
    client.force_login(manager)
    response = client.post(approve_url(pending), {"comment": COMMENT}, **HTMX)
    assert response.status_code == 409
    assert "it is no longer open" in words(response)
    assert not approved_concessions(pending).exists()
    assert client.post(reject_url(pending), {"comment": "Too late."}, **HTMX).status_code == 200
    assert fresh(pending).status == "rejected"


# Rejecting --------------------------------------------------------------------------------------


def test_rejecting_keeps_the_request_and_logs_no_concession(client, manager, pending):
    client.force_login(manager)
    before = Concession.objects.count()
    response = client.post(reject_url(pending), {"comment": "Hold the line."}, **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert "Rejected: nothing was logged on ERP roll-out." in words(response)
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.comment) == (
        "rejected",
        manager,
        "Hold the line.",
    )
    assert Concession.objects.count() == before
    assert fresh(pending.deal).conceded == Decimal("600.00")


def test_rejecting_without_javascript_redirects_back(client, manager, pending):
    client.force_login(manager)
    response = client.post(reject_url(pending), {"comment": "No."})
    assert response.status_code == 303
    assert fresh(pending).status == "rejected"


def test_rejecting_needs_a_comment(client, manager, pending):
    client.force_login(manager)
    response = client.post(reject_url(pending), {"comment": ""}, **HTMX)
    assert response.status_code == 422
    assert fresh(pending).status == "pending"


# Who may decide ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "other_manager"])
@pytest.mark.parametrize("url", [approve_url, reject_url])
def test_nobody_but_the_teams_managers_can_decide_and_the_request_does_not_leak(
    client, request, persona, url, pending
):
    client.force_login(request.getfixturevalue(persona))
    before = rows()
    assert client.post(url(pending), {"comment": COMMENT}).status_code == 404
    assert client.post(url(pending), {"comment": COMMENT}, **HTMX).status_code == 404
    assert rows() == before
    assert fresh(pending).status == "pending"


def test_a_request_that_does_not_exist_is_404(client, manager, pending):
    client.force_login(manager)
    missing = ExceptionRequest(pk=pending.pk + 1000)
    assert client.post(approve_url(missing), {"comment": COMMENT}).status_code == 404


def test_staff_may_decide_for_any_team(client, staff, pending):
    client.force_login(staff)
    assert client.post(approve_url(pending), {"comment": COMMENT}, **HTMX).status_code == 200
    assert fresh(pending).decided_by == staff


@pytest.mark.parametrize("url", [approve_url, reject_url])
def test_deciding_refuses_other_methods(client, manager, pending, url):
    client.force_login(manager)
    assert client.get(url(pending)).status_code == 405
    assert client.get(url(pending), **HTMX).status_code == 405
    assert fresh(pending).status == "pending"


@pytest.mark.parametrize("size", [3, 30])
def test_deciding_costs_the_same_queries_however_long_the_deals_ledger(
    client, manager, make_deal, size, django_assert_max_num_queries
):
    deal = make_deal(opening_price=Decimal("100000.00"), floor=Decimal("1.00"))
    for _ in range(size):
        give(deal, "1")
    deal = fresh(deal)
    # Below the floor but not to a net of zero (rule 10).
    request = ask(deal, str(deal.net - Decimal("0.50")))
    client.force_login(manager)
    # The decided card also refreshes the two navigation counts out of band.
    with django_assert_max_num_queries(21):
        response = client.post(approve_url(request), {"comment": COMMENT}, **HTMX)
    assert response.status_code == 200
    assert Concession.objects.filter(Q(exception_request=request)).count() == 1


def test_the_reps_deals_list_marks_deals_waiting_for_approval(client, owner, pending, make_deal):
    make_deal(title="Quiet deal")
    client.force_login(owner)
    body = page(client.get(reverse("deal_list")))
    assert body.count("Waiting for approval") == 1
