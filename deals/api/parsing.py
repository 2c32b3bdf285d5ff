"""Request bodies: a JSON object in UTF-8, nothing else. A lone surrogate ("\\ud800") is valid
JSON but no text a database can store, so it is refused here (400) rather than failing there
(500)."""

from __future__ import annotations

import json

from ninja.parser import Parser


class StrictJSONParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("A request body is a JSON object.")
        json.dumps(data, ensure_ascii=False).encode("utf-8")
        return data
