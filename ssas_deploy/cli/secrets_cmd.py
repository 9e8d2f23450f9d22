"""`ssas-deploy secrets list | rotate | init | import-tls-key | set-smtp-password | show-path`.

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


@app.command("import-tls-key")
def import_tls_key(key_file: Annotated[Path, typer.Argument(help="PEM private key file.",
                                                            exists=True, dir_okay=False)],
                   inventory: RequiredInventoryOption,
                   vault_password_file: VaultPasswordFileOption = None) -> None:
    """Keep a TLS private key you supply in the vault (default: self-signed on the host)."""
    from ssas_deploy.secrets import SecretStore

    with reporting():
        store = SecretStore(inventory, password_file=vault_password_file)
        try:
            pem = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            from ssas_deploy.errors import InvalidInputError, Problem

            raise InvalidInputError([Problem(key_file, None, "", "cannot read it as a PEM "
                                             "text file")]) from None
        store.import_tls_key(pem)
        out().print(f"Imported the TLS key into {store.path}; you may now delete {key_file}.")


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
