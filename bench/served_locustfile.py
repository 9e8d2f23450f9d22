"""The served-speed benchmark's workload (bench/served_speed.py): signed-in staff browsing.

Each locust user signs in with its own API token (SSAS_LOAD_TOKENS, comma-separated, taken
in turn), so the app's per-user throttle is never what is measured, and pages through the
student list and the scores at SSAS_LOAD_RATE requests per second (the benchmark keeps the
total under nginx's per-address API limit, which would otherwise be what is measured).
"""

import itertools
import os

from locust import HttpUser, constant_throughput, task

_TOKENS = itertools.cycle([t for t in os.environ.get("SSAS_LOAD_TOKENS", "").split(",") if t]
                          or [""])


class SignedInStaff(HttpUser):
    wait_time = constant_throughput(float(os.environ.get("SSAS_LOAD_RATE", "10")))

    def on_start(self):
        self.client.verify = False  # the sandbox's self-signed certificate
        token = next(_TOKENS)
        if token:
            self.client.headers["Authorization"] = f"Token {token}"

    @task(3)
    def students(self):
        self.client.get("/api/students/?page_size=20", name="/api/students/")

    @task(2)
    def scores(self):
        self.client.get("/api/scores/?page_size=50", name="/api/scores/")

    @task(1)
    def schools(self):
        self.client.get("/api/schools/", name="/api/schools/")
