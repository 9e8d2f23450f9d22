"""Which secrets exist, how each is generated, and the shapes the templates and plan need."""

import difflib
import secrets as _random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ssas_deploy.errors import InvalidInputError, Problem

# Same mask as ssas_deploy.rendering.MASK (a test keeps them equal); defined here so reading
# the secrets store does not import the template machinery.
MASK = "********"

# URL-safe alphabet: [A-Za-z0-9_-]. Nothing that needs quoting or escaping in redis.conf, an
# ACL file, PgBouncer's userlist, a systemd EnvironmentFile or a redis:// / postgres:// URL.
SAFE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class SecretSpec:
    name: str
    used_by: str
    # Random bytes before URL-safe base64 (4 characters per 3 bytes); 0: never generated.
    entropy_bytes: int
    # False: data is encrypted with it, so a new value would make that data unreadable.
    rotatable: bool = True
    # True: travels to the hosts in `ssas_secrets` (the templates and roles read it there);
    # the OPTIONAL ones travel as their own variables (HOST_VARS) instead.
    in_ssas_secrets: bool = True


GENERATED = (
    # Django wants 50+ characters with 5+ distinct ones (`check --deploy`): 64 characters.
    SecretSpec("django_secret_key", "the app's environment file (Django SECRET_KEY; rotating "
               "signs users out)", 48),
    SecretSpec("db_password", "the PostgreSQL application role, PgBouncer's userlist and the "
               "app's environment file", 32),
    SecretSpec("redis_cache_password", "the Redis cache ACL users, its replicas and Sentinels, "
               "and the app's environment file", 32),
    SecretSpec("redis_broker_password", "the Redis broker ACL users, its replicas and "
               "Sentinels, and the app's environment file", 32),
    SecretSpec("redis_admin_password", "the ssas-admin ACL user of every Redis instance (ACL "
               "LOAD by the redis role; no access to keys)", 32),
    SecretSpec("redis_replication_password", "the replicator ACL user of every Redis instance "
               "and its replicas' masterauth", 32),
    SecretSpec("redis_sentinel_password", "the sentinel ACL user of every Redis instance a "
               "Sentinel group watches, and the Sentinels' own admin user (peers, failover)", 32),
    # Patroni's three PostgreSQL/REST users on the very-large tier's cluster members
    # (templates/patroni/config.yml.j2): streaming replication, pg_rewind of a failed
    # primary, and the REST API's unsafe endpoints (restart, switchover, reinitialize).
    SecretSpec("replication_password", "the PostgreSQL replication role (Patroni's "
               "`replicator`) its replicas stream WAL as", 32),
    SecretSpec("patroni_rewind_password", "the PostgreSQL role Patroni runs pg_rewind as, "
               "when a failed primary rejoins as a replica", 32),
    SecretSpec("patroni_restapi_password", "Patroni's REST API user (switchover, restart, "
               "reinitialize; `patronictl` on the cluster members)", 32),
    # 32 random bytes: the Ed25519 seed of the PostgreSQL cluster's own CA, from which each
    # member's TLS key and certificate for etcd and Patroni's REST API are derived
    # (ssas_deploy/cluster_tls.py). Rotating it re-issues every member's certificate.
    SecretSpec("cluster_ca_seed", "the very-large tier's cluster CA (TLS of etcd and "
               "Patroni's REST API between the PostgreSQL cluster's members)", 32),
    # The repositories are encrypted with these: existing backups need the value they were
    # written with, so they are never rotated in place.
    SecretSpec("backup_cipher_pass", "pgBackRest's repository encryption (repo1-cipher-pass) "
               "on the backup host", 48, rotatable=False),
    SecretSpec("restic_password", "the restic repositories of media files on the backup host",
               48, rotatable=False),
)
# Supplied by the user only (see the package docstring): never generated, never rotated here.
OPTIONAL = (
    SecretSpec("tls_key", "the load balancer's TLS private key (imported)", 0,
               in_ssas_secrets=False),
    SecretSpec("smtp_password", "the SMTP relay's password for the app's mail (set with "
               "`secrets set-smtp-password`)", 0, in_ssas_secrets=False),
)
# Optional secrets the hosts get when set, each as its own variable: the keys of
# `ssas_secrets` are listed in every role's argument spec, these are read by one role only.
HOST_VARS = {"smtp_password": "ssas_smtp_password", "tls_key": "ssas_tls_key"}

GENERATED_NAMES: tuple[str, ...] = tuple(spec.name for spec in GENERATED)
OPTIONAL_NAMES: tuple[str, ...] = tuple(spec.name for spec in OPTIONAL)
ALL_NAMES: tuple[str, ...] = GENERATED_NAMES + OPTIONAL_NAMES
SPECS: dict[str, SecretSpec] = {spec.name: spec for spec in GENERATED + OPTIONAL}
# The keys of `ssas_secrets`, the dict every role and template reads secrets from.
SSAS_SECRETS_NAMES: tuple[str, ...] = tuple(
    spec.name for spec in GENERATED + OPTIONAL if spec.in_ssas_secrets)


def generate_value(name: str) -> str:
    """A fresh random value for a generated secret (`secrets.token_urlsafe`)."""
    spec = SPECS.get(name)
    if spec is None or not spec.entropy_bytes:
        raise ValueError(f"{name} is not a generated secret")
    return _random.token_urlsafe(spec.entropy_bytes)


def check_name(name: str, allowed: Iterable[str] = ALL_NAMES) -> str:
    """The name itself, or an input error with a did-you-mean and the list of known names."""
    allowed = tuple(allowed)
    if name in allowed:
        return name
    hint = difflib.get_close_matches(name, allowed, n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise InvalidInputError([Problem(None, None, "secret",
                                     f"unknown secret '{name}'{suggestion}; "
                                     f"secrets: {', '.join(allowed)}")])


def masked(secrets: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """The same keys, every value replaced by the mask: what `plan` and `render` show."""
    return dict.fromkeys(secrets, MASK)


def template_secrets(values: Mapping[str, str]) -> dict[str, str]:
    """The `ssas_secrets` dict of the templates and roles (`render_deployment(secrets=...)`).

    Every generated secret, plus the optional ones in HOST_VARS that are set (the runner
    writes those as their own variables, e.g. the multi-line TLS key as `ssas_tls_key`: the
    roles refuse secrets with newlines in `ssas_secrets`).
    """
    missing = [name for name in GENERATED_NAMES if name not in values]
    if missing:
        raise ValueError(f"secrets not loaded: {', '.join(missing)}")
    return {name: values[name] for name in (*GENERATED_NAMES, *HOST_VARS) if name in values}


def split_host_vars(secrets: Mapping[str, str]) -> dict[str, object]:
    """The Ansible variables for `secrets`: `{"ssas_secrets": {...}, "ssas_smtp_password":
    ..., "ssas_tls_key": ...}` (each HOST_VARS secret that is set as its own variable)."""
    return {"ssas_secrets": {k: v for k, v in secrets.items() if k not in HOST_VARS},
            **{HOST_VARS[k]: v for k, v in secrets.items() if k in HOST_VARS}}
