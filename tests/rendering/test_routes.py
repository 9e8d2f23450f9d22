"""Every URL the bundled app serves lands in the load balancer's right route class: the ML
location matches exactly the app's ML routes (the views with its ML throttle)."""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from ssas_deploy.context.routes import ML_LOCATION

# Walks the app's URL patterns; prints [path with sample values, is an ML route] for each.
WALK = textwrap.dedent("""
    import json, re, uuid
    import django
    django.setup()
    from django.urls import get_resolver, URLPattern, URLResolver
    from ssas.api.throttles import MLThrottle

    SAMPLE = {"int": "7", "uuid": str(uuid.uuid4()), "slug": "north-high", "str": "10A",
              "path": "a/b"}

    def sample(route):
        route = re.sub(r"\\(\\?P<\\w+>[^)]*\\)", "7", route)  # the routers' regex groups
        route = re.sub(r"<(?:(\\w+):)?\\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
        return route.lstrip("^").rstrip("$").replace("\\\\", "")

    def is_ml(callback):
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if cls is None:
            return False
        actions = getattr(callback, "actions", None) or {}
        handlers = [getattr(cls, name, None) for name in actions.values()] or [cls]
        for handler in handlers:
            kwargs = getattr(handler, "kwargs", {}) or {}
            classes = kwargs.get("throttle_classes") or getattr(cls, "throttle_classes", [])
            if any(issubclass(c, MLThrottle) for c in classes):
                return True
        return False

    def walk(patterns, prefix=""):
        for p in patterns:
            if "format" in str(p.pattern):  # DRF's .json suffix twins of each route
                continue
            route = prefix + sample(str(p.pattern))
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            else:
                yield "/" + route, is_ml(p.callback)

    print(json.dumps(sorted(set(walk(get_resolver().url_patterns)))))
""")


def test_the_ml_location_matches_exactly_the_apps_ml_routes():
    pytest.importorskip("ssas", reason="the SSAS app is installed by scripts/test.sh")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test"}
    result = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    routes = json.loads(result.stdout)
    ml = {path for path, is_ml in routes if is_ml}
    assert {"/api/anomalies/", "/api/analysis/batch/", "/api/students/7/careers/",
            "/api/models/training/"} <= ml, sorted(ml)
    location = re.compile(ML_LOCATION)
    wrong = [(path, is_ml) for path, is_ml in routes
             if bool(location.search(path)) != is_ml]
    assert wrong == [], "route class differs from the app's throttles: " + str(wrong)
