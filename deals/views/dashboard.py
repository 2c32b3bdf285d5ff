"""Placeholder until the manager's review lands (issue 4)."""

from django.http import Http404


def dashboard(request):
    raise Http404


def export_deals(request):
    raise Http404


def export_concessions(request):
    raise Http404
