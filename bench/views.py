"""The benchmark's baseline: the least a logged-in request that writes can cost here.

One INSERT into bench_ping (created by bench/seed.py) in a transaction, and a tiny page. It goes
through the same middleware as every page (session, user, CSRF, CSP, query count), so its speed
is the floor that Django, gunicorn and PostgreSQL set on this machine, measured in the same run
as the scenarios it is compared with.
"""

from django.db import connection, transaction
from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def ping(request):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ping DEFAULT VALUES")
    return HttpResponse("ok\n", content_type="text/plain")
