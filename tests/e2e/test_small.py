"""The small tier on one sandbox host: apply from a bare host, use it, re-apply.

A rotated database password is rolled out (through two interrupted applies) in
test_small_interrupts.py.
"""

from .checks import (
    assert_live_hosts_match_render,
    assert_second_apply_changes_nothing,
    seed_and_check_service,
)
from .site_client import Site


def test_apply_from_a_bare_host_serves_ssas(small):
    seed_and_check_service(Site(*small), students=120)


def test_second_apply_changes_nothing(small):
    assert_second_apply_changes_nothing(*small)


def test_live_files_equal_rendered_files(small):
    assert_live_hosts_match_render(*small)
