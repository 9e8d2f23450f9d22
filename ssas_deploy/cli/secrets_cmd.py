"""`ssas-deploy secrets list | rotate | init | import-tls | set-smtp-password | show-path`.

No command prints a secret's value: the vault is read with `ansible-vault view` if ever needed.
"""

from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.console import out, reporting

app = typer.Typer(help="Manage the deployment's secrets (kept in an ansible-vault file beside "
                       "the inventory; values are never shown).",
                  no_args_is_help=True)

RequiredInventoryOption = Annotated[
    Path,
    typer.Option("--inventory", "-i", help="hosts.yaml; the secrets vault is kept beside it "
                 "as <name>.secrets.vault.yml."),
]
VaultPasswordFileOption = Annotated[
    Path | None,
    typer.Option("--vault-password-file", help="File holding the vault password (or an "
                 "executable printing it, as for ansible-playbook). Else "
                 "SSAS_VAULT_PASSWORD_FILE, SSAS_VAULT_PASSWORD, or a prompt."),
]


@app.command("list")
def list_secrets(inventory: RequiredInventoryOption,
                 vault_password_file: VaultPasswordFileOption = None) -> None:
    """Each secret with when it was created and last rotated (never its value)."""
    from rich.table import Table

    from ssas_deploy.secrets import ALL_NAMES, GENERATED_NAMES, SecretStore

    with reporting():
        store = SecretStore(inventory, password_file=vault_password_file)
        if not store.exists():
            out().print(f"No secrets vault yet ({store.path}): the secrets are generated on "
                        "first use (`ssas-deploy secrets init` or the first apply).")
            return
        records = store.records()
        table = Table("secret", "status", "created (UTC)", "rotated (UTC)")
        extra = sorted(set(records) - set(ALL_NAMES))
        for name in (*ALL_NAMES, *extra):
            record = records.get(name)
            if record is None:
                status = "generated on next use" if name in GENERATED_NAMES else "not imported"
                table.add_row(name, status, "-", "-")
            else:
                status = "generated" if name in GENERATED_NAMES else (
                    "imported" if name in ALL_NAMES else "unknown to this version")
                table.add_row(name, status, record.created, record.rotated or "-")
        out().print(table)
        out().print(f"vault: {store.path}")


@app.command("init")
def init(inventory: RequiredInventoryOption,
         vault_password_file: VaultPasswordFileOption = None) -> None:
    """Create the vault and generate the missing secrets now (apply does it on first use)."""
    from ssas_deploy.secrets import GENERATED_NAMES, SecretStore

    with reporting():
        store = SecretStore(inventory, password_file=vault_password_file)
        before = set(store.records()) if store.exists() else set()
        store.load_or_create()
        created = [name for name in GENERATED_NAMES if name not in before]
        if created:
            out().print(f"Generated {', '.join(created)} in {store.path} (mode 0600)")
        else:
            out().print(f"All secrets already exist in {store.path}; nothing changed")


@app.command("rotate")
def rotate(name: Annotated[str, typer.Argument(help="Secret to replace, e.g. db_password.")],
           inventory: RequiredInventoryOption,
           vault_password_file: VaultPasswordFileOption = None) -> None:
    """Give one secret a new random value; the next apply pushes it everywhere it is used."""
    from ssas_deploy.secrets import SPECS, SecretStore

    with reporting():
        store = SecretStore(inventory, password_file=vault_password_file)
        record = store.rotate(name)
        out().print(f"Rotated {record.name} at {record.rotated} in {store.path}.")
        out().print(f"Run apply to push it to {SPECS[record.name].used_by}.")


