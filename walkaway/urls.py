from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from deals.api import api
from deals.forms import LoginForm


def _api_urls():
    """The API answers for itself with a token (401, never a redirect to the login page)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback.login_required = False
    return patterns, app_name, namespace


urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Forgotten passwords (issue 14): Django's own views, emailing an absolute link (SITE_URL).
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            extra_email_context={"site_url": settings.SITE_URL},
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", _api_urls()),
    path("", include("deals.urls")),
]

if settings.WALKAWAY_BENCH:
    urlpatterns += [path("bench/", include("bench.urls"))]

handler400 = "walkaway.errors.bad_request"
handler403 = "walkaway.errors.permission_denied"
handler404 = "walkaway.errors.page_not_found"
handler500 = "walkaway.errors.server_error"
