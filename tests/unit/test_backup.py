"""Backups: the profile's backup host and section, the context and the rendered configs."""

import json
import secrets
from pathlib import Path

import pytest

from ssas_deploy.backups import Listing, parse_info
from ssas_deploy.cli.backup_cmd import human_bytes
from ssas_deploy.context.build import build
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.loader import load_profile, load_profile_with_warnings
from ssas_deploy.profiles.models import Role
from ssas_deploy.rendering import MASK, SECRET_NAMES, render_deployment

REPO = Path(__file__).resolve().parents[2]
SECRETS = {"django_secret_key": "k" * 64, "db_password": "d" * 43,
           "redis_cache_password": "c" * 43, "redis_broker_password": "b" * 43,
           "redis_admin_password": "a" * 43, "redis_replication_password": "r" * 43,
           "redis_sentinel_password": "s" * 43,
           "backup_cipher_pass": "CIPHER-" + "x" * 57, "restic_password": "RESTIC-" + "y" * 57}


def files_of(deployment, secrets=None):
    return {(f.host, f.spec.dest): f for f in render_deployment(deployment, secrets)}


@pytest.mark.parametrize("name", ["small", "medium", "large", "very-large"])
def test_every_builtin_profile_has_a_dedicated_backup_host(name):
    deployment = build(load_profile(name))
    backups = deployment.topology.with_role(Role.backup)
    assert [h.name for h in backups] == ["backup-1"]
    assert backups[0].roles == frozenset({Role.backup})
    assert backups[0].hardware.disk_gib >= 1000  # the guide's "1 TB backup storage"


def test_small_stays_a_single_server_profile_with_its_backup_host():
    """sqlite and the local cache need one server; the backup host does not count."""
    profile, warnings = load_profile_with_warnings("small")
    assert warnings == []
    assert profile.cache == "local"


def test_small_context_wires_database_backup_host_and_media():
    deployment = build(load_profile("small"))
    web, repo = deployment.host_vars["web-1"], deployment.host_vars["backup-1"]
    assert web["backup_is_database"] and web["backup_is_files_client"]
    assert not web["backup_is_repository"]
    assert web["backup_pgbackrest_stanza"] == "ssas"
    settings = web["postgresql_settings"]
    assert settings["archive_mode"] == "on"
    assert settings["archive_command"] == "'pgbackrest --stanza=ssas archive-push %p'"
    assert web["backup_restic_paths"] == ["/var/lib/ssas/media"]
    assert web["backup_restic_repository"] == "sftp:ssas-restic@backup-1:/var/lib/ssas-restic/web-1"
    assert repo["backup_is_repository"]
    assert repo["backup_stanzas"] == [{"name": "ssas", "host": "web-1", "address": "web-1",
                                       "ssh_port": 22, "members": [
                                           {"name": "web-1", "host": "web-1",
                                            "address": "web-1", "ssh_port": 22}]}]
    assert repo["backup_restic_clients"] == [{"name": "web-1", "address": "web-1",
                                              "ssh_port": 22}]
    assert repo["backup_full_on_calendar"] == "Sun *-*-* 01:30:00"
    assert repo["backup_full_retention"] == 2
    assert "postgresql_settings" not in repo


