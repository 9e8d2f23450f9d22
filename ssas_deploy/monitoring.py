"""Prometheus alert rules: the guide's alert thresholds, plus what operators expect.

The guide ("Incident Response Procedures" > "Alert Thresholds") gives a critical and a warning
threshold each for response time (p95), error rate, database connections, memory and disk;
`THRESHOLDS` holds them once, for the template and for `plan --explain`. The other rules
(a target down, a Celery queue growing, backups overdue, replication lag, certificate expiry)
take their bounds from the deployment: the backup schedules of the profile, Patroni's
`maximum_lag_on_failover`, the Celery queues of the sizing.

The rules file is one per deployment (`render` writes it to `DIR/_deployment/...`, outside
every host's tree): no role installs it yet and no service reloads for it. The monitoring
role of issue #12 will copy it into Prometheus's rule_files on the monitoring host.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise

from ssas_deploy.context.build import Deployment
from ssas_deploy.context.patroni import DCS_TIMING
from ssas_deploy.profiles.models import Role
from ssas_deploy.sizing.celery import QUEUES

GUIDE = "SSAS scaling guide, Alert Thresholds"
TEMPLATE = "prometheus/ssas-alerts.rules.yml.j2"
# Relative to render's --out directory: "_" is no inventory host name, so no host's tree.
RENDER_PATH = "_deployment/prometheus/ssas-alerts.rules.yml"
# Where the monitoring role (#12) will install it (Debian's prometheus reads rule_files).
INSTALL_PATH = "/etc/prometheus/rules/ssas-alerts.rules.yml"


@dataclass(frozen=True)
class Threshold:
    what: str
    critical: float
    warning: float
    unit: str  # "s" or "%" (critical and warning are fractions for "%")

    def show(self, value: float) -> str:
        return f"{value:g} s" if self.unit == "s" else f"{value * 100:g}%"


THRESHOLDS = {
    "response_time_p95": Threshold("response time, 95th percentile", 5, 2, "s"),
    "error_rate": Threshold("error rate (HTTP 5xx / all requests)", 0.05, 0.02, "%"),
    "database_connections": Threshold("database connections, of max_connections", 0.90, 0.70,
                                      "%"),
    "memory": Threshold("memory usage", 0.90, 0.70, "%"),
    "disk": Threshold("disk usage", 0.85, 0.70, "%"),
}
CERT_EXPIRY_DAYS = 21
QUEUE_GROWTH_WINDOW_MIN = 15
# The backup units retry a failed run 3 times, 15 minutes apart, within StartLimitIntervalSec=4h
# and start up to RandomizedDelaySec=10min late (templates/backup/ssas-pgbackrest.*.j2):
# a backup is overdue only after its schedule's longest gap plus both.
BACKUP_GRACE_S = 4 * 3600 + 600
# Written by the backup units through node_exporter's textfile collector (#12: the units do
# not write it yet): the Unix time of the last successful backup, labels kind
# (full|diff|files) and, for pgBackRest, stanza.
BACKUP_METRIC = "ssas_backup_last_success_timestamp_seconds"
# A fixed year to walk the schedules through (rendering stays deterministic); 2024 has a
# leap day and 53 Mondays.
SCHEDULE_FROM = datetime(2024, 1, 1, tzinfo=UTC)
_SCHEDULE_SPAN = timedelta(days=366)


@cache
def _schedule_runs(expression: str) -> frozenset[datetime]:
    """The runs of one OnCalendar schedule over the year (each walked once per process:
    the full backup's schedule is asked for twice)."""
    from oncalendar import OnCalendar

    end = SCHEDULE_FROM + _SCHEDULE_SPAN
    runs: set[datetime] = set()
    # A schedule of more than 20,000 runs a year has its longest gap among them.
    for count, when in enumerate(OnCalendar(expression, SCHEDULE_FROM)):
        if when > end or count > 20_000:
            break
        runs.add(when)
    return frozenset(runs)


def schedule_gap_s(*calendars: str) -> int:
    """The longest time (s) between two consecutive runs of the union of systemd OnCalendar
    schedules, over one year (evaluated in UTC; a DST shift is within the grace)."""
    runs: set[datetime] = set()
    for expression in calendars:
        runs |= _schedule_runs(expression)
    ordered = sorted(runs)
    if len(ordered) < 2:
        return int(_SCHEDULE_SPAN.total_seconds())
    return int(max((b - a).total_seconds() for a, b in pairwise(ordered)))


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes else ""]
    return "".join(parts) or f"{seconds}s"


