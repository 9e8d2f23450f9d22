"""Per-user request limits inside the app, counted in a cache every worker shares.

nginx limits per client address (what a client cannot forge), sized for a whole school
behind one NAT address; these limit each signed-in user. The counts live in the `throttle`
cache when the settings define one (Redis on multi-server tiers, files on the one-server
tier: every gunicorn worker sees the same counts), else in `default`.
"""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle


class SharedCache:
    @property
    def cache(self):
        return caches["throttle" if "throttle" in settings.CACHES else "default"]


class UserThrottle(SharedCache, UserRateThrottle):
    """Every API call of a user (rate `user`)."""

    scope = "user"


class MLThrottle(SharedCache, UserRateThrottle):
    """The CPU-heavy ML routes of a user (rate `ml`). A view that has it is an ML route,
    which the load balancer's ML location must match (ssas-deploy tests this)."""

    scope = "ml"


class MLPageThrottle(SharedCache, UserRateThrottle):
    """The staff pages that run ML work (a student's page, a school's overview), per user
    (rate `ml_page`, above `ml`: a teacher reads many students in a row). Past it a page
    shows without its analyses (ssas.analytics.pages)."""

    scope = "ml_page"
