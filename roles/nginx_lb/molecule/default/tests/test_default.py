"""Verify the nginx_lb role on a real (containerised) Debian 12 host.

Converge applied profile small's web-1 host variables (``ssas-deploy hostvars``); the
upstream is the stand-in backend of prepare.yml on 127.0.0.1:8000.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).resolve().parents[1]
# The repository root: the shared testinfra helpers live in tests/molecule_support.py.
sys.path.insert(0, str(SCENARIO.parents[2]))
from tests.molecule_support import kill_9_and_wait_for_restart  # noqa: E402
ROLE = SCENARIO.parents[1]
REPO = ROLE.parents[1]
CONTAINER = "ssas-molecule-nginx_lb"
CHECKER = "/usr/local/sbin/ssas-nginx-check"
CANDIDATES = "/var/lib/ssas-nginx/candidate"
CONFIGS = ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/ssas.conf", "/etc/nginx/ssas_proxy_params"]
DROPIN = "/etc/systemd/system/nginx.service.d/ssas-restart.conf"
SANDBOXING = "/etc/systemd/system/nginx.service.d/ssas-sandboxing.conf"
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
    ),
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}
BACKEND_HEALTH = '{"backend": "molecule", "status": "ok"}'


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "ssas_deploy", *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def hostvars():
    return json.loads(cli("hostvars", "--profile", "small", "--host", "web-1"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """`ssas-deploy render --profile small`: {path: (manifest entry, bytes)} for web-1."""
    out = tmp_path_factory.mktemp("render")
    cli("render", "--profile", "small", "--out", str(out))
    entries = json.loads((out / "manifest.json").read_text())["files"]
    return {
        e["path"]: (e, (out / "web-1" / e["path"].lstrip("/")).read_bytes())
        for e in entries
        if e["host"] == "web-1" and e["service"] == "nginx"
    }


def curl(host, *args):
    return host.run("curl -sS --max-time 10 " + " ".join(args))


def response_headers(host, url):
    """Header (lower-case name) -> list of values, of a GET."""
    out = curl(host, "-k -o /dev/null -D -", url)
    assert out.rc == 0, out.stderr
    headers = {}
    for line in out.stdout.splitlines()[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers


def container_address(host):
    """What converge used as ssas_address (Ansible's default IPv4 address)."""
    return host.interface("eth0", "inet").addresses[0]


def test_nginx_running_and_enabled(host):
    assert host.package("nginx").is_installed
    nginx = host.service("nginx")
    assert nginx.is_running
    assert nginx.is_enabled


def test_nginx_listens_only_on_http_and_https(host):
    out = host.check_output("ss -Hltnp")
    nginx = sorted({line.split()[3] for line in out.splitlines() if '"nginx"' in line})
    assert nginx == sorted(["0.0.0.0:80", "[::]:80", "0.0.0.0:443", "[::]:443"]), out
    for spec in ("tcp://0.0.0.0:80", "tcp://0.0.0.0:443", "tcp://:::80", "tcp://:::443"):
        assert host.socket(spec).is_listening, spec


@pytest.mark.parametrize("path", [*CONFIGS, DROPIN, SANDBOXING])
def test_config_equals_cli_render(host, rendered, path):
    entry, content = rendered[path]
    config = host.file(path)
    assert config.user == entry["owner"]
    assert config.group == entry["group"]
    assert config.mode == int(entry["mode"], 8)
    assert config.content == content


def test_cli_renders_exactly_these_nginx_files(rendered):
    assert sorted(rendered) == sorted([*CONFIGS, DROPIN, SANDBOXING])


def test_debian_default_site_removed(host):
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_configuration_valid(host):
    assert host.run("nginx -t -q").rc == 0
    # e.g. "[alert] setrlimit(RLIMIT_NOFILE, 2048) failed" when the sizing does not fit.
    log = host.file("/var/log/nginx/error.log").content_string
    assert "[alert]" not in log and "[emerg]" not in log, log


def test_certificate_and_key(host, hostvars):
    key = host.file(hostvars["nginx_tls_certificate_key"])
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    cert = host.file(hostvars["nginx_tls_certificate"])
    assert (cert.user, cert.group, cert.mode) == ("root", "root", 0o644)
    address = container_address(host)
    text = host.check_output(f"openssl x509 -noout -subject -ext subjectAltName -in {cert.path}")
    assert f"CN = {hostvars['nginx_server_name']}" in text
    assert f"DNS:{hostvars['nginx_server_name']}" in text
    assert f"IP Address:{address}" in text
    # The certificate belongs to the key.
    cert_pub = host.check_output(f"openssl x509 -noout -pubkey -in {cert.path}")
    key_pub = host.check_output(f"openssl pkey -pubout -in {key.path}")
    assert cert_pub == key_pub


def test_https_proxies_health_to_backend(host):
    out = curl(host, "-k https://127.0.0.1/health/")
    assert out.rc == 0, out.stderr
    assert out.stdout == BACKEND_HEALTH


def test_http_health_for_load_balancer_checks(host):
    assert curl(host, "http://127.0.0.1/health/").stdout == BACKEND_HEALTH


def test_https_proxies_app_with_forwarded_headers(host):
    body = json.loads(curl(host, "-k -H 'Host: ssas.school.internal' https://127.0.0.1/students/").stdout)
    assert body == {
        "path": "/students/",
        "host": "ssas.school.internal",
        "x_forwarded_proto": "https",
        "x_real_ip": "127.0.0.1",
    }


def test_http2(host):
    assert curl(host, "-k --http2 -o /dev/null -w '%{http_version}' https://127.0.0.1/health/").stdout == "2"


def test_http_redirects_to_https(host):
    out = curl(host, "-o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1/students/?page=2")
    assert out.stdout == "301 https://127.0.0.1/students/?page=2"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/health/",  # proxied: the app's own copies are hidden
        "https://127.0.0.1/api/students/",
        "https://127.0.0.1/static/css/ssas-check.css",  # served by nginx
        "https://127.0.0.1/metrics",  # 404 from nginx
    ],
)
def test_security_headers_exactly_once(host, url):
    headers = response_headers(host, url)
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == [value], (name, headers)
    assert "x-xss-protection" not in headers
    assert "server" not in headers  # headers-more drops it


