"""What this deployment can show about itself, gathered once for the report.

Everything comes from the profile and inventory (through the built deployment), files beside
the inventory (the last-apply record, the vault's existence: never its contents) and, unless
offline, the backup host's live backup list.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ssas_deploy.profiles.models import Role


@dataclass(frozen=True)
class BackupState:
    """The backups as the backup host lists them.

    `database_count` / `files_count` are None when unknown, and `unknown` then says why
    (offline, unreachable, no backup host). Times are 'YYYY-MM-DD HH:MM:SS UTC' strings.
    """

    database_count: int | None = None
    files_count: int | None = None
    last_database: str | None = None  # e.g. "2026-11-29 01:30:02 UTC (full, stanza ssas)"
    last_files: str | None = None
    unknown: str | None = None

    @property
    def known(self) -> bool:
        """True when the backup host answered."""
        return self.unknown is None

    @property
    def present(self) -> bool | None:
        """True when the repository holds any backup, None when that is unknown."""
        if not self.known:
            return None
        return bool(self.database_count or self.files_count)


@dataclass(frozen=True)
class Facts:
    """The evidence the checklists are judged on.

    `deployed`: the last apply (or rollback) recorded beside the inventory succeeded;
    `deployed_at` its time. `db_tls`: how app servers reach PostgreSQL: 'require' (every
    network connection enforces TLS), 'prefer' (some only prefer it), 'local' (no network
    connection) or 'sqlite'. `api_rate` / `ml_rate`: nginx's request limits ('' without
    nginx). `load_tested` and `monitoring` are False until the product has those steps.
    `last_restore`: the record of the last successful `restore` beside the inventory
    (release_status.read_last_restore: time, point, to_host, tables, rows, seconds), or None.
    """

    deployed: bool
    deployed_at: str | None
    vault_exists: bool
    tls: str
    cache: str
    db_tls: str
    api_rate: str
    ml_rate: str
    security_updates: bool
    automatic_reboot: bool
    has_backup_host: bool
    backups: BackupState
    generated_at: str
    load_tested: bool = False
    monitoring: bool = False
    last_restore: dict | None = None


def utc(epoch: float) -> str:
    """UNIX seconds -> 'YYYY-MM-DD HH:MM:SS UTC'."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def database_tls(deployment) -> str:
    """'sqlite', 'local', 'require' or 'prefer' from the app hosts' rendered DATABASES."""
    if deployment.profile.database.engine == "sqlite":
        return "sqlite"
    modes = set()
    for variables in deployment.host_vars.values():
        for alias in variables.get("ssas_django_databases", {}).values():
            if alias.get("HOST") not in ("127.0.0.1", "localhost"):
                modes.add(alias.get("OPTIONS", {}).get("sslmode"))
    if not modes:
        return "local"
    return "require" if modes == {"require"} else "prefer"


def _first_vars(deployment, role: Role) -> dict:
    host = deployment.topology.first(role)
    return deployment.host_vars.get(host.name, {}) if host else {}


def _deployed(record: dict | None) -> tuple[bool, str | None]:
    if not record or record.get("result") != "ok":
        return False, None
    when = record.get("time")
    return True, utc(when) if isinstance(when, int | float) else None


def gather_facts(deployment, inventory: Path, backups: BackupState,
                 now: Callable[[], float] | None = None) -> Facts:
    """The Facts of `deployment` (built with `inventory`), given its `backups` state.

    Reads only the last-apply and last-restore records and whether the vault file exists;
    never raises for a missing or unreadable record (that is "not deployed", "no restore").
    """
    import time

    from ssas_deploy.release_status import read_last_apply, read_last_restore
    from ssas_deploy.secrets import vault_path_for

    deployed, deployed_at = _deployed(read_last_apply(Path(inventory)))
    lb = _first_vars(deployment, Role.load_balancer)
    web = _first_vars(deployment, Role.web)
    return Facts(
        deployed=deployed,
        deployed_at=deployed_at,
        vault_exists=vault_path_for(Path(inventory)).exists(),
        tls=deployment.profile.site.tls,
        cache=deployment.profile.cache,
        db_tls=database_tls(deployment),
        api_rate=str(lb.get("nginx_api_rate", "")),
        ml_rate=str(lb.get("nginx_ml_rate", "")),
        security_updates=bool(web.get("common_unattended_upgrades_enabled")),
        automatic_reboot=bool(web.get("common_unattended_upgrades_automatic_reboot")),
        has_backup_host=deployment.topology.first(Role.backup) is not None,
        backups=backups,
        generated_at=utc((now or time.time)()),
        last_restore=read_last_restore(Path(inventory)),
    )
