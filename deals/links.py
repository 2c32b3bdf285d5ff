"""Links drawn many times on one page."""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_script_prefix, reverse


def url_maker(name: str, *args):
    """reverse(name, args=[*args, pk]) for many pks at the cost of one reverse().

    A page with a link per row would otherwise resolve the same URL pattern once per row; the
    rows differ only in the last number, which comes after every fixed part of the path.
    """
    head, _, tail = reverse(name, args=[*args, 0]).rpartition("/0/")
    return lambda pk: f"{head}/{int(pk)}/{tail}"


# Every link and form action of a deal's page, by URL name.
DEAL_PAGE = (
    "deal_detail",
    "concession_log",
    "concession_preview",
    "exception_request",
    "floor_change",
    "deal_win",
    "deal_lose",
    "deal_walk_away",
    "deal_come_back",
)


def deal_links(pk: int) -> dict[str, str]:
    """{{ links.deal_win }} and the rest for one deal: the page draws a dozen, each with
    {% url %} a full reverse()."""
    return {name: _maker(name)(pk) for name in DEAL_PAGE}


def exception_links(pk: int, deal_pk: int) -> dict[str, str]:
    """An approvals card's links: its deal, approve and reject (fifty cards to a page)."""
    return {
        "deal": _maker("deal_detail")(deal_pk),
        "approve": _maker("exception_approve")(pk),
        "reject": _maker("exception_reject")(pk),
    }


def _maker(name: str):
    return _kept_maker(name, get_script_prefix())


@lru_cache(maxsize=64)
def _kept_maker(name: str, script_prefix: str):
    # The script prefix is part of every URL, so it is part of the key.
    return url_maker(name)


# The navigation's links, on every page.
NAVIGATION = ("deal_list", "dashboard", "approvals", "notifications", "logout")


def navigation_links() -> dict[str, str]:
    """{{ nav_links.dashboard }} and the rest: they take no arguments, so one reverse() each per
    process (and script prefix) serves every page."""
    return _navigation(get_script_prefix())


@lru_cache(maxsize=4)
def _navigation(script_prefix: str) -> dict[str, str]:
    return {name: reverse(name) for name in NAVIGATION}
