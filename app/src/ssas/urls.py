from django.contrib import admin
from django.urls import include, path

from ssas.analytics.views import dashboard
from ssas.monitoring.views import health, live, metrics, ready

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("accounts/", include("ssas.accounts.urls")),
    path("", include("ssas.analytics.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("ssas.api.urls")),
    path("monitoring/health/", health, name="health"),
    path("monitoring/ready/", ready, name="ready"),
    path("monitoring/live/", live, name="live"),
    path("metrics", metrics, name="metrics"),
]