def test_static_files_from_archive(host):
    css = host.file("/var/www/ssas/static/css/ssas-check.css")
    assert css.user == "root"
    assert css.mode == 0o644
    out = curl(host, "-k https://127.0.0.1/static/css/ssas-check.css")
    assert out.stdout == "body { font-family: sans-serif; }\n"


def test_tls_1_1_refused(host):
    # SECLEVEL=0 lets the client offer TLS 1.1, so the refusal is the server's.
    out = host.run(
        "openssl s_client -connect 127.0.0.1:443 -servername ssas.school.internal "
        "-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' < /dev/null"
    )
    assert out.rc != 0, out.stdout
    assert "Cipher is (NONE)" in out.stdout, out.stdout
    assert curl(host, "-k --tlsv1.1 --tls-max 1.1 https://127.0.0.1/health/").rc != 0


def test_tls_1_2_and_1_3_accepted(host):
    for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        out = host.run(f"openssl s_client -connect 127.0.0.1:443 -servername ssas.school.internal {flag} < /dev/null")
        assert out.rc == 0, out.stderr
        assert f"Protocol  : {name}" in out.stdout or f"New, {name}," in out.stdout
    assert curl(host, "-k --tlsv1.2 --tls-max 1.2 https://127.0.0.1/health/").stdout == BACKEND_HEALTH


def test_checker_rejects_broken_candidate(host):
    """The `validate:` command refuses a broken nginx.conf; nothing live changes."""
    before = {path: host.file(path).sha256sum for path in CONFIGS}
    host.run("sed 's/worker_connections [0-9]*;/worker_connections abc;/' /etc/nginx/nginx.conf > /tmp/broken.conf")
    out = host.run(f"{CHECKER} /tmp/broken.conf /etc/nginx/nginx.conf {CANDIDATES}")
    assert out.rc != 0
    assert 'invalid number "abc"' in out.stderr and "/etc/nginx/nginx.conf" in out.stderr, out.stderr
    assert "ssas-nginx-check." not in out.stderr  # paths reported as /etc/nginx/...
    # The same checker accepts the live file.
    assert host.run(f"{CHECKER} /etc/nginx/nginx.conf /etc/nginx/nginx.conf {CANDIDATES}").rc == 0
    assert {path: host.file(path).sha256sum for path in CONFIGS} == before


def test_checker_sees_other_candidate_files(host):
    """A site that includes a missing proxy params file fails, though it parses alone."""
    host.run("rm -rf /tmp/tree && mkdir -p /tmp/tree && echo 'proxy_set_header;' > /tmp/tree/ssas_proxy_params")
    out = host.run(f"{CHECKER} /etc/nginx/conf.d/ssas.conf /etc/nginx/conf.d/ssas.conf /tmp/tree")
    assert out.rc != 0
    assert "/etc/nginx/ssas_proxy_params" in out.stderr, out.stderr


def test_broken_value_never_replaces_working_config(host, hostvars, tmp_path):
    """Run the role's configure tasks with a value nginx rejects (bypassing the argument
    specs and preflight that would normally stop it first): the play fails at `validate:`,
    the live files stay as they were and nginx keeps serving."""
    before = {path: host.file(path).sha256sum for path in CONFIGS}
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({**hostvars, "nginx_worker_connections": "abc"}))
    playbook = tmp_path / "broken.yml"
    playbook.write_text(
        "- hosts: all\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - ansible.builtin.include_role:\n"
        "        name: nginx_lb\n"
        "        tasks_from: configure\n"
        "      vars:\n"
        "        nginx_lb_packages_result: {changed: false}\n"
    )
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(REPO / "roles"), "ANSIBLE_NOCOLOR": "1"}
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i", f"{CONTAINER},", "-c", "containers.podman.podman",
            "-e", f"@{vars_file}", "-e", f"ssas_address={container_address(host)}", str(playbook),
        ],
        capture_output=True, text=True, env=env, check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "Install the nginx configuration once nginx -t accepts it" in output
    assert 'invalid number "abc"' in output, output
    assert {path: host.file(path).sha256sum for path in CONFIGS} == before
    assert host.service("nginx").is_running
    assert host.run("nginx -t -q").rc == 0
    assert curl(host, "-k https://127.0.0.1/health/").stdout == BACKEND_HEALTH


