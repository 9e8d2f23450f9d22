"""The status script's sections, from a real shell: each marker starts its own line."""

import subprocess

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.profiles.models import Role
from ssas_deploy.release_status import parse_sections, status_script

from ..conftest import closed_port


def test_ready_and_load_balancer_sections_stay_apart_on_one_host():
    deployment = build(load_profile("small"))
    host = deployment.topology.first(Role.web)  # also the load balancer on small
    assert host.has(Role.load_balancer)
    host_vars = {**deployment.host_vars[host.name], "gunicorn_bind": f"127.0.0.1:{closed_port()}"}
    output = subprocess.run(["sh", "-c", status_script(host, host_vars)], capture_output=True,
                            text=True, timeout=60).stdout
    sections = parse_sections(output)
    assert sections["ready"].strip() == "000", output
    assert "lb" in sections, output
