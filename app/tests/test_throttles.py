"""Per-user limits: the ML routes have their own, counted in the shared `throttle` cache."""

import pytest
from django.core.cache import caches

from ssas.api.throttles import MLThrottle, UserThrottle


@pytest.fixture
def tight(monkeypatch, settings):
    settings.CACHES = {**settings.CACHES, "throttle": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}}
    rates = {"ml": "2/min", "user": "1000/hour"}
    monkeypatch.setattr(MLThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserThrottle, "THROTTLE_RATES", rates)
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def test_ml_routes_stop_a_user_at_the_ml_rate(trained, counsellor, counsellor_client, tight):
    assert [counsellor_client.get("/api/anomalies/").status_code for _ in range(3)] == [
        200, 200, 429]
    # Other routes still answer, and the counts are in the shared cache.
    assert counsellor_client.get("/api/students/").status_code == 200
    assert caches["throttle"].get(f"throttle_ml_{counsellor.pk}")
