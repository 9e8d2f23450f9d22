"""The key of the rendered nginx rate limits: an IPv4 client's address, an IPv6 client's /64
(a client with a whole /64 cannot rotate through it to dodge the limits).

Runs the rendered `map` in a throwaway nginx on a loopback port that takes the client
address from X-Forwarded-For (realip), so any IPv4 or IPv6 address can be tried."""

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment

from .test_validators import private_addresses


def rendered_site() -> str:
    profile = load_profile("small")
    files = render_deployment(build(profile, private_addresses(profile)))
    [conf] = {f.content for f in files if f.spec.dest.endswith("conf.d/ssas.conf")}
    return conf if isinstance(conf, str) else conf.decode()


def test_every_nginx_rate_limit_is_keyed_on_the_client_key():
    site = rendered_site()
    zones = re.findall(r"^limit_req_zone (\S+) zone=(\w+)", site, re.M)
    assert {name for _, name in zones} >= {"ssas_api", "ssas_ml", "ssas_login", "ssas_pages"}
    assert {key for key, _ in zones} == {"$ssas_client"}, zones


@pytest.fixture
def nginx_with_the_rendered_map(tmp_path):
    if not shutil.which("nginx"):
        if os.environ.get("CI"):
            pytest.fail("nginx missing in CI")
        pytest.skip("nginx missing; run scripts/test.sh to install it")
    [client_map] = re.findall(r"^map \$binary_remote_addr \$ssas_client \{\n.*?^\}",
                              rendered_site(), re.M | re.S)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off;
    {temp}
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
{client_map}
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "$ssas_client"; }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                                "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.05)

        def key(address: str) -> bytes:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/",
                                             headers={"X-Forwarded-For": address})
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read()
        yield key
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_nginx_keys_ipv6_clients_on_their_64_and_ipv4_clients_on_their_address(
        nginx_with_the_rendered_map):
    key = nginx_with_the_rendered_map
    # Every address of one /64 is one client, whatever its interface id (bytes 0x0a included:
    # a newline must not end the match).
    same64 = ["2001:db8:a0a:a::1", "2001:db8:a0a:a:ffff:ffff:ffff:ffff", "2001:db8:a0a:a::",
              "2001:db8:a0a:a:a0a:a0a:a0a:a0a"]
    assert {key(a) for a in same64} == {ipaddress.ip_address(same64[0]).packed[:8]}
    assert key("2001:db8:a0a:b::1") != key("2001:db8:a0a:a::1")
    # IPv4: each address on its own.
    for address in ("10.1.2.3", "10.1.10.3", "192.0.2.255"):
        assert key(address) == ipaddress.ip_address(address).packed
    assert key("10.1.2.3") != key("10.1.2.4")
