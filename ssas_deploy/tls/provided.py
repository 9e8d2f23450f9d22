"""Where a supplied certificate is kept, how it is imported, checked again and shipped.

The key goes into the inventory's vault (`ssas_tls_key`); the chain, which is public, into
`<inventory dir>/<inventory stem>.tls-chain.pem` (mode 0644) beside it, so `plan` can check it
(names, expiry) without the vault password and anyone can read it with `openssl x509`.
"""

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ssas_deploy.errors import InvalidInputError, Problem
from ssas_deploy.profiles.models import Profile, Role
from ssas_deploy.tls.chain import (
    Chain,
    check_chain,
    check_key,
    describe,
    load_chain,
    load_private_key,
)

CHAIN_SUFFIX = ".tls-chain.pem"
IMPORT_COMMAND = ("ssas-deploy secrets import-tls --cert CHAIN.pem --key KEY.pem "
                  "--inventory I")


def chain_path_for(inventory: Path) -> Path:
    """`hosts.yaml` -> `hosts.tls-chain.pem` in the same directory."""
    inventory = Path(inventory)
    return inventory.parent / f"{inventory.stem}{CHAIN_SUFFIX}"


def server_names(profile: Profile) -> tuple[str, ...]:
    """The names nginx serves (profile `site.server_name`, space-separated)."""
    return tuple(profile.site.server_name.split())


@dataclass(frozen=True)
class Imported:
    """What `import_tls` stored: the chain's file and parse, and the warnings to show."""

    chain_file: Path
    chain: Chain
    warnings: list[str]


def import_tls(inventory: Path, cert: Path, key: Path, keep_key: Callable[[str], object],
               names: tuple[str, ...] = (), now: datetime | None = None) -> Imported:
    """Check `cert` (chain PEM) and `key` (PEM) together, then keep them for `inventory`.

    Every check runs before anything is written (see `chain.check_chain`, `chain.check_key`;
    `names` are the server names the leaf must cover). Then `keep_key(pkcs8_pem)` stores the
    key (the vault: `SecretStore.import_tls_key`) and the chain replaces `chain_path_for`
    atomically. Raises InvalidInputError (every problem of both files) with nothing stored;
    whatever `keep_key` raises (e.g. a wrong vault password) also leaves nothing stored.
    """
    problems: list[Problem] = []
    chain = private_key = None
    for load, path in ((load_chain, cert), (load_private_key, key)):
        try:
            loaded = load(path)
        except InvalidInputError as exc:
            problems += exc.problems
            continue
        if load is load_chain:
            chain = loaded
        else:
            private_key = loaded
    if problems:
        raise InvalidInputError(problems)
    warnings = check_chain(chain, names, now)
    check_key(chain, private_key)
    target = chain_path_for(inventory)
    if not Path(inventory).is_file():
        raise InvalidInputError([Problem(Path(inventory), None, "", "inventory not found (the "
                                         "certificate is kept beside it)")])
    staged = _stage(target, chain.pem)
    try:
        keep_key(private_key.pem)
        os.replace(staged, target)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return Imported(target, chain, warnings)


def provided_chain(profile: Profile, inventory: Path,
                   now: datetime | None = None) -> tuple[Chain, list[str]]:
    """The imported chain of `inventory`, checked again for `profile` (expiry, names).

    For a profile with `site.tls: provided`. Raises InvalidInputError naming `site.tls` and
    the import command when nothing was imported, or the chain's problems; returns the chain
    and its warnings (e.g. expiring within 30 days).
    """
    path = chain_path_for(inventory)
    if not path.is_file():
        raise InvalidInputError([Problem(None, None, "site.tls", (
            f"provided, but no certificate was imported for {inventory} (no {path.name} "
            f"beside it): run `{IMPORT_COMMAND}` first, or use site.tls: self-signed"))])
    chain = load_chain(path)
    return chain, check_chain(chain, server_names(profile), now)


def check_stored_key(chain: Chain, vault: Path, key_pem: str | None) -> None:
    """InvalidInputError unless the vault's key (`key_pem`, None when absent) belongs to
    `chain`'s leaf; messages name the vault file, never its content."""
    if key_pem is None:
        raise InvalidInputError([Problem(None, None, "site.tls", (
            f"provided, but {vault} holds no TLS key: run `{IMPORT_COMMAND}` again"))])
    key = load_private_key(vault, key_pem)
    try:
        check_key(chain, key)
    except InvalidInputError:
        raise InvalidInputError([Problem(vault, None, "ssas_tls_key", (
            f"the stored key does not belong to {chain.path} ({describe(chain.leaf)}): "
            f"import both again with `{IMPORT_COMMAND}`"))]) from None


def tls_host_vars(deployment, chain: Chain) -> dict[str, dict[str, str]]:
    """`{host: {"nginx_lb_tls_certificate_content": chain PEM}}` for every load balancer
    (the hosts of the nginx_lb play). The key is not here: it travels vault-encrypted as
    `ssas_tls_key`, which site.yml hands to the role."""
    return {host.name: {"nginx_lb_tls_certificate_content": chain.pem}
            for host in deployment.topology.with_role(Role.load_balancer)}


def _stage(target: Path, text: str) -> Path:
    """`text` in a new 0644 file beside `target`, flushed; the caller renames or removes it."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
