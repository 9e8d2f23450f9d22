"""The plan as a document (for --json) and as rich tables (for people)."""

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from ssas_deploy.context.build import Deployment
from ssas_deploy.drift import HostDrift
from ssas_deploy.high_availability import ha_layout
from ssas_deploy.profiles.models import HostSpec, Role
from ssas_deploy.rendering import RenderedFile, manifest
from ssas_deploy.sizing.derived import Derived


def plan_document(deployment: Deployment, files: list[RenderedFile],
                  drift: list[HostDrift] | None = None) -> dict:
    profile = deployment.profile
    document = {
        "profile": profile.name,
        "tier": profile.tier.value,
        "students": profile.students,
        "staff": profile.staff,
        "peak_concurrent_users": profile.peak_concurrent_users,
        "targets": profile.targets.model_dump(),
        "monthly_cost_usd": profile.monthly_cost.model_dump(),
        "hosts": [
            {
                "name": h.name,
                "address": h.address,
                "roles": sorted(r.value for r in h.roles),
                "cpu_cores": h.hardware.cpu_cores,
                "ram_gib": h.hardware.ram_gib,
                "disk_gib": h.hardware.disk_gib,
                "storage": h.hardware.storage,
                "settings": {
                    service: {name: _derived_document(d) for name, d in settings.items()}
                    for service, settings in deployment.sizing.hosts[h.name].explained().items()
                },
            }
            for h in deployment.topology.hosts
        ],
        "files": manifest(files),
        "high_availability": ha_layout(deployment),
    }
    if drift is not None:
        document["live"] = [
            {
                "host": h.host,
                "error": h.error or None,
                "changes": [{"path": f.path, "status": f.status, "diff": f.diff}
                            for f in h.changes],
                "services": h.services(),
            }
            for h in drift
        ]
    return document


def _derived_document(derived: Derived) -> dict:
    """{"value", "formula", "source"}, plus "derived" (the same shape) when overridden."""
    out = {"value": derived.value, "formula": derived.formula, "source": derived.source}
    if derived.derived is not None:
        out["derived"] = _derived_document(derived.derived)
    return out


def print_plan(console: Console, deployment: Deployment, files: list[RenderedFile],
               explain: bool) -> None:
    profile = deployment.profile
    console.print(f"Profile {profile.name} (tier {profile.tier.value}): "
                  f"{profile.students:,} students, {profile.staff:,} staff, "
                  f"{profile.peak_concurrent_users:,} peak concurrent users")
    console.print(_topology_table(deployment))
    console.print(_targets_table(deployment))
    backups = _backups_table(deployment)
    if backups is not None:
        console.print(backups)
    if explain:
        print_ha_layout(console, ha_layout(deployment))
        console.print(_alerts_table(deployment))
    for host in deployment.topology.hosts:
        if not deployment.sizing.hosts[host.name].explained():
            continue  # nothing derived from its hardware (the backup host)
        if explain:
            _print_explained(console, deployment, host.name)
        else:
            console.print(_settings_table(deployment, host.name))
    console.print(_files_table(files))


def _alerts_table(deployment: Deployment) -> Table:
    """The alert rules' thresholds and where each comes from (ssas_deploy/monitoring.py)."""
    from ssas_deploy.monitoring import RENDER_PATH, alert_rows

    table = Table("alert", "warning", "critical", "source",
                  title=f"Alert rules (render: {RENDER_PATH})")
    for row in alert_rows(deployment):
        table.add_row(*row)
    return table


def _topology_table(deployment: Deployment) -> Table:
    table = Table("host", "address", "roles", "cores", "RAM GiB", "disk GiB", "storage",
                  title="Topology")
    for h in deployment.topology.hosts:
        table.add_row(h.name, h.address, ", ".join(sorted(r.value for r in h.roles)),
                      str(h.hardware.cpu_cores), f"{h.hardware.ram_gib:g}",
                      str(h.hardware.disk_gib), h.hardware.storage)
    return table


