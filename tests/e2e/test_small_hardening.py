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
