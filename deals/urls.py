from django.urls import path

from .views import approvals, dashboard, deals, notifications, reassign

urlpatterns = [
    # The rep's desk.
    path("", deals.deal_list, name="deal_list"),
    path("deals/new/", deals.deal_create, name="deal_create"),
    path("deals/<int:pk>/", deals.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/preview/", deals.concession_preview, name="concession_preview"),
    path("deals/<int:pk>/concessions/", deals.concession_log, name="concession_log"),
    path(
        "deals/<int:pk>/concessions/<int:concession_pk>/retract/",
        deals.concession_retract,
        name="concession_retract",
    ),
    path(
        "deals/<int:pk>/concessions/<int:concession_pk>/correct/",
        deals.concession_correct,
        name="concession_correct",
    ),
    path("deals/<int:pk>/exceptions/", deals.exception_request, name="exception_request"),
    path("deals/<int:pk>/floor/", deals.floor_change, name="floor_change"),
    path("deals/<int:pk>/won/", deals.deal_win, name="deal_win"),
    path(
        "deals/<int:pk>/confirm/<str:outcome>/",
        deals.deal_confirm,
        name="deal_confirm",
    ),
    path("deals/<int:pk>/lost/", deals.deal_lose, name="deal_lose"),
    path("deals/<int:pk>/walk-away/", deals.deal_walk_away, name="deal_walk_away"),
    path("deals/<int:pk>/came-back/", deals.deal_come_back, name="deal_come_back"),
    path("deals/<int:pk>/plan/", deals.plan_save, name="plan_save"),
    path("deals/<int:pk>/edit/", deals.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/reassign/", reassign.deal_reassign, name="deal_reassign"),
    # The manager's review.
    path("approvals/", approvals.approval_list, name="approvals"),
    path("approvals/<int:pk>/approve/", approvals.exception_approve, name="exception_approve"),
    path("approvals/<int:pk>/reject/", approvals.exception_reject, name="exception_reject"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/deals.csv", dashboard.export_deals, name="export_deals"),
    path("dashboard/concessions.csv", dashboard.export_concessions, name="export_concessions"),
    # Everyone.
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
]