def _targets_table(deployment: Deployment) -> Table:
    profile = deployment.profile
    t = profile.targets
    cost = profile.monthly_cost
    cost_text = f"${cost.usd_min:,}-{cost.usd_max:,}" if cost.usd_max else f"${cost.usd_min:,}+"
    table = Table("API", "ML analysis", "batch", "concurrent users", "monthly cost",
                  title="Targets (the guide's, for this tier)")
    table.add_row(f"< {t.api_ms} ms", f"< {t.ml_ms} ms", f"{t.batch_students_per_min:,} "
                  "students/min", f"{t.concurrent_users:,}", cost_text)
    dedicated = sum(s.count for r in Role
                    if isinstance(s := profile.hosts.spec(r), HostSpec))
    table.caption = f"{dedicated} server(s)"
    return table


def _backups_table(deployment: Deployment) -> Table | None:
    """What is backed up to the backup host, when, and how long it is kept (None: no host)."""
    repo = deployment.topology.first(Role.backup)
    if repo is None:
        return None
    policy = deployment.profile.backup
    hv = deployment.host_vars[repo.name]
    table = Table("what", "from", "schedule (systemd OnCalendar)", "kept",
                  title=f"Backups to {repo.name} (encrypted)")
    for stanza in hv.get("backup_stanzas", []):
        members = [m["host"] for m in stanza.get("members", [])]
        table.add_row(f"PostgreSQL stanza {stanza['name']} (pgBackRest, WAL archived)",
                      (f"the primary of {', '.join(members)}" if len(members) > 1
                       else stanza["host"]),
                      f"full {policy.full_on_calendar}; diff {policy.diff_on_calendar}",
                      f"{policy.full_retention} full, {policy.diff_retention} diff")
    for client in hv.get("backup_restic_clients", []):
        table.add_row("media files (restic)", client["name"], policy.files_on_calendar,
                      f"{policy.files_keep_daily} daily, {policy.files_keep_weekly} weekly")
    return table


def print_ha_layout(console: Console, layout: dict) -> None:
    """The failover layout (`high_availability.ha_layout`): PostgreSQL's Patroni cluster and
    etcd quorum, each Sentinel group, the shard databases; what each may lose (RPO)."""
    console.print(Text("High availability", style="bold"))
    pg = layout["postgresql"]
    if pg is None:
        console.print("  Database: SQLite on the one server; it comes back from its backups.")
    elif pg["manager"] is None:
        rpo = (f"RPO {pg['rpo_s']} s (archive_timeout)" if pg["rpo_s"] is not None
               else "no backup host: no recovery point")
        console.print(f"  PostgreSQL: one server ({pg['host']}), no automatic failover; "
                      f"`restore` brings it back from its backups; {rpo}")
    else:
        console.print(Text(f"  PostgreSQL: {pg['manager']} cluster {pg['scope']}",
                           style="cyan"))
        for m in pg["members"]:
            etcd = ", etcd member" if m["etcd"] else ""
            console.print(f"    {_named(m)}: {m['bootstrap_role']} at "
                          f"bootstrap, failover candidate{etcd}")
        dcs = pg["dcs"]
        console.print(f"    DCS: {dcs['engine']} on {', '.join(dcs['members'])}; quorum "
                      f"{dcs['quorum']} of {len(dcs['members'])}, survives {dcs['tolerates']} "
                      "lost member(s)")
        console.print(f"    failover: within ttl + loop_wait = {pg['ttl_s']} + "
                      f"{pg['loop_wait_s']} = {pg['failover_within_s']} s of the leader's "
                      "last renewal")
        mode = "synchronous" if pg["synchronous_mode"] else "asynchronous"
        console.print(Text(f"    replication: {mode}; RPO {pg['rpo']}"))
        if pg.get("backup_rpo_s") is not None:
            console.print("    backups: WAL archived by whichever member leads, backups taken "
                          "from it; after a crash of the leader, take one (`ssas-deploy backup "
                          "run`): WAL it had not archived yet is not in the archive")
    for group in layout["redis"]:
        if not group["sentinels"]:
            console.print(f"  Redis {group['group']}: one server ({group['nodes'][0]['host']}), "
                          "no automatic failover")
            continue
        console.print(Text(f"  Redis {group['group']} ({group['master_name']}): Sentinel on "
                           f"{', '.join(group['sentinels'])}", style="cyan"))
        nodes = ", ".join(f"{_named(n)}: {n['bootstrap_role']}" for n in group["nodes"])
        console.print(f"    nodes: {nodes}")
        console.print(f"    down after {group['down_after_s']:g} s; quorum {group['quorum']} of "
                      f"{len(group['sentinels'])} agree it is down; a majority "
                      f"({group['failover_authorized_by']}) elects the Sentinel that promotes; "
                      f"retried after {group['failover_timeout_s']:g} s")
        console.print(Text(f"    RPO: {group['rpo']}"))
    shards = layout["shards"]
    if shards is not None:
        console.print(Text(f"  Shards (keyed by {shards['key']})", style="cyan"))
        console.print(f"    {shards['placement']}")
        for db in shards["databases"]:
            rpo = (f"RPO {db['rpo_s']} s (WAL archived to the backup host)"
                   if db["rpo_s"] is not None else "no backups: no recovery point")
            console.print(f"    {db['alias']}: database {db['database']} on {_named(db)}; "
                          f"one server, no failover: its backups are its recovery "
                          f"(by hand for now: `restore` refuses a deployment with a Patroni "
                          f"cluster); {rpo}")


