from .models import ExceptionRequest, Notification


def navigation(request):
    """What the top navigation shows of the person (`access`) and its counts, each computed
    only when a page draws it."""
    access = getattr(request, "access", None)
    if access is None or not access.signed_in:
        return {}

    def pending_approvals():
        return ExceptionRequest.objects.awaiting(access).count()

    def unread():
        return Notification.objects.filter(user_id=access.user_id, read_at__isnull=True).count()

    return {
        "access": access,
        "nav_pending_approvals": pending_approvals,
        "nav_unread": unread,
    }
