"""Counts the database queries of each request, for `make bench` (WALKAWAY_BENCH=1 only).

The count goes out in an X-Queries header. A streamed response (the CSV exports) sends its
headers before its body is read from the database, so its header counts the queries made before
streaming began; the queries made while streaming are counted too and logged at the end, under
the "bench" logger, as "streamed <path>: <n> queries". A server-side cursor is one query however
many rows it hands over.
"""

import logging

from django.db import connection

logger = logging.getLogger("bench")


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(counter.count)
        if response.streaming:
            response.streaming_content = self._counted(response.streaming_content, counter, request)
        return response

    @staticmethod
    def _counted(content, counter, request):
        with connection.execute_wrapper(counter):
            yield from content
        logger.info("streamed %s: %d queries", request.path, counter.count)
