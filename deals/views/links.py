"""Links drawn many times on one page."""

from __future__ import annotations

from django.urls import reverse


def url_maker(name: str, *args):
    """reverse(name, args=[*args, pk]) for many pks at the cost of one reverse().

    A page with a link per row would otherwise resolve the same URL pattern once per row; the
    rows differ only in the last number, which comes after every fixed part of the path.
    """
    head, _, tail = reverse(name, args=[*args, 0]).rpartition("/0/")
    return lambda pk: f"{head}/{int(pk)}/{tail}"
