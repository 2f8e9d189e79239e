from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve

from contest_engine import views

admin.site.site_header = "contest-engine"
admin.site.site_title = "contest-engine"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("accounts.urls")),
    path("questions/", include("questionbank.urls")),
    path("contests/", include("contests.urls")),
    path("leaderboards/", include("leaderboards.urls")),
    path("exports/", include("exports.urls")),
    path("anticheat/", include("anticheat.urls")),
    path("judging/", include("judging.urls")),
    path("practice/", include("practice.urls")),
    path("surveys/", include("surveys.urls")),
    path("live/", include("live.urls")),
    path("admin/", admin.site.urls),
]
if settings.SERVE_MEDIA:
    # Public media only (question images and audio); exports live in the private storage, never here.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
