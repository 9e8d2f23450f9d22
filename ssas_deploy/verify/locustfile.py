"""The workload of `ssas-deploy verify`, run by locust (headless, in its own process).

Each locust user is one signed-in teacher of the verify school (SSAS_VERIFY_TOKENS,
comma-separated, one per user, taken in turn) who pages through students, opens a
student's scores, and asks for the ML analyses (careers, predicted performance, peers) of
students of that school (SSAS_VERIFY_STUDENTS). Every request names the school
(SSAS_VERIFY_SCHOOL, `?school=`), as a sharded deployment needs to route it. Think time
1-5 s per user, as staff reading pages: the request rate follows the number of users. The
names group requests per endpoint, as the report shows them.
"""

import itertools
import os
import random

from locust import HttpUser, between, task

_TOKENS = itertools.cycle([t for t in os.environ.get("SSAS_VERIFY_TOKENS", "").split(",") if t]
                          or [""])
_STUDENTS = [int(s) for s in os.environ.get("SSAS_VERIFY_STUDENTS", "").split(",") if s]
_SCHOOL = f"school={os.environ.get('SSAS_VERIFY_SCHOOL', '')}"


class Teacher(HttpUser):
    wait_time = between(1, 5)

    def on_start(self):
        # The site's certificate may be self-signed; verify talks only to the inventory's
        # load balancer address.
        self.client.verify = False
        self.client.headers["Authorization"] = f"Token {next(_TOKENS)}"

    def _student(self) -> int:
        return random.choice(_STUDENTS)

    @task(4)
    def students(self):
        self.client.get(f"/api/students/?page_size=20&{_SCHOOL}", name="/api/students/")

    @task(3)
    def scores(self):
        self.client.get(f"/api/students/{self._student()}/scores/?{_SCHOOL}",
                        name="/api/students/{id}/scores/")

    @task(1)
    def careers(self):
        self.client.get(f"/api/students/{self._student()}/careers/?{_SCHOOL}",
                        name="/api/students/{id}/careers/")

    @task(1)
    def prediction(self):
        self.client.get(f"/api/students/{self._student()}/prediction/?{_SCHOOL}",
                        name="/api/students/{id}/prediction/")

    @task(1)
    def peers(self):
        self.client.get(f"/api/students/{self._student()}/peers/?{_SCHOOL}",
                        name="/api/students/{id}/peers/")