def alert_vars(deployment: Deployment) -> dict:
    """The template variables of the rules file."""
    topology = deployment.topology
    sized_connections = [
        f"{name} {hv['postgresql_settings']['max_connections']}"
        for name, hv in deployment.host_vars.items() if "postgresql_settings" in hv
    ]
    out: dict = {
        "ssas_profile_name": deployment.profile.name,
        "ssas_tier": deployment.profile.tier.value,
        "alert_guide": GUIDE,
        "alert_thresholds": {key: {"critical": t.critical, "warning": t.warning,
                                   "critical_text": t.show(t.critical),
                                   "warning_text": t.show(t.warning)}
                             for key, t in THRESHOLDS.items()},
        "alert_postgresql": bool(sized_connections),
        "alert_sized_max_connections": ", ".join(sized_connections),
        "alert_celery_queues": [q.name for q in QUEUES],
        "alert_queue_window_min": QUEUE_GROWTH_WINDOW_MIN,
        "alert_cert_expiry_days": CERT_EXPIRY_DAYS,
        "alert_cert_expiry_s": CERT_EXPIRY_DAYS * 86400,
        "alert_replicas": any(h.has(Role.database_replica) for h in topology.hosts),
        "alert_replication_lag_bytes": DCS_TIMING["maximum_lag_on_failover"],
        "alert_backup_metric": BACKUP_METRIC,
        "alert_backups": None,
    }
    repo = topology.first(Role.backup)
    if repo is not None:
        policy = deployment.profile.backup
        backups = {}
        if out["alert_postgresql"]:
            backups["database"] = schedule_gap_s(policy.full_on_calendar,
                                                 policy.diff_on_calendar)
            backups["full"] = schedule_gap_s(policy.full_on_calendar)
        backups["files"] = schedule_gap_s(policy.files_on_calendar)
        out["alert_backups"] = {
            kind: {"gap_s": gap, "max_age_s": gap + BACKUP_GRACE_S,
                   "gap_text": _duration(gap), "max_age_text": _duration(gap + BACKUP_GRACE_S)}
            for kind, gap in backups.items()
        }
        out["alert_backup_schedules"] = {
            "database": f"full {policy.full_on_calendar}; diff {policy.diff_on_calendar}",
            "full": policy.full_on_calendar,
            "files": policy.files_on_calendar,
        }
    return out


def render_alert_rules(deployment: Deployment) -> str:
    from ssas_deploy.rendering import environment

    return environment().get_template(TEMPLATE).render(alert_vars(deployment))


def alert_rows(deployment: Deployment) -> list[tuple[str, str, str, str]]:
    """(alert, warning, critical, source) for `plan --explain`."""
    rows = [(t.what, f"> {t.show(t.warning)}", f"> {t.show(t.critical)}", GUIDE)
            for t in THRESHOLDS.values()]
    variables = alert_vars(deployment)
    rows.append(("scrape target down", "", "up == 0 for 2 min", "operators"))
    rows.append((f"Celery queue growing for {QUEUE_GROWTH_WINDOW_MIN} min", "growing", "",
                 "operators"))
    for kind, backup in (variables["alert_backups"] or {}).items():
        severity = ("", f"older than {backup['max_age_text']}") if kind == "database" else (
            f"older than {backup['max_age_text']}", "")
        rows.append((f"{kind} backup overdue", *severity,
                     f"profile backup schedule ({variables['alert_backup_schedules'][kind]}): "
                     f"longest gap {backup['gap_text']} + {_duration(BACKUP_GRACE_S)} retries"))
    if variables["alert_replicas"]:
        lag = variables["alert_replication_lag_bytes"]
        rows.append(("replication lag", f"> {lag:,} bytes", "",
                     "Patroni maximum_lag_on_failover"))
    rows.append(("certificate expiry", f"within {CERT_EXPIRY_DAYS} days", "", "operators"))
    return rows
