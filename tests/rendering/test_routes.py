"""Every URL the bundled app serves lands in the load balancer's right route class.

The app's URL patterns are walked (with sample values) and each path is put through the
rendered nginx site's locations, matched the way nginx matches them: the ML location gets
exactly the app's ML routes (views with its ML throttle, or that call into ssas.ml.service
or ssas.ml.tasks), the sign-in location exactly the views that check a password or send a
reset mail, and every other route a rate-limited location. Only static files, health and
`return` locations (never proxied) have no limit."""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment

from .test_validators import private_addresses

# Walks the app's URL patterns; prints [path with sample values, ML reason, is sign-in].
WALK = textwrap.dedent("""
    import inspect, json, re, types, uuid
    import django
    django.setup()
    from django.contrib.admin.sites import AdminSite
    from django.contrib.auth.views import LoginView, PasswordChangeView, PasswordResetView
    from django.urls import get_resolver, URLPattern, URLResolver
    from rest_framework.authtoken.views import ObtainAuthToken
    from ssas.api.throttles import MLThrottle

    SAMPLE = {"int": "7", "uuid": str(uuid.uuid4()), "slug": "north-high", "str": "10A",
              "path": "a/b", "drf_format_suffix": "json"}
    ML_MODULES = {"ssas.ml.service", "ssas.ml.tasks"}
    SIGN_IN = (LoginView, PasswordResetView, PasswordChangeView, ObtainAuthToken)

    def sample(route):
        route = re.sub(r"\\(\\?P<\\w+>[^)]*\\)", "7", route)  # the routers' regex groups
        route = re.sub(r"<(?:(\\w+):)?\\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), route)
        route = route.lstrip("^").rstrip("$").replace("/?", "/")
        return route.replace("\\\\", "")

    def names(code):
        yield from code.co_names
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from names(const)

    def calls_ml(func, seen):
        # Whether func (or an ssas function it names) names ssas.ml.service or ssas.ml.tasks.
        func = inspect.unwrap(getattr(func, "__func__", func))
        code = getattr(func, "__code__", None)
        if code is None or func in seen:
            return ""
        seen.add(func)
        for name in set(names(code)):
            obj = func.__globals__.get(name)
            if isinstance(obj, types.ModuleType) and obj.__name__ in ML_MODULES:
                return f"{func.__qualname__} uses {obj.__name__}"
            module = getattr(obj, "__module__", None) or ""
            if callable(obj) and module in ML_MODULES:
                return f"{func.__qualname__} calls {module}.{name}"
            if inspect.isfunction(obj) and module.startswith("ssas."):
                found = calls_ml(obj, seen)
                if found:
                    return found
        return ""

    def handlers(callback):
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if cls is None:
            return None, [callback]
        actions = getattr(callback, "actions", None) or {}
        methods = actions.values() or ["get", "post", "put", "patch", "delete"]
        return cls, [h for h in (getattr(cls, m, None) for m in methods) if h is not None]

    def ml_reason(callback):
        cls, funcs = handlers(callback)
        for handler in funcs:
            kwargs = getattr(handler, "kwargs", {}) or {}
            classes = kwargs.get("throttle_classes") or getattr(cls, "throttle_classes", [])
            if any(issubclass(c, MLThrottle) for c in classes):
                return "MLThrottle"
            found = calls_ml(handler, set())
            if found:
                return found
        return ""

    def is_sign_in(callback):
        cls, funcs = handlers(callback)
        if cls is not None:
            return issubclass(cls, SIGN_IN)
        admin = (AdminSite.login, AdminSite.password_change)
        return any(getattr(f, "__func__", None) in admin
                   for f in (callback, getattr(callback, "__wrapped__", None)))

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + sample(str(p.pattern))
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            else:
                yield "/" + route, ml_reason(p.callback), is_sign_in(p.callback)

    print(json.dumps(sorted(set(walk(get_resolver().url_patterns)))))
""")

# The app's health report (behind the load balancer's /health/, no rate limit there).
HEALTH = {"/monitoring/health/"}
LOCATION = re.compile(r"^    location\s+(?:(=|~|\^~)\s+)?(\S+)\s*\{\n(.*?)^    \}", re.M | re.S)


