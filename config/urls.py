from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.routers import SimpleRouter
from rest_framework_nested.routers import NestedSimpleRouter

from campaigns.api import CampaignViewSet
from clients.api import ClientMembersViewSet, ClientViewSet, MeView
from config import health
from config.auth import LogoutView, RefreshView, ThrottledTokenObtainPairView, admin_login
from config.metrics_access import restrict_metrics
from config.parsers import JSONParser
from videogen.live.views import JobEventsView
from videogen.observability import metrics_view

# The trailing slash is optional: a POST to `/clients` must not become a body-less 301.
router = SimpleRouter()
router.trailing_slash = "/?"
router.register("clients", ClientViewSet, basename="client")
router.register("campaigns", CampaignViewSet, basename="campaign")
members_router = NestedSimpleRouter(router, "clients", lookup="client")
members_router.register("members", ClientMembersViewSet, basename="client-members")

# The API takes JSON; the token endpoints also take the usual form encodings (curl -d, HTML forms).
TOKEN_PARSERS = [JSONParser, FormParser, MultiPartParser]

api_v2 = [
    path("auth/token", ThrottledTokenObtainPairView.as_view(parser_classes=TOKEN_PARSERS), name="token-obtain"),
    path("auth/token/refresh", RefreshView.as_view(parser_classes=TOKEN_PARSERS), name="token-refresh"),
    path("auth/logout", LogoutView.as_view(parser_classes=TOKEN_PARSERS), name="logout"),
    path("me", MeView.as_view(), name="me"),
    path("", include("videogen.api.urls")),
    # Live updates sit above the API (they stream its job document): routed here, not in videogen.api.
    path("jobs/<int:job_id>/events", JobEventsView.as_view(), name="job-events"),
    path("", include(router.urls)),
    path("", include(members_router.urls)),
]

urlpatterns = [
    path("api/v2/", include(api_v2)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/login/", admin_login),  # before admin.site.urls: the same view, with attempt limits
    path("admin/", admin.site.urls),
    path("media/signed/", include("videogen.api.media_urls")),
    # django-prometheus's own view reads one process; this one merges web and workers (multiprocess mode).
    path("metrics", restrict_metrics(metrics_view), name="prometheus-django-metrics"),
]

handler400 = "config.errors.json_400"
handler403 = "config.errors.json_403"
handler404 = "config.errors.json_404"
handler500 = "config.errors.json_500"
