"""The project's own Jinja filters, shared by the CLI and Ansible (see filter_plugins/)."""

import base64
import hashlib
import json
import pprint
from collections.abc import Mapping
from typing import Any

from ssas_deploy.secrets.names import MASK
from ssas_deploy.systemd_sandboxing import sandboxing


def _plain(value: Any) -> Any:
    """Builtin types only: ansible-core 2.19 passes dict/list/str subclasses, which pprint
    would print differently (e.g. a dict subclass on one line), breaking byte equality."""
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def pyrepr(value: Any) -> str:
    """A Python literal for rendered settings modules (JSON's true/null are not Python)."""
    return pprint.pformat(_plain(value), width=88, sort_dicts=False)


def canonical_json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, sort_keys=True)


def env_b64(value: str) -> str:
    """Base64 of a UTF-8 string: any value as one safe line of an environment file."""
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def sha256_hex(value: str) -> str:
    """SHA-256 of a UTF-8 string as 64 hex digits: Redis ACL files take `#<this>` in place
    of a clear-text `>password` (redis.io, ACL rules), so no password is written in clear."""
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def config_changes(current: Any, wanted: Any) -> dict:
    """The part of `wanted` (a nested dict) that `current` lacks or holds differently: the
    body of a JSON merge-patch (RFC 7396) that makes `current` hold `wanted`'s values.

    Scalars compare by their text, since Patroni's REST API (GET /config) returns values as
    they were sent, int or str ("on" vs "on", 100 vs "100" are the same setting). Keys only
    in `current` are left alone. Returns {} when nothing differs.
    """
    if not isinstance(current, dict):
        current = {}
    changes: dict = {}
    for key, value in wanted.items():
        here = current.get(key)
        if isinstance(value, dict):
            inner = config_changes(here, value)
            if inner:
                changes[key] = inner
        elif here is None or _setting_text(here) != _setting_text(value):
            changes[key] = value
    return changes


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value).lower()


# Rendered without the vault (plan, render), secrets are the mask: so are the files derived
# from them.
def cluster_ca_certificate(seed: str) -> str:
    """The PostgreSQL cluster CA's certificate (PEM) from `cluster_ca_seed` (cluster_tls)."""
    from ssas_deploy.cluster_tls import ca_certificate

    return MASK if seed == MASK else ca_certificate(seed)


def cluster_member_key(seed: str, member: str) -> str:
    """A cluster member's TLS private key (PEM) from `cluster_ca_seed` (cluster_tls)."""
    from ssas_deploy.cluster_tls import member_key

    return MASK if seed == MASK else member_key(seed, member)


def cluster_member_certificate(seed: str, member: str, address: str) -> str:
    """A cluster member's certificate (PEM), signed by the cluster CA (cluster_tls)."""
    from ssas_deploy.cluster_tls import member_certificate

    return MASK if seed == MASK else member_certificate(seed, member, address)


FILTERS = {"pyrepr": pyrepr, "canonical_json": canonical_json, "env_b64": env_b64,
           "sha256_hex": sha256_hex, "systemd_sandboxing": sandboxing,
           "config_changes": config_changes, "cluster_ca_certificate": cluster_ca_certificate,
           "cluster_member_key": cluster_member_key,
           "cluster_member_certificate": cluster_member_certificate}