def test_very_large_backs_up_the_cluster_from_any_member_and_every_shard():
    deployment = build(load_profile("very-large"))
    repo = deployment.host_vars["backup-1"]
    assert [s["name"] for s in repo["backup_stanzas"]] == [
        "ssas", "ssas-shard-0", "ssas-shard-1", "ssas-shard-2", "ssas-shard-3"]
    assert [s["host"] for s in repo["backup_stanzas"]] == [
        "db-1", "db-shard-1", "db-shard-2", "db-shard-3", "db-shard-4"]
    # Any Patroni member may lead: each is one of the stanza's pg hosts...
    assert [[m["host"] for m in s["members"]] for s in repo["backup_stanzas"]] == [
        ["db-1", "db-replica-1", "db-replica-2"], ["db-shard-1"], ["db-shard-2"],
        ["db-shard-3"], ["db-shard-4"]]
    shard = deployment.host_vars["db-shard-2"]["postgresql_settings"]
    assert shard["archive_command"] == "'pgbackrest --stanza=ssas-shard-1 archive-push %p'"
    # ...and archives to the stanza while it leads (archive_mode = on archives only then).
    for member in ("db-1", "db-replica-1", "db-replica-2"):
        hv = deployment.host_vars[member]
        assert hv["postgresql_settings"]["archive_mode"] == "on", member
        assert hv["postgresql_settings"]["archive_command"] == \
            "'pgbackrest --stanza=ssas archive-push %p'", member
        assert hv["backup_is_database"] and hv["backup_pgbackrest_stanza"] == "ssas", member
    every_secret = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    conf = files_of(deployment, every_secret)[("backup-1",
                                               "/etc/pgbackrest/pgbackrest.conf")].content
    stanza = conf.split("[ssas]\n", 1)[1].split("\n[", 1)[0]
    assert [line for line in stanza.splitlines() if line.endswith(("-host=db-1",
            "-host=db-replica-1", "-host=db-replica-2"))] == [
        "pg1-host=db-1", "pg2-host=db-replica-1", "pg3-host=db-replica-2"]
    assert "pg4-" not in stanza
    replica_conf = files_of(deployment)[("db-replica-2", "/etc/pgbackrest/pgbackrest.conf")]
    assert "repo1-host=backup-1\n" in replica_conf.content
    assert "[ssas]\npg1-path=/var/lib/postgresql/15/main\n" in replica_conf.content
    # Media live on every app host's own disk: one restic repository each.
    clients = {c["name"] for c in repo["backup_restic_clients"]}
    assert clients == {h.name for h in deployment.topology.hosts
                       if h.has(Role.web) or h.has(Role.celery_worker)}


def test_backup_section_overrides_schedules_and_retention(write_profile):
    path = write_profile("name: st-marys\nextends: large\nbackup:\n  full_retention: 4\n"
                         "  diff_on_calendar: '*-*-* 03:00:00'\n  files_keep_daily: 30\n")
    deployment = build(load_profile(str(path)))
    files = files_of(deployment, SECRETS)
    conf = files[("backup-1", "/etc/pgbackrest/pgbackrest.conf")].content
    assert "repo1-retention-full=4\n" in conf
    timer = files[("backup-1", "/etc/systemd/system/ssas-pgbackrest-diff-ssas.timer")].content
    assert "OnCalendar=*-*-* 03:00:00\n" in timer
    unit = files[("web-1", "/etc/systemd/system/ssas-restic-backup.service")].content
    assert "--keep-daily 30 --keep-weekly 8 --prune" in unit


def test_repository_key_only_on_the_backup_host_and_masked_in_render():
    deployment = build(load_profile("large"))
    real = files_of(deployment, SECRETS)
    repo_conf = real[("backup-1", "/etc/pgbackrest/pgbackrest.conf")]
    assert f"repo1-cipher-pass={SECRETS['backup_cipher_pass']}\n" in repo_conf.content
    assert "repo1-cipher-type=aes-256-cbc\n" in repo_conf.content
    assert repo_conf.spec.secret and repo_conf.spec.mode == "0640"
    assert (repo_conf.spec.owner, repo_conf.spec.group) == ("root", "pgbackrest")
    db_conf = real[("db-1", "/etc/pgbackrest/pgbackrest.conf")]
    assert "cipher" not in db_conf.content
    assert "repo1-host=backup-1\n" in db_conf.content
    env = real[("web-2", "/etc/ssas/restic/restic.env")]
    assert env.spec.mode == "0600" and env.spec.secret
    for (_, _), item in real.items():
        if not item.spec.secret:
            assert SECRETS["backup_cipher_pass"] not in item.content
            assert SECRETS["restic_password"] not in item.content
    masked = files_of(deployment)
    assert f"repo1-cipher-pass={MASK}" in masked[("backup-1",
                                                  "/etc/pgbackrest/pgbackrest.conf")].content


