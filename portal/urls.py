from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import api, views
from portal.forms import LoginForm, PortalPasswordChangeForm, PortalSetPasswordForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(form_class=PortalPasswordChangeForm),
        name="password_change",
    ),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # A new user's first password, through the one-use link the administrator hands over (schools.services).
    path(
        "accounts/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_set.html",
            form_class=PortalSetPasswordForm,
            success_url=reverse_lazy("password_set_done"),
        ),
        name="password_set",
    ),
    path(
        "accounts/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_set_done.html"),
        name="password_set_done",
    ),
    path("i18n/setlang/", views.language_switch, name="set_language"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("reference/occupations/", views.occupation_list, name="occupation_list"),
    path("reference/occupations/import/", views.occupation_import, name="occupation_import"),
    path("reference/occupations/template.xlsx", views.occupation_template, name="occupation_template"),
    path("reference/majors/", views.major_catalogue, name="major_catalogue"),
    path("reference/majors/import/", views.major_occupation_import, name="major_occupation_import"),
    path("reference/majors/template.xlsx", views.major_occupation_template, name="major_occupation_template"),
    path("reference/calendar/", views.calendar, name="calendar"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/calendar/due-date", api.due_date, name="api_due_date"),
    path("schools/", include("schools.urls")),
    path("institutions/", include("institutions.urls")),
    path("registry/", include("institutions.registry_urls")),
    path("directory/", include("institutions.directory_urls")),
    path("assessments/", include("assessments.urls")),
    # /certificates/ (the app's pages), /verify/ and /api/v1/certificates/ (public verification).
    path("", include("certificates.urls")),
    # The API's OpenAPI schema and its browsable page (Swagger UI from drf-spectacular-sidecar, no CDN).
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/schema/ui/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("oversight/", include("oversight.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"

admin.site.site_header = settings.PORTAL_NAME
admin.site.site_title = settings.PORTAL_NAME
