"""The OpenAPI schema: served to signed-in users, and the committed copy is current."""

from pathlib import Path

from django.core.management import call_command
from rest_framework.test import APIClient

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


def test_the_committed_schema_is_what_the_code_generates(tmp_path, db):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert generated.read_text() == COMMITTED.read_text(), (
        "docs/openapi.yaml is stale: python manage.py spectacular --file docs/openapi.yaml")


def test_the_schema_is_served_to_signed_in_users_only(counsellor_client):
    assert APIClient().get("/api/schema/").status_code == 401
    response = counsellor_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/students/", "/api/scores/", "/api/subjects/", "/api/class-averages/"):
        assert f"  {path}:" in text, path
