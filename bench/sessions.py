"""Logged-in sessions for many benchmark users at once, written straight into the session store.

The cold scenarios ask each request as a different person (the deals list of each of 200 reps,
a post by each deal's owner), so bench/run.py needs a session for every rep and manager. 220
logins through the login form would each hash the password and go through django-axes; this
writes what a login leaves in the session (the user, the backend, the password's session hash),
which is what every later request reads. Run with the app's settings and SECRET_KEY (the
session hash depends on it):

    python -m bench.sessions rep001 rep002 ...   # prints JSON: cookie names and session keys
"""

from __future__ import annotations

import json
import os
import sys
from importlib import import_module

BACKEND = "django.contrib.auth.backends.ModelBackend"


def create(usernames: list[str]) -> dict:
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    if BACKEND not in settings.AUTHENTICATION_BACKENDS:
        raise SystemExit(f"{BACKEND} is not in AUTHENTICATION_BACKENDS.")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    missing = sorted(set(usernames) - set(users))
    if missing:
        raise SystemExit(f"No such users: {', '.join(missing[:5])}.")
    sessions = {}
    for username, user in users.items():
        session = store()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions[username] = session.session_key
    return {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "sessions": sessions,
    }


def main(argv=None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walkaway.settings")
    import django

    django.setup()
    print(json.dumps(create(list(argv if argv is not None else sys.argv[1:]))))


if __name__ == "__main__":
    main()
