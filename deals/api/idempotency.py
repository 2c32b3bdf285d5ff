"""`Idempotency-Key` on writes that create: the same key and body again, from the same token
within 24 hours, returns the first answer and creates nothing; the same key with another
request answers 422.

The key's row is written in the same transaction as the write it guards, so a second request
with the key waits for the first to commit (the unique constraint) and then reads its answer;
a write that fails keeps no key, and may be sent again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from ninja import Header, Status

from ..integrations import IdempotencyKey
from .errors import ApiError

KEPT = timedelta(hours=24)

# The header as each operation declares it, so that it is in the OpenAPI schema.
KeyHeader = Header(
    None,
    alias="Idempotency-Key",
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="Send the same key to retry safely: the first answer comes back, nothing is "
    "created twice (kept 24 hours per token).",
)


def _fingerprint(request) -> str:
    try:
        payload = json.dumps(json.loads(request.body or b"null"), sort_keys=True)
    except (ValueError, UnicodeDecodeError):
        payload = request.body.decode("utf-8", "replace")
    return hashlib.sha256(f"{request.method} {request.path}\n{payload}".encode()).hexdigest()


def once(request, key: str | None, write: Callable[[], tuple[int, dict]]):
    """Run `write` (which answers (status, body)) once per key."""
    if key is None:
        return Status(*write())
    token = request.auth
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        IdempotencyKey.objects.filter(
            token=token, key=key, created_at__lt=timezone.now() - KEPT
        ).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    token=token, key=key, fingerprint=fingerprint, status=0, body={}
                )
        except IntegrityError:
            row = IdempotencyKey.objects.get(token=token, key=key)
            if row.fingerprint != fingerprint:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was sent with another request.",
                    field="Idempotency-Key",
                ) from None
            response = JsonResponse(row.body, status=row.status)
            response["Idempotent-Replayed"] = "true"
            return response
        status, body = write()
        row.status, row.body = status, json.loads(json.dumps(body, default=str))
        row.save(update_fields=["status", "body"])
    return Status(status, body)
