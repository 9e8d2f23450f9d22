"""A steady, modest load on a deployed SSAS through its load balancer (locust, headless).

Each user makes `SSAS_LOAD_RATE` requests per second: three health checks for every student
page, signed in with the API token in `SSAS_LOAD_TOKEN`. The API share stays under nginx's
per-client API rate so that what is counted is the rollout, not the rate limit. Any status
>= 400 or connection error is a failure (locust's default).
"""

import os
import secrets

from locust import HttpUser, constant_throughput, task


class SchoolStaff(HttpUser):
    wait_time = constant_throughput(float(os.environ.get("SSAS_LOAD_RATE", "8")))

    def on_start(self):
        # The sandbox's certificate is self-signed: the load checks availability, not trust.
        self.client.verify = False
        # Each user is its own client for nginx's per-session rate limit, like staff members
        # who each sign in (Django ignores the unknown session id).
        self.client.cookies.set("sessionid", secrets.token_hex(16))
        token = os.environ.get("SSAS_LOAD_TOKEN", "")
        if token:
            self.client.headers["Authorization"] = f"Token {token}"

    @task(3)
    def health(self):
        self.client.get("/health/", name="/health/")

    @task(1)
    def students(self):
        self.client.get("/api/students/?page_size=5", name="/api/students/")
