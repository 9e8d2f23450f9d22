"""The batch job's progress bar (app charts.js) in a real headless Chromium: it keeps polling
through a refused (429) or failed status request, says so instead of "undefined", waits as
long as Retry-After asks, and stops once the job is done.

The page and the status endpoint are served on loopback by this test; the script is the
app's own file, unchanged.
"""

import itertools
import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .test_validators import need

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "app/src/ssas/analytics/static/ssas/charts.js"
PAGE = """<!doctype html><html><body>
<section data-batch-status="/status"><progress max="1" value="0"></progress>
<p data-batch-text></p></section>
<script src="/charts.js"></script></body></html>"""


def job(status: str, done: int) -> dict:
    return {"status": status, "total_students": 10, "processed_students": done,
            "anomalies_found": 1, "error": ""}


# What the status endpoint answers, request by request; the last one repeats.
ANSWERS = [(429, {"Retry-After": "2"}, None), (500, {}, None),
           (200, {}, job("running", 5)), (200, {}, job("done", 10))]


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.polls: list[float] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        if self.path == "/":
            self._send(200, {"Content-Type": "text/html"}, PAGE.encode())
        elif self.path == "/charts.js":
            self._send(200, {"Content-Type": "text/javascript"}, SCRIPT.read_bytes())
        elif self.path == "/status":
            polls = self.server.polls
            polls.append(time.monotonic())
            status, headers, body = ANSWERS[min(len(polls), len(ANSWERS)) - 1]
            payload = json.dumps(body).encode() if body else b'{"detail": "slow down"}'
            self._send(status, {"Content-Type": "application/json", **headers}, payload)
        else:
            self._send(404, {}, b"")

    def _send(self, status, headers, body):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def browser():
    need("chromium", "chromedriver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(
        executable_path=shutil.which("chromedriver")))
    yield driver
    driver.quit()


def test_progress_survives_refused_and_failed_polls_and_stops_when_done(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}/")
        text = browser.find_element(By.CSS_SELECTOR, "[data-batch-text]")
        WebDriverWait(browser, 10).until(lambda _: "rate limit" in text.text)
        assert "undefined" not in text.text
        WebDriverWait(browser, 10).until(lambda _: "HTTP 500" in text.text)
        assert "rate limit" not in text.text  # each message replaces the last one
        WebDriverWait(browser, 40).until(
            lambda _: browser.find_element(By.TAG_NAME, "section").get_attribute(
                "data-state") == "done")
        assert text.text == "done: 10 of 10 students, 1 anomalies"
        bar = browser.find_element(By.TAG_NAME, "progress")
        assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("10", "10")
        polls = list(server.polls)
        time.sleep(4)  # longer than the poll interval: a finished job is not asked again
        assert len(server.polls) == len(polls) == len(ANSWERS)
        gaps = [b - a for a, b in itertools.pairwise(polls)]
        # Retry-After: 2 s after the 429; 10 s after the 500; 3 s between running polls.
        assert 1.8 <= gaps[0] < 5, gaps
        assert 9 <= gaps[1] < 14, gaps
        assert 2.8 <= gaps[2] < 6, gaps
    finally:
        server.shutdown()
