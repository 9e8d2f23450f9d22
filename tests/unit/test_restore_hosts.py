"""restore.hosts: the exact shell a restore runs (what the way-back commands print too)."""

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.profiles.models import Role
from ssas_deploy.restore.hosts import (
    media_restore_command,
    restore_command,
    units_of_app,
    units_of_pooler,
)
from ssas_deploy.restore.plan import MediaTarget, StanzaTarget


def test_restore_command_recreates_the_directory_and_quotes_the_target():
    host = load_deployment("small", None).topology.first(Role.database)
    target = StanzaTarget("ssas", host, None, ("--type=time",
                                               "--target=2026-11-30 10:15:00+00",
                                               "--target-action=promote"))
    assert restore_command(target) == (
        "install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/15/main && "
        "cd / && runuser -u postgres -- pgbackrest --stanza=ssas --delta --type=time "
        "'--target=2026-11-30 10:15:00+00' --target-action=promote "
        "--log-level-console=warn restore")


def test_media_is_restored_beside_and_renamed_into_place():
    host = load_deployment("small", None).topology.first(Role.web)
    command = media_restore_command(MediaTarget(host, "abc123", "2026-11-30T10:00:00Z"))
    assert "ssas-restic restore abc123 --target /var/lib/ssas/.media-restore" in command
    assert command.index("mv /var/lib/ssas/media /var/lib/ssas/.media-before-restore") < \
        command.index("mv /var/lib/ssas/.media-restore/var/lib/ssas/media /var/lib/ssas/media")
    assert command.endswith("rm -rf /var/lib/ssas/.media-restore "
                            "/var/lib/ssas/.media-before-restore")


def test_units_per_host_kind():
    deployment = load_deployment("very-large", None)
    workers = deployment.topology.with_role(Role.celery_worker)
    assert sum("ssas-celery-beat.service" in units_of_app(deployment.host_vars[h.name])
               for h in workers + deployment.topology.with_role(Role.web)) == 1
    pooled = [h.name for h in deployment.topology.hosts
              if units_of_pooler(deployment.host_vars[h.name])]
    assert pooled, "very-large runs PgBouncer somewhere"
