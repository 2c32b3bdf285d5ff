"""Error pages that never leak a stack trace or a setting, and that render without the database.

A database outage is not a bug in the request: it answers 503 with Retry-After, so people (and
load balancers) know to try again, and the app recovers on its own when the database is back.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

UNAVAILABLE = (OperationalError, InterfaceError)


def _page(status: int, title: str, message: str) -> HttpResponse:
    body = render_to_string("errors/error.html", {"title": title, "message": message})
    return HttpResponse(body, status=status)


def server_error(request) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, UNAVAILABLE) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    ):
        response = _page(
            503,
            "Walkaway is briefly unavailable",
            "We cannot reach our database right now. Nothing you saved earlier is lost; "
            "what you just sent may not have been saved. Please try again in a minute: "
            "sending the same form again never logs it twice.",
        )
        response["Retry-After"] = "30"
        return response
    return _page(
        500,
        "Something went wrong",
        "Sorry, that did not work and nothing was saved. Please try again; "
        "if it keeps happening, tell your administrator.",
    )


def bad_request(request, exception=None) -> HttpResponse:
    return _page(400, "Bad request", "We could not understand that request.")


def permission_denied(request, exception=None) -> HttpResponse:
    return _page(403, "Not allowed", "You do not have access to this page.")


def page_not_found(request, exception=None) -> HttpResponse:
    return _page(404, "Not found", "There is nothing here, or it is not yours to see.")
