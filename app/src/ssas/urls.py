from django.contrib import admin
from django.urls import include, path

from ssas.analytics.views import dashboard
from ssas.monitoring.views import health, metrics

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("admin/", admin.site.urls),
    path("api/", include("ssas.api.urls")),
    path("monitoring/health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
]
