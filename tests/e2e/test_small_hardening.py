"""Hardening of the small tier, probed live: TLS by sslyze against Mozilla's intermediate
configuration, the ports that answer from outside, who runs what, systemd's sandboxing in
effect, and an SSH server that takes keys only (while `apply` keeps working with its key)."""

from .checks import assert_second_apply_changes_nothing
from .hardening import (
    assert_daemons_run_unprivileged,
    assert_only_expected_ports_answer,
    assert_owasp_headers,
    assert_services_sandboxed,
    assert_ssh_takes_keys_only,
)
from .site_client import Site
from .tls_scan import SELF_SIGNED_FINDING, mozilla_intermediate_findings


def test_tls_is_mozilla_intermediate_but_for_the_self_signed_certificate(small):
    site = Site(*small)
    findings = mozilla_intermediate_findings(site.lb.address)
    print(f"\nsslyze findings (Mozilla intermediate): {sorted(findings)}")
    assert set(findings) == {SELF_SIGNED_FINDING}, findings


def test_only_ssh_and_https_answer_from_outside(small):
    seen = assert_only_expected_ports_answer(Site(*small))
    print(f"\nports answering from outside: { {h: sorted(p) for h, p in seen.items()} }")


def test_services_run_sandboxed_and_unprivileged(small):
    site = Site(*small)
    scores = assert_services_sandboxed(site)
    print(f"\nsystemd-analyze security (live): {scores}")
    assert_daemons_run_unprivileged(site)


def test_ssh_takes_keys_only_and_apply_still_gets_in(small):
    assert_ssh_takes_keys_only(Site(*small))
    # A new apply connects afresh with the inventory's key and changes nothing.
    assert_second_apply_changes_nothing(*small)


def test_owasp_headers_once_on_every_kind_of_response(small):
    assert_owasp_headers(Site(*small), "/static/ssas/charts.js")


def test_a_changed_host_key_is_refused_on_every_ssh_path(small, tmp_path):
    """plan --inventory (paramiko) and apply (OpenSSH) both check `<inventory>.known_hosts`:
    with the pinned key swapped for another, neither connects, and both say why."""
    import subprocess

    from ssas_deploy.inventory import known_hosts_for

    from .conftest import cli

    profile, inventory = small
    known_hosts = known_hosts_for(inventory)
    pinned = known_hosts.read_text()
    assert pinned.strip(), "the first apply and the checks pinned the hosts' keys"
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    other_key = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    swapped = [" ".join([line.split()[0], other_key]) for line in pinned.splitlines()
               if line.strip() and not line.startswith("#")]
    try:
        known_hosts.write_text("\n".join(swapped) + "\n")
        planned = cli("plan", "--profile", str(profile), "--inventory", str(inventory),
                      check=False)
        assert planned.returncode != 0
        assert "is not the one pinned in" in planned.stdout + planned.stderr, \
            planned.stdout[-2000:] + planned.stderr[-2000:]
        applied = cli("apply", "--profile", str(profile), "--inventory", str(inventory),
                      "--force", check=False)
        assert applied.returncode != 0
        assert "task(s) changed" not in applied.stdout
    finally:
        known_hosts.write_text(pinned)
