"""Walkaway's REST API at /api/v1/ (django-ninja; the contract is API.md).

Every operation reads deals through Deal.objects.visible_to(request.access) and writes through
deals/services.py, as the screens do, so no rule is written twice. `request.access` is the
token's person as they are at the moment of the request (deals/api/auth.py).
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from . import concessions, deals, errors, webhooks
from .auth import TokenAuth
from .parsing import StrictJSONParser

DESCRIPTION = """For CRMs and scripts: the same rules as the screens, through the same services.

Authenticate with a personal token from Settings (or `manage.py api_token create`):
`Authorization: Bearer <token>`. Money travels as strings with two decimals. Errors are
`{"detail", "code", "field"}`. Lists are `{"items", "next"}`, paged with `cursor`.
Writes that create accept an `Idempotency-Key`. Each token may send a limited number of
requests a minute (WALKAWAY_API_RATE_LIMIT); past it, 429 with `Retry-After`.
"""


class WalkawayAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Document what every operation may answer: 429 carries Retry-After."""
        schema = super().get_openapi_schema(*args, **kwargs)
        retry_after = {
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer"},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                limited = operation.get("responses", {}).get(429)
                if limited is not None:
                    limited["description"] = "Too many requests for this token."
                    limited.setdefault("headers", {})["Retry-After"] = retry_after
        return schema


api = WalkawayAPI(
    title="Walkaway API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
    parser=StrictJSONParser(),
    # Served from our origin (ninja is an installed app): no CDN, nothing inline, as the CSP asks.
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("", deals.router)
api.add_router("", concessions.router)
api.add_router("", webhooks.router)
