import logging

from django.db import connection, connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from . import readiness
from .health import run_checks
from .metrics import ACTIVE_USERS, DB_CONNECTIONS, render
from .middleware import active_user_count

log = logging.getLogger(__name__)


@never_cache
@require_GET
def health(request):
    body, status = run_checks()
    return JsonResponse(body, status=status)


@never_cache
@require_safe
def ready(request):
    """200 when this process can serve at full speed, else 503 with the reason."""
    body = readiness.warm_up()
    return JsonResponse(body, status=200 if body["status"] == readiness.READY else 503)


@never_cache
@require_safe
def live(request):
    """The process answers HTTP. Touches no database, cache or model, on purpose."""
    return JsonResponse({"status": "alive"})


def _db_connections() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]
    return sum(1 for c in connections.all(initialized_only=True) if c.connection is not None)


@never_cache
@require_GET
def metrics(request):
    # Gauges computed at scrape time; a database outage must not break the scrape.
    try:
        ACTIVE_USERS.set(active_user_count())
        DB_CONNECTIONS.set(_db_connections())
    except Exception:  # noqa: BLE001
        log.warning("could not refresh database gauges", exc_info=True)
    payload, content_type = render()
    return HttpResponse(payload, content_type=content_type)
