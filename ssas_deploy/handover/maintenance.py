"""The guide's maintenance calendar (weekly, monthly, quarterly), with how to do each task on
this deployment.

Each `how` is a str.format template over the keys `calendar_context` returns.
"""

from dataclasses import dataclass

from ssas_deploy.handover.commands import shell_word
from ssas_deploy.profiles.models import Role


@dataclass(frozen=True)
class Task:
    period: str
    text: str  # the guide's wording
    how: str


CALENDAR: tuple[Task, ...] = (
    Task("Weekly", "Database performance analysis",
         "{database_analysis}"),
    Task("Weekly", "Cache hit rate optimization",
         "{cache_check}"),
    Task("Weekly", "Log file cleanup",
         "Check log space on every host (`journalctl --disk-usage`, `du -sh /var/log`); "
         "logrotate and journald rotate the logs."),
    Task("Weekly", "Security update review",
         "Read `/var/log/unattended-upgrades/` on each host and reboot the hosts that have "
         "`/var/run/reboot-required` (one web server at a time)."),
    Task("Monthly", "Full system backup verification",
         "`ssas-deploy backup check --inventory {inventory}` and "
         "`ssas-deploy backup list --inventory {inventory}`: every stanza ok, a recent backup "
         "of each kind."),
    Task("Monthly", "Performance benchmark comparison",
         "Compare response times with the tier's targets: API {api_ms} ms, ML analysis "
         "{ml_ms} ms, {concurrent} concurrent users."),
    Task("Monthly", "Capacity planning review",
         "The profile sizes this deployment for {students} students and {peak} peak "
         "concurrent users; when that changes, `ssas-deploy plan` with the new numbers, and "
         "`ssas-deploy migrate` to a larger tier."),
    Task("Monthly", "Security audit",
         "`ssas-deploy secrets list --inventory {inventory}` (rotate old secrets with "
         "`secrets rotate NAME`, then `apply`); review the accounts with "
         "`ssas-deploy users list --inventory {inventory}` (disable the ones that left with "
         "`users disable NAME`)."),
    Task("Quarterly", "Disaster recovery testing",
         "In a quiet hour (it replaces the live data with the backup's: writes after the "
         "moment are lost), restore to a moment minutes ago and check the site: "
         "`{restore_at}`; `ssas-deploy backup list` first, `handover` afterwards records the "
         "test. A lost database server: `restore --to-host` (the Backups section)."),
    Task("Quarterly", "Infrastructure cost optimization",
         "The profile budgets {cost} a month for this tier; compare with the bills."),
    Task("Quarterly", "Technology stack updates",
         "Deploy a new app build with `ssas-deploy apply ... --wheelhouse DIR` (web servers "
         "roll one at a time); `ssas-deploy rollback --inventory {inventory}` goes back."),
    Task("Quarterly", "Staff training updates",
         "Walk new IT staff through this report and the commands in it."),
)

PERIODS = ("Weekly", "Monthly", "Quarterly")


def calendar_context(deployment, inventory: str, restore_at: str) -> dict[str, str]:
    """The values the `how` templates use, from the deployment and the inventory path."""
    profile = deployment.profile
    db = deployment.topology.first(Role.database)
    if profile.database.engine == "sqlite" or db is None:
        database_analysis = ("SQLite: check the size of the database file and that pages "
                             "stay fast; there is no query statistics view.")
    else:
        database_analysis = (f"On {db.name} ({db.address}): the slowest queries from "
                             f"`pg_stat_statements` (`sudo -u postgres psql "
                             f"{profile.database.name} -c 'SELECT query, calls, "
                             f"mean_exec_time FROM pg_stat_statements ORDER BY "
                             f"total_exec_time DESC LIMIT 20'`).")
    cache = deployment.topology.first(Role.redis_cache)
    if profile.cache == "redis" and cache is not None:
        cache_check = (f"On {cache.name} ({cache.address}): `keyspace_hits` against "
                       "`keyspace_misses` in Redis's `INFO stats`, and `evicted_keys` "
                       "(`redis-cli --user ssas-admin`, with the Redis admin password "
                       "from the vault: the app's user may not run INFO).")
    else:
        cache_check = ("The per-process memory cache has no shared statistics; watch page "
                       "times instead.")
    cost = profile.monthly_cost
    return {
        "inventory": shell_word(inventory),
        "restore_at": restore_at,
        "database_analysis": database_analysis,
        "cache_check": cache_check,
        "api_ms": str(profile.targets.api_ms),
        "ml_ms": str(profile.targets.ml_ms),
        "concurrent": str(profile.targets.concurrent_users),
        "students": str(profile.students),
        "peak": str(profile.peak_concurrent_users),
        "cost": (f"${cost.usd_min:,}-{cost.usd_max:,}" if cost.usd_max is not None
                 else f"${cost.usd_min:,}+"),
    }


def calendar(deployment, inventory: str, restore_at: str) -> list[tuple[Task, str]]:
    """Every task of the calendar with its `how` filled in for this deployment."""
    context = calendar_context(deployment, inventory, restore_at)
    return [(task, task.how.format(**context)) for task in CALENDAR]
