"""Talk to a deployed SSAS: HTTPS through the load balancer, management commands over SSH."""

import json
import secrets
import shlex
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ssas_deploy.context.build import build
from ssas_deploy.inventory import load_inventory
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import connect, run

# The sandbox's certificate is self-signed: the tests check TLS works, not who signed it.
INSECURE = ssl.create_default_context()
INSECURE.check_hostname = False
INSECURE.verify_mode = ssl.CERT_NONE


class Site:
    def __init__(self, profile: Path, inventory: Path):
        self.deployment = build(load_profile(str(profile)),
                                load_inventory(inventory, load_profile(str(profile))))
        self.lb = self.deployment.topology.first(Role.load_balancer)
        self.base = f"https://{self.lb.address}"
        self.token = ""

    def manage(self, host_role: Role, *args: str, env: dict | None = None) -> str:
        """`ssas-manage ARGS` on the first host of a role, in the app's environment."""
        host = self.deployment.topology.first(host_role)
        client = connect(host, 10)
        try:
            prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
            command = f"env {prefix} ssas-env ssas-manage {shlex.join(args)}"
            rc, out, err = run(client, command)
        finally:
            client.close()
        assert rc == 0, f"ssas-manage {args} on {host.name}: {err}"
        return out.decode()

    def request(self, path: str, method: str = "GET", data: dict | None = None,
                auth: bool = True) -> tuple[int, dict | str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if auth and self.token:
            request.add_header("Authorization", f"Token {self.token}")
        try:
            with urllib.request.urlopen(request, context=INSECURE, timeout=60) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except json.JSONDecodeError:
            return status, text

    def log_in(self, username: str, password: str) -> None:
        status, body = self.request("/api/auth/token/", "POST",
                                    {"username": username, "password": password}, auth=False)
        assert status == 200, body
        self.token = body["token"]

    def staff_tokens(self, prefix: str, count: int) -> list[str]:
        """API tokens of `count` new superusers named PREFIX-1..N (for load: one per user)."""
        tokens, own = [], self.token
        for number in range(1, count + 1):
            password = secrets.token_urlsafe(16)
            name = f"{prefix}-{number}"
            self.manage(Role.web, "createsuperuser", "--noinput", "--username", name,
                        "--email", f"{name}@school.example",
                        env={"DJANGO_SUPERUSER_PASSWORD": password})
            self.log_in(name, password)
            tokens.append(self.token)
        self.token = own or tokens[0]
        return tokens

    def wait_for(self, path: str, done, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.request(path)
            if status == 200 and done(body):
                return body
            assert time.monotonic() < deadline, f"{path} not done in {timeout} s: {body}"
            time.sleep(2)