def _named(entry: dict) -> str:
    """"host (address)", or the name alone where the address is the name."""
    same = entry["address"] == entry["host"]
    return entry["host"] if same else f"{entry['host']} ({entry['address']})"


def _settings_table(deployment: Deployment, host: str) -> Table:
    table = Table("service", "setting", "value", title=f"Derived settings on {host}")
    for service, settings in deployment.sizing.hosts[host].explained().items():
        for name, derived in settings.items():
            value = str(derived.value)
            if derived.derived is not None:
                value += f" (overridden; derived: {derived.derived.value})"
            table.add_row(service, name, value)
    return table


def _print_explained(console: Console, deployment: Deployment, host: str) -> None:
    """One line per value: name = value = arithmetic (source), under its section (the
    name's prefix in a profile's `overrides:`); an overridden value names its file:line
    and the value it replaced."""
    console.print(Text(f"Derived settings on {host}", style="bold"))
    sizing = deployment.sizing.hosts[host]
    queues = {f"celery.{g.name}": g.queues for g in sizing.celery_groups or []}
    for service, settings in sizing.explained().items():
        note = f" (queues {', '.join(queues[service])})" if service in queues else ""
        console.print(Text(f"  {service}{note}", style="cyan"))
        for name, derived in settings.items():
            console.print(Text(f"    {derived.explain(name)}"))


def _folding(*headers: str) -> list[Column]:
    """Columns whose long words (paths, unit names) wrap onto the next line in a narrow
    terminal instead of being cut short with an ellipsis."""
    return [Column(header, overflow="fold") for header in headers]


def _files_table(files: list[RenderedFile]) -> Table:
    table = Table(*_folding("host", "path", "owner", "mode", "on change"), title="Files")
    for item in files:
        spec = item.spec
        change = f"{spec.action} {spec.service}" if spec.service else ""
        secret = " (secret)" if spec.secret else ""
        table.add_row(item.host, spec.dest + secret, f"{spec.owner}:{spec.group}", spec.mode,
                      change)
    return table


def print_drift(console: Console, drift: list[HostDrift]) -> None:
    """Per live host: files apply would change, and the services that would reload."""
    table = Table(*_folding("host", "file", "change", "then"),
                  title="Live hosts: what apply would change")
    for host in drift:
        if host.error:
            table.add_row(host.host, "", "UNREACHABLE", host.error)
            continue
        if not host.changes:
            table.add_row(host.host, f"{len(host.files)} files", "no change", "")
        for item in host.changes:
            then = f"{item.action} {item.service}" if item.service else ""
            table.add_row(host.host, item.path, item.status, then)
    console.print(table)
    for host in drift:
        services = host.services()
        if services:
            actions = ", ".join(f"{action} {service}" for service, action in services.items())
            console.print(Text(f"{host.host}: would {actions}"))
        for item in host.changes:
            if item.diff:
                console.print(Text(item.diff))
