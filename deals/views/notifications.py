"""Placeholder until the manager's review lands (issue 4)."""

from django.http import Http404


def notification_list(request):
    raise Http404


def notifications_read(request):
    raise Http404
