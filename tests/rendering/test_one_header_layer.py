"""One security-header layer: nginx sends HSTS, nosniff, X-Frame-Options, Referrer-Policy,
COOP and the rest (templates/nginx/ssas.conf.j2); the rendered Django settings send none of
them, and `check --deploy` stays clean (test_validators) with those checks silenced."""

import json
import re
import subprocess
import sys
import textwrap

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment, write_tree

from .test_routes import need_app
from .test_validators import app_environment, private_addresses

NGINX_HEADERS = ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
                 "Referrer-Policy", "Cross-Origin-Opener-Policy"]

REQUEST = textwrap.dedent("""
    import json
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client
    response = Client().get("/monitoring/live/", secure=True,
                            HTTP_HOST=settings.ALLOWED_HOSTS[0])
    print(json.dumps([response.status_code, dict(response.headers)]))
""")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    profile = load_profile("small")
    files = render_deployment(build(profile, private_addresses(profile)))
    out = tmp_path_factory.mktemp("small")
    write_tree(files, out)
    [item] = [f for f in files if f.spec.dest.endswith("ssas_settings.py")][:1]
    [site] = {f.content for f in files if f.spec.dest.endswith("conf.d/ssas.conf")}
    return out / item.host, site if isinstance(site, str) else site.decode()


def test_nginx_sends_the_headers_the_rendered_django_settings_do_not(rendered):
    need_app()
    host_tree, site = rendered
    for header in NGINX_HEADERS:
        assert re.search(rf"^\s*add_header {header} .* always;$", site, re.M), header
    result = subprocess.run([sys.executable, "-c", REQUEST], capture_output=True, text=True,
                            env=app_environment(host_tree), timeout=120)
    assert result.returncode == 0, result.stderr
    status, headers = json.loads(result.stdout.splitlines()[-1])
    assert status == 200, (status, headers)
    sent = {name.lower() for name in headers}
    assert sent.isdisjoint(h.lower() for h in NGINX_HEADERS), headers
    assert "Django does not repeat them" not in site
