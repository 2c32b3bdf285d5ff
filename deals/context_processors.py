from .links import navigation_links
from .models import Deal, ExceptionRequest, manages_any_team, unread_notifications


def navigation(request):
    """Counts for the top navigation, computed lazily so pages that do not show them pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def is_manager():
        return manages_any_team(user)

    def pending_approvals():
        return ExceptionRequest.objects.filter(
            status=ExceptionRequest.Status.PENDING,
            deal__in=Deal.objects.managed_by(user),
        ).count()

    def unread():
        return unread_notifications(user)

    return {
        "nav_links": navigation_links(),
        "nav_is_manager": is_manager,
        "nav_pending_approvals": pending_approvals,
        "nav_unread": unread,
    }
