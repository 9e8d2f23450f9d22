"""ml_cache access that never fails a request: a cache outage only costs recomputation."""

import logging

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)
_MISS = object()


def cached(key: str, compute):
    cache = caches["ml_cache"]
    try:
        value = cache.get(key, _MISS)
    except Exception:  # noqa: BLE001 - any backend error means "miss"
        log.warning("ml_cache read failed for %s", key, exc_info=True)
        value = _MISS
    if value is not _MISS:
        return value
    value = compute()
    try:
        cache.set(key, value, settings.SSAS_ML_CACHE_TIMEOUT)
    except Exception:  # noqa: BLE001
        log.warning("ml_cache write failed for %s", key, exc_info=True)
    return value
