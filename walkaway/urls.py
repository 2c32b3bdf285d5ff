from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from deals.forms import LoginForm

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("deals.urls")),
]

if settings.WALKAWAY_BENCH:
    urlpatterns += [path("bench/", include("bench.urls"))]

handler400 = "walkaway.errors.bad_request"
handler403 = "walkaway.errors.permission_denied"
handler404 = "walkaway.errors.page_not_found"
handler500 = "walkaway.errors.server_error"
