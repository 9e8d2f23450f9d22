"""The small tier on one sandbox host: apply from a bare host, use it, re-apply, rotate."""


from ssas_deploy.profiles.models import Role

from .checks import (
    assert_live_hosts_match_render,
    assert_second_apply_changes_nothing,
    changed_tasks,
    seed_and_check_service,
)
from .conftest import cli
from .site_client import Site


def test_apply_from_a_bare_host_serves_ssas(small):
    seed_and_check_service(Site(*small), students=120)


def test_second_apply_changes_nothing(small):
    assert_second_apply_changes_nothing(*small)


def test_live_files_equal_rendered_files(small):
    assert_live_hosts_match_render(*small)


def test_rotated_database_password_reaches_every_use(small):
    profile, inventory = small
    site = Site(profile, inventory)
    cli("secrets", "rotate", "db_password", "--inventory", str(inventory))
    applied = cli("apply", "--profile", str(profile), "--inventory", str(inventory), "--force")
    assert changed_tasks(applied.stdout) > 0
    # The app reconnects with the new password: health says the database is fine.
    status, health = site.request("/health/", auth=False)
    assert status == 200 and health["checks"]["database"]["default"] == "ok", health
    # And nothing is left to change anywhere (secrets.env, PostgreSQL's role).
    assert_live_hosts_match_render(profile, inventory)
    assert site.manage(Role.web, "check", "--database", "default") is not None
