"""`api_sample`: the API's answers for a sample of students, read-only, as digests.

    ssas-manage api_sample [--students N] [--json]

Calls the API views in-process (no HTTP, no login, no session: an unsaved superuser is
forced onto each request, so nothing is written, not even the activity record) for the
student list and, for N students spread over the id range, their detail, scores,
careers, peers and prediction. Prints {path: {"status": int, "sha256": hex}} so two
deployments (e.g. before and after a tier migration) can be compared even while the
source's web servers are stopped. Bodies are canonical JSON (sorted keys) before hashing.
"""

import hashlib
import json

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.urls import resolve
from rest_framework.test import APIRequestFactory, force_authenticate

from ssas.students.models import Student

ACTIONS = ("", "scores/", "careers/", "peers/", "prediction/")
# Links in the answers (pagination) name this host, so they are the same for every
# deployment whatever its server name.
SAMPLE_HOST = "api-sample.invalid"


def sample_paths(students: int) -> list[str]:
    """API paths for `students` students spread evenly over the ids (plus the list)."""
    ids = list(Student.objects.order_by("pk").values_list("pk", flat=True))
    if ids and students > 0:
        step = max(1, len(ids) // students)
        ids = ids[::step][:students]
    else:
        ids = []
    paths = ["/api/students/?page_size=25&ordering=id", "/api/class-averages/"]
    return paths + [f"/api/students/{pk}/{action}" for pk in ids for action in ACTIONS]


def answer(path: str) -> dict:
    """{"status": HTTP status, "sha256": digest of the canonical JSON body} for one GET."""
    request = APIRequestFactory().get(path, HTTP_HOST=SAMPLE_HOST)
    reader = User(username="api-sample", is_superuser=True, is_staff=True, is_active=True)
    force_authenticate(request, user=reader)
    match = resolve(path.split("?")[0])
    response = match.func(request, *match.args, **match.kwargs)
    response.render()
    try:
        body = json.dumps(json.loads(response.content), sort_keys=True)
    except ValueError:
        body = response.content.decode(errors="replace")
    return {"status": response.status_code,
            "sha256": hashlib.sha256(body.encode()).hexdigest()}


class Command(BaseCommand):
    help = "Digests of the API's answers for a sample of students (read-only)."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=10)
        parser.add_argument("--json", action="store_true", help="(always JSON; for symmetry)")

    def handle(self, *args, **options):
        with override_settings(ALLOWED_HOSTS=[SAMPLE_HOST]):
            result = {path: answer(path) for path in sample_paths(options["students"])}
        self.stdout.write(json.dumps(result, indent=1, sort_keys=True))
