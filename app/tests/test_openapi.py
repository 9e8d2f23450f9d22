"""The OpenAPI schema: served to signed-in users, and the committed copy is current."""

import os
import subprocess
import sys
from pathlib import Path

from rest_framework.test import APIClient

APP = Path(__file__).resolve().parent.parent
COMMITTED = APP / "docs" / "openapi.yaml"
# Integer ranges in the schema come from the database backend: the committed schema is the
# one PostgreSQL (what deployments run) gives. Generating needs no server.
REGENERATE = ("SSAS_TEST_DATABASE_URL=postgresql://schema@127.0.0.1:1/schema "
              "python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml")


def test_the_committed_schema_is_what_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.yaml"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test",
           "SSAS_TEST_DATABASE_URL": "postgresql://schema@127.0.0.1:1/schema"}
    result = subprocess.run([sys.executable, str(APP / "manage.py"), "spectacular",
                             "--validate", "--fail-on-warn", "--file", str(generated)],
                            capture_output=True, text=True, env=env, cwd=APP, timeout=120)
    assert result.returncode == 0, result.stderr
    assert generated.read_text() == COMMITTED.read_text(), (
        f"docs/openapi.yaml is stale; in app/: {REGENERATE}")


def test_the_schema_is_served_to_signed_in_users_only(counsellor_client):
    assert APIClient().get("/api/schema/").status_code == 401
    response = counsellor_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/students/", "/api/scores/", "/api/subjects/", "/api/class-averages/"):
        assert f"  {path}:" in text, path
