"""Personal tokens: `Authorization: Bearer <token>`, the person's rights at the moment of each
request, and a rate limit per token."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from ninja.security import HttpBearer

from ..access import Access
from ..integrations import ApiToken
from ..services import token_digest
from .errors import RateLimited

# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(seconds=60)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        throttle(found)
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        # Who the person is now: a team they left is gone from their token too (rule 11).
        request.access = Access.of(found.user)
        request.api_user = found.user
        return found


def throttle(token: ApiToken) -> None:
    """Counts per token in fixed windows, in Django's cache (so per process with the default
    local-memory cache: a limit per worker)."""
    limit, window = settings.WALKAWAY_API_RATE_LIMIT
    now = time.time()
    key = f"api-rate:{token.pk}:{int(now // window)}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:
        # The window's entry was evicted between add and incr: count from here.
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=max(1, int(window - now % window + 0.999)))
