"""The guide's pre-deployment checklists, each item judged from this deployment's Facts.

One entry per guide item, in the guide's order, with a rule that returns a Mark and the
reason for it. A rule only says "done" on evidence it names; what the deployment cannot see
is "not yet" with the reason, never silently "done".
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ssas_deploy.handover.facts import Facts, utc


class Mark(StrEnum):
    """How far a checklist item is, as the report prints it."""

    done = "done"
    not_yet = "not yet"
    not_applicable = "not applicable"


@dataclass(frozen=True)
class Judgement:
    """A Mark and the evidence (or missing evidence) behind it."""

    mark: Mark
    reason: str


@dataclass(frozen=True)
class Item:
    """One guide item: its section, its wording and the rule that judges it."""

    section: str
    text: str  # the guide's wording
    rule: Callable[[Facts], Judgement]


def done(reason: str) -> Judgement:
    """Judgement(done, reason)."""
    return Judgement(Mark.done, reason)


def not_yet(reason: str) -> Judgement:
    """Judgement(not yet, reason)."""
    return Judgement(Mark.not_yet, reason)


def not_applicable(reason: str) -> Judgement:
    """Judgement(not applicable, reason)."""
    return Judgement(Mark.not_applicable, reason)


NOT_DEPLOYED = ("`apply` configures it, and no successful apply is recorded for this "
                "inventory")


def _applied(f: Facts, evidence: str) -> Judgement:
    """done(evidence) once an apply succeeded, else not yet."""
    return done(evidence) if f.deployed else not_yet(NOT_DEPLOYED)


def _tls(f: Facts) -> Judgement:
    if f.tls == "provided":
        return _applied(f, "TLS on (profile `site.tls: provided`): nginx serves your "
                           "certificate; plain HTTP redirects to HTTPS")
    return _applied(f, "TLS on with a self-signed certificate (profile `site.tls: "
                       "self-signed`): browsers warn until a certificate the school's devices "
                       "trust is installed; plain HTTP redirects to HTTPS")


def _db_tls(f: Facts) -> Judgement:
    if f.db_tls == "sqlite":
        return not_applicable("SQLite: the database is a file on the app server, no "
                              "network connection")
    if f.db_tls == "local":
        return not_applicable("the app and PostgreSQL share one server: connections stay on "
                              "127.0.0.1")
    if f.db_tls == "require":
        return _applied(f, "app servers connect to PostgreSQL with `sslmode=require`; "
                           "replication also requires TLS")
    return not_yet("connections through PgBouncer use `sslmode=prefer`: encrypted when both "
                   "sides offer TLS, not enforced")


def _rate_limits(f: Facts) -> Judgement:
    if not f.api_rate:
        return not_yet("no nginx host in this topology applies request limits")
    return _applied(f, f"nginx limits `/api/` and the pages to {f.api_rate} and the ML "
                       f"routes and pages to {f.ml_rate} per client (an IPv4 address or an "
                       "IPv6 /64; sized for a school behind one NAT address), sign-in and "
                       "password reset too; the app limits each signed-in user (2,000 API "
                       "calls and 120 ML analyses an hour, 600 pages with analyses); excess "
                       "gets HTTP 429")


def _headers(f: Facts) -> Judgement:
    return _applied(f, "nginx sends Strict-Transport-Security, Content-Security-Policy, "
                       "X-Frame-Options, X-Content-Type-Options and Referrer-Policy")


def _updates(f: Facts) -> Judgement:
    if not f.security_updates:
        return not_yet("unattended security updates are turned off for these hosts")
    reboot = ("reboots automatically" if f.automatic_reboot else
              "reboots are left to you (check for /var/run/reboot-required)")
    return _applied(f, f"unattended-upgrades installs Debian security updates daily on every "
                       f"host; {reboot}")


def _cache(f: Facts) -> Judgement:
    if f.cache == "redis":
        return _applied(f, "Redis cache shared by every app process (profile `cache: redis`)")
    return _applied(f, "per-process memory cache (profile `cache: local`, enough for one "
                       "server)")


def _restored(record: dict) -> str:
    """'restore to <point> at <time> (<tables> tables, <rows> rows checked)'."""
    when = record.get("time")
    at = utc(when) if isinstance(when, int | float) else "an unrecorded time"
    onto = (f" onto the new machine(s) {', '.join(record['to_host'])}"
            if record.get("to_host") else "")
    return (f"`restore` {record.get('point', 'to the latest state')}{onto} on {at}: "
            f"{record.get('tables', '?')} tables ({record.get('rows', '?')} rows) checked, "
            "the site served afterwards")


def _backup_tested(f: Facts) -> Judgement:
    b = f.backups
    if not f.has_backup_host:
        return not_yet("the profile has no backup host")
    if f.last_restore:
        return done(_restored(f.last_restore))
    if b.present:
        return not_yet(f"backups exist ({b.database_count} database, {b.files_count} media), "
                       "but no restore test is recorded for this deployment")
    if b.known:
        return not_yet("the backup repository holds no backup yet")
    return not_yet(f"backups unknown ({b.unknown}); no restore test is recorded")


def _backup_schedule(f: Facts) -> Judgement:
    b = f.backups
    if not f.has_backup_host:
        return not_yet("the profile has no backup host, so no backup timers exist")
    if not f.deployed:
        return not_yet("the backup timers are installed by `apply`, and no successful apply "
                       "is recorded for this inventory")
    if b.present:
        return done(f"timers installed by apply; the repository holds {b.database_count} "
                    f"database and {b.files_count} media backup(s)")
    if b.known:
        return not_yet("the timers are installed, but the repository holds no backup yet: "
                       "run `ssas-deploy backup run` or wait for the first timer")
    return done(f"timers installed by the last successful apply; whether they ran is "
                f"unknown ({b.unknown})")


CHECKLISTS: tuple[Item, ...] = (
    # Security
    Item("Security", "SSL/TLS certificates configured", _tls),
    Item("Security", "Database connections encrypted", _db_tls),
    Item("Security", "API rate limiting enabled", _rate_limits),
    Item("Security", "Input validation implemented", lambda f: not_applicable(
        "a property of the application's code (its forms and API serializers), not of "
        "this deployment")),
    Item("Security", "Security headers configured", _headers),
    Item("Security", "Regular security updates scheduled", _updates),
    # Performance
    Item("Performance", "Database indexes optimized", lambda f: not_yet(
        "the app's indexes come with its migrations, but no query analysis of this school's "
        "data is recorded (see the weekly database performance analysis)")),
    Item("Performance", "Caching strategy implemented", _cache),
    Item("Performance", "CDN configured for static assets", lambda f: not_applicable(
        "users reach the site on the school's network; nginx serves static files itself "
        "with a one-year cache lifetime")),
    Item("Performance", "Load testing completed", lambda f: done(
        "a load test ran against this deployment") if f.load_tested else not_yet(
        "no load test (verify) has been run against this deployment")),
    Item("Performance", "Monitoring and alerting setup", lambda f: done(
        "monitoring is set up") if f.monitoring else not_yet(
        "health endpoints exist (`/health/`, `/monitoring/ready/`), but no monitoring system "
        "or alerting (Prometheus) is set up")),
    Item("Performance", "Backup and recovery tested", _backup_tested),
    # Operational
    Item("Operational", "Documentation updated", lambda f: done(
        f"this handover report, generated {f.generated_at} from the profile and inventory")),
    Item("Operational", "Staff training completed", lambda f: not_yet(
        "the deployment cannot see it; record it when done")),
    Item("Operational", "Incident response procedures defined", lambda f: not_yet(
        "the guide's response times need named people and a procedure; none is recorded")),
    Item("Operational", "Monitoring dashboards configured", lambda f: done(
        "dashboards are configured") if f.monitoring else not_yet(
        "no dashboards: no monitoring system is set up")),
    Item("Operational", "Backup schedules established", _backup_schedule),
    Item("Operational", "Disaster recovery plan tested", lambda f: done(
        _restored(f.last_restore)) if (f.last_restore or {}).get("to_host") else not_yet(
        "no disaster-recovery drill (`restore --to-host` onto a replacement database "
        "server) is recorded")),
)

SECTIONS = ("Security", "Performance", "Operational")


def judge(facts: Facts) -> list[tuple[Item, Judgement]]:
    """Every checklist item with its mark and reason, in the guide's order."""
    return [(item, item.rule(facts)) for item in CHECKLISTS]
