"""Per-request shard: the school named by the request picks the database.

The school comes from, in order: the URL's `code` (pages under /schools/<code>/), the
`school` query parameter, the X-SSAS-School header. Outcomes when sharded:

- an unknown school: 404 (JSON under /api/, text elsewhere);
- a write (POST/PUT/PATCH/DELETE) to a school under a move's freeze: 503 + Retry-After;
- a write after the school moved to another shard while the request ran (SchoolMoved
  from the router: nothing was written): 503 + Retry-After, the retry goes to the new
  shard;
- school data needed but no school named: 400 naming the model (ShardRoutingError from
  the router, turned into a response by `process_exception`).

Not sharded: passes every request through untouched.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from .context import ShardRoutingError, UnknownSchool, enabled, use_school
from .freeze import SchoolFrozen, SchoolMoved, frozen_for

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _error(request, status: int, message: str, **headers) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=status)
    else:
        response = HttpResponse(message + "\n", status=status,
                                content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


def school_named_by(request) -> str | None:
    """The school code a request names (URL `code`, ?school=, X-SSAS-School), or None."""
    try:
        code = resolve(request.path_info).kwargs.get("code")
    except Resolver404:
        code = None
    code = code or request.GET.get("school") or request.headers.get("X-SSAS-School")
    return (code or "").strip() or None


class ShardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enabled():
            return self.get_response(request)
        code = school_named_by(request)
        if code is None:
            return self.get_response(request)
        try:
            with use_school(code):
                if request.method in UNSAFE and (left := frozen_for(code)):
                    return _error(request, 503, str(SchoolFrozen(code, left)),
                                  **{"Retry-After": str(left)})
                return self.get_response(request)
        except UnknownSchool as exc:
            return _error(request, 404, str(exc))

    def process_exception(self, request, exception):
        """School data without a school: 400; a write during a freeze or after the school
        moved away: 503."""
        if isinstance(exception, (SchoolFrozen, SchoolMoved)):
            return _error(request, 503, str(exception),
                          **{"Retry-After": str(exception.retry_after)})
        if isinstance(exception, ShardRoutingError):
            return _error(request, 400, str(exception))
        return None
