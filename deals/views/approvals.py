"""Placeholder until the manager's review lands (issue 4)."""

from django.http import Http404


def approval_list(request):
    raise Http404


def exception_approve(request, pk):
    raise Http404


def exception_reject(request, pk):
    raise Http404
