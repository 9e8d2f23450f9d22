"""Deployment secrets: generated on first use, kept in an ansible-vault file beside the inventory.

What is stored (`hosts.yaml` -> `hosts.secrets.vault.yml`, see `store`):

- `django_secret_key` (64 characters), then 43 characters each: `db_password`, the Redis
  users' (`redis_cache_password`, `redis_broker_password`, `redis_admin_password`,
  `redis_replication_password`, `redis_sentinel_password`), Patroni's
  (`replication_password`, `patroni_rewind_password`, `patroni_restapi_password`), and the
  backup repositories' (`backup_cipher_pass`, `restic_password`, 64 characters): random from
  `secrets.token_urlsafe`, so only `[A-Za-z0-9_-]`, which needs no quoting in redis.conf, ACL
  files, PgBouncer's userlist, systemd environment files or connection URLs.
- `tls_key`, only if you import a certificate (`ssas-deploy secrets import-tls --cert CHAIN
  --key KEY`, for profile `site.tls: provided`). By default the nginx role creates a
  self-signed key on the load balancer itself; that key never leaves the host, which is safer
  than copying it through the controller, so it is not generated here. A key you bring (e.g.
  for a certificate from the school's CA) is kept encrypted here rather than as a loose file;
  its chain, which is public, is kept beside the inventory (see `ssas_deploy.tls`). It is
  multi-line PEM, so it is stored as `ssas_tls_key`, apart from `ssas_secrets` (whose values
  the roles require to be single-line), and travels to the hosts the same way.

The vault password. Sources, in order: `--vault-password-file PATH`, `SSAS_VAULT_PASSWORD_FILE`,
`SSAS_VAULT_PASSWORD`, a hidden prompt (twice when the vault is new). Without any of them and
without a terminal, the command stops with exit 2 and names the three ways.

No password file is ever created for you. A password file written beside the inventory would
sit in the same directory (and the same backups, git repository or USB stick) as the vault it
unlocks, making the encryption decorative; and a school's IT should decide where the one
password that opens every secret lives (the password manager; for unattended runs a 0600 file
in the deploying account's home, outside the repository). On first use in a terminal you are
asked to choose it. Losing it is not a lock-out: move the vault away, new secrets are
generated on next use, and an apply pushes them like a rotation of every secret.

Values are never printed or logged: there is no command that shows one, records and
passwords hide their values from repr(), and error messages never quote decrypted content.
`plan` and `render` use `masked()`; `apply` uses `template_secrets()`.
"""

from pathlib import Path

from ssas_deploy.secrets.names import (
    ALL_NAMES,
    GENERATED_NAMES,
    MASK,
    OPTIONAL_NAMES,
    SPECS,
    check_name,
    generate_value,
    masked,
    template_secrets,
)
from ssas_deploy.secrets.password import (
    ENV_PASSWORD,
    ENV_PASSWORD_FILE,
    VaultPassword,
    resolve_vault_password,
)
from ssas_deploy.secrets.store import SecretRecord, SecretStore, vault_path_for

__all__ = [
    "ALL_NAMES",
    "ENV_PASSWORD",
    "ENV_PASSWORD_FILE",
    "GENERATED_NAMES",
    "MASK",
    "OPTIONAL_NAMES",
    "SPECS",
    "SecretRecord",
    "SecretStore",
    "VaultPassword",
    "check_name",
    "deployment_secrets",
    "generate_value",
    "masked",
    "resolve_vault_password",
    "template_secrets",
    "vault_path_for",
]


def deployment_secrets(inventory: Path, password_file: Path | None = None) -> dict[str, str]:
    """The real `ssas_secrets` for an inventory, generating missing ones on first use.

    What `render_deployment(deployment, secrets=...)` and the Ansible run need.
    """
    from ssas_deploy.secrets.names import HOST_VARS

    return template_secrets(SecretStore(inventory, password_file=password_file)
                            .load_or_create(if_set=HOST_VARS))
