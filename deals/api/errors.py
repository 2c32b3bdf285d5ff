"""The API's one error shape, {"detail", "code", "field"}, and the statuses of API.md: 400/422
bad input, 401 no or bad token, 404 anything the person may not see, 409 the deal says no, 429
too many requests. Never a 500 for any input."""

from __future__ import annotations

import re

from django.http import Http404
from ninja.errors import AuthenticationError, HttpError, ValidationError

from .. import services

# DomainError -> (status, code). A subclass not named here answers as its nearest ancestor.
DOMAIN_ERRORS: dict[type[services.DomainError], tuple[int, str]] = {
    services.InvalidValue: (422, "invalid"),
    services.NotAllowed: (404, "not_found"),
    services.DealClosed: (409, "deal_closed"),
    services.BelowFloor: (409, "below_floor"),
    services.FloorLocked: (409, "floor_locked"),
    services.AlreadyDecided: (409, "already_decided"),
    services.DealChanged: (409, "deal_changed"),
    services.AlreadyRetracted: (409, "already_retracted"),
    services.NotCorrectable: (409, "not_correctable"),
    services.ReferenceTaken: (409, "reference_taken"),
    services.LedgerLocked: (409, "ledger_locked"),
    services.DomainError: (409, "refused"),
}
NOT_FOUND = "Not found."


class ApiError(Exception):
    """An answer other than success, raised anywhere in an operation."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


class RateLimited(ApiError):
    def __init__(self, retry_after: int):
        super().__init__(429, "rate_limited", f"Too many requests; try again in {retry_after} s.")
        self.retry_after = retry_after


def body(detail: str, code: str, field: str | None = None) -> dict:
    return {"detail": detail, "code": code, "field": field}


def from_domain(error: services.DomainError) -> ApiError:
    for cls in type(error).__mro__:
        if cls in DOMAIN_ERRORS:
            status, code = DOMAIN_ERRORS[cls]
            break
    if status == 404:
        # The reason ("only a manager...") would tell that the thing exists.
        return ApiError(404, code, NOT_FOUND)
    return ApiError(status, code, error.message, field=error.field)


def _field_of(loc) -> str | None:
    # ("body", "payload", "amount") -> "amount"; ("query", "limit") -> "limit".
    names = [str(part) for part in loc if not isinstance(part, int)]
    names = [n for n in names if n not in ("body", "payload", "query", "path", "header")]
    return ".".join(names) or None


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def install(api) -> None:
    """Answer every error of the API in its one shape."""

    def respond(request, status: int, payload: dict, headers: dict | None = None):
        response = api.create_response(request, payload, status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return respond(request, exc.status, body(exc.detail, exc.code, exc.field), headers)

    @api.exception_handler(services.DomainError)
    def domain_error(request, exc: services.DomainError):
        return api_error(request, from_domain(exc))

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        first = exc.errors[0] if exc.errors else {}
        field = _field_of(first.get("loc", ()))
        message = _sentence(str(first.get("msg", "Invalid input")))
        if field:
            message = f"{field}: {message}"
        return respond(request, 422, body(message, "invalid", field))

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc):
        detail = "Send a valid token: Authorization: Bearer <token>."
        return respond(request, 401, body(detail, "unauthorized"), {"WWW-Authenticate": "Bearer"})

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = re.sub(r"[^a-z]+", "_", str(exc.message).lower()).strip("_") or "error"
        if exc.status_code == 400:
            return respond(request, 400, body("The body is not valid JSON.", "bad_request"))
        return respond(request, exc.status_code, body(_sentence(str(exc.message)), code))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, body(NOT_FOUND, "not_found"))