@app.command("import-tls")
def import_tls(
    cert: Annotated[Path, typer.Option("--cert", help="The certificate chain (PEM): the "
                                       "server's certificate first, then each intermediate.")],
    key: Annotated[Path, typer.Option("--key", help="The server certificate's private key "
                                      "(PEM, unencrypted).")],
    inventory: RequiredInventoryOption,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Profile whose "
                                                "site.server_name the certificate must "
                                                "cover (default: the last apply's).")] = None,
    vault_password_file: VaultPasswordFileOption = None,
) -> None:
    """Install the school's own certificate: checks the chain and key, keeps the key in the
    vault and the chain beside the inventory; apply serves them (profile site.tls: provided).

    Refused, with nothing stored (exit 2): a file that is not PEM, a key that does not belong
    to the first certificate, a certificate expired or not yet valid, a chain out of order,
    a server name the certificate does not cover. Expiry within 30 days only warns.
    """
    from ssas_deploy.console import display_warning
    from ssas_deploy.secrets import SecretStore
    from ssas_deploy.tls.chain import describe
    from ssas_deploy.tls.provided import import_tls as keep_tls

    with reporting():
        site = _site_for(profile, inventory)
        names = tuple(site.server_name.split()) if site else ()
        store = SecretStore(inventory, password_file=vault_password_file)
        imported = keep_tls(inventory, cert, key, store.import_tls_key, names)
        for warning in imported.warnings:
            display_warning(warning)
        leaf = imported.chain.leaf
        out().print(f"Imported {describe(leaf)} (expires "
                    f"{leaf.not_valid_after_utc:%Y-%m-%d}, "
                    f"{len(imported.chain.certificates)} certificate(s)): the key into "
                    f"{store.path}, the chain into {imported.chain_file}.", markup=False)
        if site is None:
            out().print("Its names were not checked against a profile (no --profile and no "
                        "apply recorded); plan and apply check them.", markup=False)
        if site is None or site.tls != "provided":
            out().print("Set `site: {tls: provided}` in the profile, then apply.", markup=False)
        else:
            out().print("Run apply to serve it.", markup=False)
        out().print(f"You may now delete {key}.", markup=False)


def _site_for(profile: str | None, inventory: Path):
    """The profile's `site` (given, else the last apply's), or None when neither exists."""
    from ssas_deploy.profiles.loader import load_profile_with_warnings
    from ssas_deploy.release_status import read_last_apply

    if profile is None:
        record = read_last_apply(inventory) if inventory.is_file() else None
        profile = (record or {}).get("profile")
    if not profile:
        return None
    return load_profile_with_warnings(profile)[0].site


@app.command("import-tls-key", hidden=True)
def import_tls_key(key_file: Annotated[Path, typer.Argument(help="PEM private key file.")],
                   inventory: RequiredInventoryOption,
                   vault_password_file: VaultPasswordFileOption = None) -> None:
    """Replaced by import-tls: a key is of no use without its certificate chain."""
    from ssas_deploy.errors import InvalidInputError, Problem

    with reporting():
        raise InvalidInputError([Problem(None, None, "import-tls-key", (
            "replaced by `ssas-deploy secrets import-tls --cert CHAIN.pem --key "
            f"{key_file} --inventory {inventory}`: a key is of no use without its "
            "certificate chain, and both are checked together; nothing was stored"))])


@app.command("set-smtp-password")
def set_smtp_password(inventory: RequiredInventoryOption,
                      vault_password_file: VaultPasswordFileOption = None) -> None:
    """Keep the SMTP relay's password (profile `mail.username`) in the vault: read from
    standard input when it is not a terminal (first line), else asked twice, never shown."""
    import getpass
    import sys

    from ssas_deploy.errors import InvalidInputError, Problem
    from ssas_deploy.secrets import SecretStore

    with reporting():
        store = SecretStore(inventory, password_file=vault_password_file)
        if sys.stdin.isatty():
            password = getpass.getpass("SMTP password: ")
            if getpass.getpass("Again: ") != password:
                raise InvalidInputError([Problem(None, None, "smtp_password",
                                                 "the two entries differ; nothing was stored")])
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        store.set_smtp_password(password)
        out().print(f"Stored the SMTP password in {store.path}; the next apply gives it to "
                    "the app.")


@app.command("show-path")
def show_path(inventory: RequiredInventoryOption) -> None:
    """Print the vault file's path (for `ansible-vault view|edit` or backups)."""
    from ssas_deploy.console import print_raw
    from ssas_deploy.secrets import vault_path_for

    print_raw(str(vault_path_for(inventory)))