def test_no_backup_host_warns_and_adds_nothing(write_profile):
    text = (REPO / "sizing_profiles/small.yaml").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("  backup:"))
    profile, warnings = load_profile_with_warnings(str(write_profile(text)))
    assert any("no hosts.backup" in str(w) for w in warnings)
    deployment = build(profile)
    assert not any(k.startswith("backup_") for k in deployment.host_vars["web-1"])
    assert "archive_mode" not in deployment.host_vars["web-1"]["postgresql_settings"]


def test_old_retention_field_is_accepted_with_a_warning(write_profile):
    path = write_profile("name: old\nextends: small\ndatabase:\n  backup_retention_days: 14\n")
    _, warnings = load_profile_with_warnings(str(path))
    assert any("database.backup_retention_days" in str(w) and "deprecated" in str(w)
               for w in warnings)


def test_nothing_may_share_the_backup_host(write_profile):
    path = write_profile("name: bad\nextends: large\nhosts:\n  celery_worker: "
                         "{colocate: backup}\n")
    with pytest.raises(InvalidInputError) as caught:
        load_profile_with_warnings(str(path))
    assert "backup host keeps only backups" in str(caught.value)


def test_bad_calendar_is_refused(write_profile):
    path = write_profile("name: bad\nextends: small\nbackup:\n  full_on_calendar: 'Sun; rm'\n")
    with pytest.raises(InvalidInputError) as caught:
        load_profile_with_warnings(str(path))
    assert "backup.full_on_calendar" in str(caught.value)


@pytest.mark.parametrize(("schedule", "why"), [
    ("Mon..Fri 25:00", "Bad hour"),
    ("*-02-30 00:00", "never runs"),
])
def test_a_schedule_that_cannot_run_is_refused_at_its_line(write_profile, schedule, why):
    """The alert rules walk the schedules when rendering: a bad one is refused by validate
    (exit 2 at its line), not found by render."""
    path = write_profile(f"name: bad\nextends: small\nbackup:\n  files_on_calendar: '{schedule}'\n")
    with pytest.raises(InvalidInputError) as caught:
        load_profile_with_warnings(str(path))
    assert f"{path}:4: backup.files_on_calendar" in str(caught.value)
    assert why in str(caught.value)


def test_the_usual_schedule_forms_are_accepted(write_profile):
    path = write_profile("name: ok\nextends: small\nbackup:\n  full_on_calendar: weekly\n"
                         "  diff_on_calendar: 'Mon..Sat 02:00'\n"
                         "  files_on_calendar: '*-*-* 03:30:00'\n")
    profile, _ = load_profile_with_warnings(str(path))
    assert profile.backup.full_on_calendar == "weekly"


def test_pgbackrest_info_is_parsed_into_rows():
    text = json.dumps([{
        "name": "ssas", "status": {"code": 0, "message": "ok"},
        "backup": [{"label": "20261130-104501F", "type": "full",
                    "timestamp": {"start": 1796035501, "stop": 1796035509},
                    "info": {"size": 31_000_000, "delta": 31_000_000,
                             "repository": {"size": 4_100_000, "delta": 4_100_000}},
                    "archive": {"start": "000000010000000000000003",
                                "stop": "000000010000000000000004"}}]}])
    listing = Listing()
    assert parse_info(text, listing) == ["ssas"]
    (row,) = listing.backups
    assert (row.type, row.duration_s, row.repo_size) == ("full", 8, 4_100_000)
    assert row.wal_start.endswith("03") and row.wal_stop.endswith("04")
    assert listing.stanzas == {"ssas": "ok"}
    assert human_bytes(31_000_000) == "29.6 MiB"
