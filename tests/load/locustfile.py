"""A steady, modest load on a deployed SSAS through its load balancer (locust, headless).

Each user makes `SSAS_LOAD_RATE` requests per second: seven health checks for every student
page, signed in with its own API token from `SSAS_LOAD_TOKENS` (comma-separated, taken in
turn), like staff members who each sign in. The API share per user stays under nginx's
per-session rate and the app's per-user throttle, so that what is counted is the change under
test, not a rate limit. Any status >= 400 or connection error is a failure (locust's default).
"""

import itertools
import os

from locust import HttpUser, constant_throughput, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

_TOKENS = itertools.cycle([t for t in os.environ.get("SSAS_LOAD_TOKENS", "").split(",") if t]
                          or [""])


class SchoolStaff(HttpUser):
    wait_time = constant_throughput(float(os.environ.get("SSAS_LOAD_RATE", "8")))

    def on_start(self):
        # The sandbox's certificate is self-signed: the load checks availability, not trust.
        self.client.verify = False
        # Like browsers, retry an idempotent GET once when the server closed a reused
        # keep-alive connection before answering (nginx closes idle ones when it reloads).
        # Only GETs are sent; an answered error status is never retried.
        retry = Retry(total=1, connect=1, read=1, status=0, other=0,
                      allowed_methods=frozenset({"GET"}), raise_on_status=False)
        self.client.mount("https://", HTTPAdapter(max_retries=retry))
        token = next(_TOKENS)
        if token:
            self.client.headers["Authorization"] = f"Token {token}"

    @task(7)
    def health(self):
        self.client.get("/health/", name="/health/")

    @task(1)
    def students(self):
        self.client.get("/api/students/?page_size=5", name="/api/students/")
