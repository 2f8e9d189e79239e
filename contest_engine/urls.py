from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.vary import vary_on_cookie
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve

from contest_engine import views

admin.site.site_header = "contest-engine"
admin.site.site_title = "contest-engine"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/rounds/<slug:purpose>/", views.staff_rounds, name="staff_rounds"),
    path("staff/guide/", views.staff_guide, name="staff_guide"),
    path("staff/guide/<path:name>", views.staff_guide, name="staff_guide_file"),
    path("readyz", views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The JavaScript catalogue (exam page texts): compressed, cached an hour by the browser, per language cookie.
    path("jsi18n/", cache_control(max_age=3600)(vary_on_cookie(gzip_page(JavaScriptCatalog.as_view()))),
         name="javascript-catalog"),
    # Browsers ask for /favicon.ico whatever the page says (the admin's pages name none).
    path("favicon.ico", views.favicon, name="favicon"),
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
    # Short links (/c/<code>/), preview cards and the organisers' share panels (/share/…).
    path("", include("sharing.urls")),
    path("api/v1/", include("api.urls")),  # the read API (docs/api.md)
    path("admin/", admin.site.urls),
]
if settings.SERVE_MEDIA:
    # Public media only (question images and audio); exports live in the private storage, never here.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