def need_app():
    """The app is installed by scripts/test.sh: in CI its absence is a failure."""
    try:
        import ssas  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("the SSAS app is not importable in CI (scripts/test.sh installs it)")
        pytest.skip("the SSAS app is installed by scripts/test.sh")


def app_routes() -> list[tuple[str, str, bool]]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test"}
    result = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return [tuple(route) for route in json.loads(result.stdout)]


def https_locations() -> list[tuple[str, str, str]]:
    """(modifier, pattern, body) of each location of the rendered HTTPS server, in order."""
    profile = load_profile("small")
    files = render_deployment(build(profile, private_addresses(profile)))
    [conf] = {f.content for f in files if f.spec.dest.endswith("conf.d/ssas.conf")}
    text = conf if isinstance(conf, str) else conf.decode()
    https = text[text.index("listen 443"):]
    return [(m.group(1) or "", m.group(2), m.group(3)) for m in LOCATION.finditer(https)]


def nginx_location(path: str, locations):
    """The location nginx picks for `path`: exact, then the longest prefix unless it is ^~,
    then the first regex that matches, else that longest prefix."""
    for loc in locations:
        if loc[0] == "=" and loc[1] == path:
            return loc
    prefixes = [loc for loc in locations if loc[0] in ("", "^~") and path.startswith(loc[1])]
    longest = max(prefixes, key=lambda loc: len(loc[1]), default=None)
    if longest is not None and longest[0] == "^~":
        return longest
    for loc in locations:
        if loc[0] == "~" and re.search(loc[1], path):
            return loc
    return longest


def zone(location) -> str:
    found = re.search(r"limit_req zone=(\w+)", location[2])
    return found.group(1) if found else ""


def unlimited_is_allowed(location) -> bool:
    """Static files, health, and locations that answer without the app."""
    body = location[2]
    return ("alias " in body or "proxy_pass http://ssas_health/" in body
            or re.search(r"^\s*return ", body, re.M) is not None)


def test_every_route_the_app_serves_is_in_its_route_class():
    need_app()
    routes = app_routes()
    locations = https_locations()
    ml = {path for path, reason, _ in routes if reason}
    assert {"/api/anomalies/", "/api/analysis/batch/", "/api/students/7/careers/",
            "/api/models/training/", "/students/7/", "/schools/north-high/batch/"} <= ml, ml
    sign_in = {path for path, _, signs_in in routes if signs_in}
    assert {"/accounts/login/", "/admin/login/", "/accounts/password_reset/",
            "/accounts/password_change/", "/admin/password_change/",
            "/api/auth/token/"} <= sign_in, sign_in
    wrong = []
    for path, reason, signs_in in routes:
        if path in HEALTH:
            reason = ""  # asks ssas.ml.service for the models' state: no ML work
        location = nginx_location(path, locations)
        assert location is not None, path
        want = "ssas_ml" if reason else "ssas_login" if signs_in else None
        got = zone(location)
        if want and got != want:
            wrong.append((path, reason or "sign-in", f"location {location[1]} {got or 'no limit'}"))
        if not want and got in ("ssas_ml", "ssas_login"):
            wrong.append((path, "not ML/sign-in", f"location {location[1]} {got}"))
        if not got and not unlimited_is_allowed(location):
            wrong.append((path, "no rate limit", f"location {location[1]}"))
    assert wrong == [], "routes in the wrong class: " + "\n".join(map(str, wrong))


def test_only_static_health_and_return_locations_have_no_rate_limit():
    for location in https_locations():
        assert zone(location) or unlimited_is_allowed(location), location[:2]


def test_the_route_classes_pick_these_paths():
    """The matcher above (and the location regexes) on known paths, app or not."""
    locations = https_locations()
    expect = {"/api/students/7/careers/": "ssas_ml", "/api/students/7/": "ssas_api",
              "/students/7/": "ssas_ml", "/schools/x/batch/": "ssas_ml",
              "/schools/x/classes/10A/": "ssas_pages", "/admin/login/": "ssas_login",
              "/accounts/login/": "ssas_login", "/accounts/password_reset/": "ssas_login",
              "/api/auth/token/": "ssas_login", "/": "ssas_pages", "/static/x.css": "",
              "/health/": ""}
    assert {path: zone(nginx_location(path, locations)) for path in expect} == expect
