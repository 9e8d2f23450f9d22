"""The sizing profile: what a consultant writes, validated field by field.

Only shape and ranges live on the fields; checks that span several fields are in
`cross_checks.py` so each can name the exact field it blames.
"""

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
)


class Tier(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"
    very_large = "very-large"


class Role(StrEnum):
    """Every role a host can play. Order is deployment order (data first, edge last)."""

    database = "database"
    database_replica = "database_replica"
    database_shard = "database_shard"
    # Backup storage: the pgBackRest and restic repositories, on a host of its own.
    backup = "backup"
    redis_cache = "redis_cache"
    redis_broker = "redis_broker"
    web = "web"
    celery_worker = "celery_worker"
    load_balancer = "load_balancer"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class HostSpec(Strict):
    """Dedicated hosts for one role: how many and how big each is."""

    count: Annotated[int, Field(ge=1, le=64, description="Number of identical hosts.")]
    cpu_cores: Annotated[int, Field(ge=1, le=256, description="CPU cores per host.")]
    ram_gib: Annotated[float, Field(ge=0.5, le=4096, description="RAM per host, GiB.")]
    disk_gib: Annotated[int, Field(ge=5, le=100_000, description="Disk per host, GiB.")]
    storage: Annotated[Literal["ssd", "hdd"], Field(description="Disk kind (tunes I/O costs).")]


class Colocated(Strict):
    """A role that shares the host(s) of another role instead of having its own."""

    colocate: Annotated[Role, Field(description="Role whose host this role runs on.")]


def _spec_kind(value: object) -> str:
    """Pick the branch up front so a typo yields one error, not one per union branch."""
    if isinstance(value, Colocated) or (isinstance(value, dict) and "colocate" in value):
        return "Colocated"
    return "HostSpec"


RoleSpec = Annotated[
    Annotated[HostSpec, Tag("HostSpec")] | Annotated[Colocated, Tag("Colocated")],
    Discriminator(_spec_kind),
]


class Hosts(Strict):
    load_balancer: RoleSpec | None = None
    web: RoleSpec
    database: RoleSpec | None = None
    database_replica: HostSpec | None = None
    database_shard: HostSpec | None = None
    # The guide's backup storage: never colocated (a backup on the server it protects is lost
    # with it). On single-server tiers it is the school's NAS or second server, reached by SSH.
    backup: HostSpec | None = None
    redis_cache: RoleSpec | None = None
    redis_broker: RoleSpec | None = None
    celery_worker: RoleSpec | None = None

    def spec(self, role: Role) -> RoleSpec | None:
        return getattr(self, role.value)


class Database(Strict):
    engine: Annotated[
        Literal["postgresql", "sqlite"],
        Field(description="sqlite only when everything runs on one server."),
    ] = "postgresql"
    pooler: Annotated[
        Literal["none", "pgbouncer"],
        Field(description="pgbouncer caps server connections when many hosts connect."),
    ] = "none"
    synchronous_replication: Annotated[
        bool,
        Field(description="Zero loss of acknowledged writes (RPO 0) where the database has "
                          "replicas: a commit waits until a standby has it, and only such a "
                          "standby is promoted (Patroni synchronous_mode). Costs one network "
                          "round trip per commit."),
    ] = False
    name: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "ssas_production"
    user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "ssas_user"
    backup_retention_days: Annotated[
        int | None,
        Field(ge=1, le=365, deprecated=True,
              description="Deprecated and ignored: backups follow the `backup` section."),
    ] = None


# A DNS host name (RFC 1123 labels of at most 63 characters) or an IPv4 address: what goes
# into nginx, nftables and Django settings unquoted must be no more than that.
HOST_NAME_PATTERN = (r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def is_ip_address(value: str) -> bool:
    """True for an IPv4 or IPv6 address, False for anything else (e.g. a DNS name)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_host_name_or_ipv4(value: str) -> bool:
    """`value` is a DNS host name (at most 253 characters) or an IPv4 address; digits and
    dots alone must be a real IPv4 address (10.0.1.300 is neither)."""
    if re.fullmatch(r"[0-9.]+", value):
        try:
            return ipaddress.IPv4Address(value) is not None
        except ValueError:
            return False
    return len(value) <= 253 and re.match(HOST_NAME_PATTERN, value) is not None

# systemd OnCalendar expressions (systemd.time(7)); checked again by systemd-analyze on hosts.
OnCalendar = Annotated[str, Field(pattern=r"^[A-Za-z0-9*:,./~ -]{1,100}$")]


class Backup(Strict):
    """Backups to the `backup` host: pgBackRest for PostgreSQL, restic for media files.

    Defaults follow the guide's schedule: a full database backup weekly, a differential one
    every night, the WAL archived continuously (point-in-time recovery over the retained
    period), and media files nightly.
    """

    full_on_calendar: Annotated[
        OnCalendar, Field(description="When pgBackRest takes a full backup (systemd OnCalendar).")
    ] = "Sun *-*-* 01:30:00"
    diff_on_calendar: Annotated[
        OnCalendar,
        Field(description="When pgBackRest takes a differential backup (systemd OnCalendar)."),
    ] = "Mon..Sat *-*-* 01:30:00"
    full_retention: Annotated[
        int,
        Field(ge=1, le=52, description="Full backups kept (with their differentials and WAL); "
                                       "2 weekly fulls = recovery to any time in 1-2 weeks."),
    ] = 2
    diff_retention: Annotated[
        int, Field(ge=1, le=366, description="Differential backups kept.")
    ] = 7
    files_on_calendar: Annotated[
        OnCalendar, Field(description="When restic backs up media files (systemd OnCalendar).")
    ] = "*-*-* 02:00:00"
    files_keep_daily: Annotated[
        int, Field(ge=1, le=366, description="restic forget --keep-daily.")
    ] = 14
    files_keep_weekly: Annotated[
        int, Field(ge=0, le=520, description="restic forget --keep-weekly.")
    ] = 8

    @field_validator("full_on_calendar", "diff_on_calendar", "files_on_calendar")
    @classmethod
    def _readable_schedule(cls, value: str) -> str:
        """A schedule the alert rules can walk (the oncalendar package, systemd.time(7)'s
        syntax): a bad hour or day is refused here, at its line, not by `render`."""
        from oncalendar import OnCalendar as Schedule
        from oncalendar import OnCalendarError

        from ssas_deploy.monitoring import SCHEDULE_FROM

        try:
            next(iter(Schedule(value, SCHEDULE_FROM)))
        except (OnCalendarError, ValueError) as exc:
            raise ValueError(f"'{value}' is not a systemd OnCalendar schedule ({exc}); e.g. "
                             "'Sun *-*-* 01:30:00' or 'Mon..Sat 02:00'") from None
        except StopIteration:
            raise ValueError(f"'{value}' never runs") from None
        return value


class Targets(Strict):
    """The guide's performance targets for the tier."""

    api_ms: Annotated[int, Field(gt=0, description="API response time target, ms.")]
    ml_ms: Annotated[int, Field(gt=0, description="ML analysis response time target, ms.")]
    batch_students_per_min: Annotated[int, Field(gt=0)]
    concurrent_users: Annotated[int, Field(gt=0)]


class MonthlyCost(Strict):
    usd_min: Annotated[int, Field(ge=0)]
    usd_max: Annotated[int | None, Field(ge=0, description="Empty for open-ended.")] = None


class Site(Strict):
    """How users reach the service."""

    server_name: Annotated[str, Field(
        description="The site's host name (or IPv4 address): nginx's server_name, the "
                    "certificate's name, Django's ALLOWED_HOSTS.")] = "ssas.school.internal"
    tls: Literal["self-signed", "provided"] = "self-signed"
    time_zone: Annotated[str, Field(description=(
        "IANA time zone of the school (e.g. Europe/London): dates on the pages and the "
        "nightly jobs' hour follow it."))] = "UTC"
    language: Annotated[str, Field(description=(
        "Language code of the pages (Django's LANGUAGE_CODE, e.g. en-gb, fr, pt-br)."))
    ] = "en-us"

    @field_validator("server_name")
    @classmethod
    def _host_name(cls, value: str) -> str:
        if is_host_name_or_ipv4(value):
            return value
        raise ValueError(f"'{value}' is not a host name (e.g. ssas.stmarys.example: letters, "
                         "digits and hyphens in dot-separated labels) or an IPv4 address")

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        from zoneinfo import available_timezones

        if value not in available_timezones() or value in ("localtime", "Factory"):
            raise ValueError(f"'{value}' is not an IANA time zone (e.g. Europe/London, "
                             "Africa/Lagos, UTC)")
        return value

    @field_validator("language")
    @classmethod
    def _django_language(cls, value: str) -> str:
        from ssas_deploy.profiles.languages import DJANGO_LANGUAGES

        if value == "en-us" or value in DJANGO_LANGUAGES:  # en-us: Django's own default
            return value
        raise ValueError(f"'{value}' is not a language Django has translations for (e.g. "
                         "en-gb, fr, de, pt-br, sw; lower case, a hyphen before the region)")


class Mail(Strict):
    """Outgoing mail of the app (password-reset links): an SMTP relay, or none (the mails
    are then written as files under the web host's data directory, for IT to pass on)."""

    smtp_host: Annotated[str, Field(
        pattern=r"^$|^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^[0-9A-Fa-f:]+$",
        description="The relay's host name or address; empty: no relay, mails as files.")] = ""
    smtp_port: Annotated[int | None, Field(ge=1, le=65535, description=(
        "Default by security: 587 for starttls, 465 for tls, 25 for none."))] = None
    security: Annotated[Literal["starttls", "tls", "none"], Field(description=(
        "starttls: STARTTLS on the submission port; tls: TLS from the first byte; none: "
        "plain SMTP (a relay on the school's own network only)."))] = "starttls"
    username: Annotated[str, Field(max_length=254, description=(
        "Login at the relay; empty: no login. Its password is a secret: "
        "`ssas-deploy secrets set-smtp-password`."))] = ""
    from_address: Annotated[str, Field(
        pattern=r"^$|^[^@\s<>]+@[^@\s<>]+$",
        description="Sender of the app's mails; empty: noreply@<site.server_name>.")] = ""

    def port(self) -> int:
        """The relay's port: smtp_port, else the usual one for `security`."""
        return self.smtp_port or {"starttls": 587, "tls": 465, "none": 25}[self.security]


class Profile(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    extends: Annotated[
        str | None, Field(description="Built-in profile name or path this profile overrides.")
    ] = None
    tier: Tier
    description: str = ""
    students: Annotated[int, Field(ge=1, le=1_000_000)]
    staff: Annotated[int, Field(ge=0, le=100_000)]
    peak_concurrent_users: Annotated[int, Field(ge=1, le=1_000_000)]
    cache: Annotated[
        Literal["local", "redis"],
        Field(description="local = per-process memory cache (single server only)."),
    ] = "redis"
    database: Database = Database()
    backup: Backup = Backup()
    hosts: Hosts
    site: Site = Site()
    mail: Mail = Mail()
    targets: Targets
    monthly_cost: MonthlyCost
    overrides: Annotated[dict[str, Any], Field(description=(
        "Derived values set by hand, by the name `plan --explain` shows (section.setting, "
        "e.g. postgresql.work_mem: 16MB) for every host deriving it, or "
        "group/section.setting (e.g. database_replica/postgresql.work_mem) for one host "
        "group. Each must be of the derived value's kind."))] = {}
    # key -> "file:line" where it was written (set by profiles.loader).
    _override_sources: dict[str, str] = PrivateAttr(default_factory=dict)

    def override_sources(self) -> dict[str, str]:
        """Override key -> "my-school.yaml:12" for the overrides read from files."""
        return dict(self._override_sources)
