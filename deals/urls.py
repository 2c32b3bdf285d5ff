from django.urls import path

from .views import approvals, dashboard, deals, imports, notifications, people, reassign, settings

urlpatterns = [
    # The rep's desk.
    path("", deals.deal_list, name="deal_list"),
    path("deals/new/", deals.deal_create, name="deal_create"),
    path("deals/import/", imports.deal_import, name="deal_import"),
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
    # The team's people (issue 14).
    path("team/", people.team, name="team"),
    path("team/invite/", people.invite, name="invite"),
    path("team/members/<int:pk>/role/", people.member_role, name="member_role"),
    path("team/members/<int:pk>/remove/", people.member_remove, name="member_remove"),
    path("join/<str:token>/", people.invite_accept, name="invite_accept"),
    # Everyone.
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path("settings/", settings.settings_page, name="settings"),
    path("settings/tokens/", settings.api_token_create, name="api_token_create"),
    path("settings/tokens/<int:pk>/revoke/", settings.api_token_revoke, name="api_token_revoke"),
    # Managers: the team's webhooks and what was delivered to them.
    path("settings/webhooks/", settings.webhooks_page, name="webhooks"),
    path("settings/webhooks/<int:pk>/", settings.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/disable/", settings.webhook_disable, name="webhook_disable"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
]