def test_restart_dropin_is_live(host):
    """systemd has read the drop-in (the role's handler reloaded it)."""
    assert DROPIN in host.check_output("systemctl show -P DropInPaths nginx.service")
    assert host.check_output("systemctl show -P Restart nginx.service") == "on-failure"
    assert host.check_output("systemctl show -P NeedDaemonReload nginx.service") == "no"


def test_sandboxing_dropin_is_live_and_scores_ok(host):
    """systemd runs nginx with the sandboxing drop-in; its exposure is at most 2.5."""
    assert SANDBOXING in host.check_output("systemctl show -P DropInPaths nginx.service")
    assert host.check_output("systemctl show -P ProtectSystem nginx.service") == "strict"
    report = host.check_output("systemd-analyze security --no-pager nginx.service")
    score = float(report.rsplit("Overall exposure level for nginx.service:", 1)[1].split()[0])
    assert score <= 2.5, report
    assert curl(host, "-k https://127.0.0.1/health/").stdout == BACKEND_HEALTH


# Last: it kills nginx.
def test_restarts_after_kill_9(host):
    """Debian's unit has no Restart=; the role's drop-in brings nginx back on its own.

    systemd SIGKILLs the killed master's orphaned workers (KillMode=mixed), waits until they are
    gone (at most Debian's TimeoutStopSec=5), then RestartSec later starts nginx again.
    """
    kill_9_and_wait_for_restart(host, "nginx.service")
    assert curl(host, "-k https://127.0.0.1/health/").stdout == BACKEND_HEALTH


def test_tls_curves_are_mozilla_intermediate_only(host):
    connect = "openssl s_client -connect 127.0.0.1:443 -servername ssas.school.internal -tls1_2"
    for curve in ("X25519", "prime256v1", "secp384r1"):
        assert host.run(f"{connect} -curves {curve} < /dev/null").rc == 0, curve
    refused = host.run(f"{connect} -curves secp521r1 < /dev/null")
    assert refused.rc != 0, refused.stdout


def test_self_signed_certificate_is_valid_at_most_366_days(host, hostvars):
    # -checkend N: exit 0 when the certificate is still valid N seconds from now.
    check = f"openssl x509 -noout -in {hostvars['nginx_tls_certificate']} -checkend"
    assert host.run(f"{check} {300 * 86400}").rc == 0
    assert host.run(f"{check} {367 * 86400}").rc == 1


# Last in this file: it uses up the sign-in zone's burst for 127.0.0.1.
SIGN_IN_BURST_PROBE = r"""
import http.client, json, ssl, sys
context = ssl._create_unverified_context()
connection = http.client.HTTPSConnection("127.0.0.1", 443, context=context, timeout=10)
codes = {}
for path in sys.argv[1:]:
    for n in range(40):
        # A new made-up session cookie and forwarded address on every request: neither may
        # be what the limit counts.
        connection.request("GET", path, headers={
            "Cookie": f"sessionid=forged{n}", "X-Forwarded-For": f"198.51.100.{n}"})
        response = connection.getresponse()
        response.read()
        codes.setdefault(path, []).append(response.status)
print(json.dumps(codes))
"""


def test_sign_in_limit_counts_the_client_not_its_cookie(host, hostvars):
    """40 quick sign-in requests per path from one address, each with its own forged cookie
    and X-Forwarded-For: past the zone's burst nginx answers 429, whichever sign-in path
    (the app's, the admin's, password reset) is asked."""
    paths = ["/accounts/login/", "/admin/login/", "/accounts/password_reset/"]
    out = host.run("python3 -c " + shlex.quote(SIGN_IN_BURST_PROBE) + " " + " ".join(paths))
    assert out.rc == 0, out.stderr
    codes = json.loads(out.stdout)
    burst = hostvars["nginx_login_burst"]
    first = codes[paths[0]]
    # burst + 1 at once, and one more per 60 s / rate while the probe runs (well under a second).
    assert first.count(200) <= burst + 2, first
    assert first.count(429) >= 40 - burst - 2, first
    for path in paths[1:]:  # the same zone, already spent
        assert codes[path].count(429) >= 38, (path, codes[path])
    assert set(first) | set(codes[paths[1]]) | set(codes[paths[2]]) <= {200, 429}
