import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from .metrics import DB_QUERY_TIME, REQUEST_COUNT, REQUEST_LATENCY

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _time_query(execute, sql, params, many, context):
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        DB_QUERY_TIME.observe(time.perf_counter() - start)


def status_class(code: int) -> str:
    """`2xx`, `4xx`, `5xx`...: the `status` label (a handful of values, not one per code)."""
    return f"{code // 100}xx" if 100 <= code <= 599 else "other"


class MetricsMiddleware:
    """Counts requests per URL *pattern* (bounded label values) and times them and their SQL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        with connection.execute_wrapper(_time_query):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = match.route if match else "<unmatched>"
        method = request.method if request.method in _METHODS else "OTHER"
        REQUEST_COUNT.labels(method=method, endpoint=endpoint,
                             status=status_class(response.status_code)).inc()
        REQUEST_LATENCY.observe(time.perf_counter() - start)
        return response


class ActiveUserMiddleware:
    """Records when a user was last seen, at most once a minute per user (gated by the cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF sets it here for token/basic auth too
        if user is not None and user.is_authenticated:
            self._touch(user.pk)
        return response

    @staticmethod
    def _touch(user_id) -> None:
        from .models import UserActivity

        try:
            fresh = cache.add(f"active-user:{user_id}", 1, 60)
        except Exception:  # noqa: BLE001 - metrics must never fail a request
            return
        if fresh:
            UserActivity.objects.update_or_create(
                user_id=user_id, defaults={"last_seen": timezone.now()})


def active_user_count() -> int:
    from .models import UserActivity

    since = timezone.now() - timezone.timedelta(seconds=settings.SSAS_ACTIVE_USER_WINDOW)
    return UserActivity.objects.filter(last_seen__gte=since).count()
