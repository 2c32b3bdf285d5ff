"""Helpers for the API's tests: a client that speaks for a person through a real token."""

from __future__ import annotations

import json

from django.test import Client

from deals import services

BASE = "/api/v1"


class Api:
    """Requests to /api/v1/ with `Authorization: Bearer <token>`; answers are Django responses
    with `.json()`."""

    def __init__(self, token: str | None):
        self.token = token
        self.client = Client()

    def _headers(self, headers):
        out = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        out.update(headers or {})
        return out

    def get(self, path, params=None, headers=None):
        return self.client.get(BASE + path, params or {}, headers=self._headers(headers))

    def send(self, method, path, body=None, headers=None):
        data = "" if body is None else json.dumps(body)
        call = getattr(self.client, method.lower())
        return call(
            BASE + path, data, content_type="application/json", headers=self._headers(headers)
        )

    def post(self, path, body=None, headers=None):
        return self.send("POST", path, body, headers)

    def put(self, path, body=None, headers=None):
        return self.send("PUT", path, body, headers)

    def patch(self, path, body=None, headers=None):
        return self.send("PATCH", path, body, headers)

    def delete(self, path, headers=None):
        return self.send("DELETE", path, None, headers)


def token_for(user, name: str = "tests") -> str:
    return services.api_token_create(user=user, name=name)[1]


def api_for(user) -> Api:
    return Api(token_for(user))


def is_error(response, status: int, code: str | None = None) -> bool:
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert set(body) == {"detail", "code", "field"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return True
