"""Where the vault password comes from: an option, the environment, or a prompt.

Order: `--vault-password-file PATH`, then `SSAS_VAULT_PASSWORD_FILE` (a path), then
`SSAS_VAULT_PASSWORD` (the password itself), then a hidden prompt when stdin is a terminal.
Password files are read by Ansible's own code, so a file (or an executable script printing the
password) that works with `ansible-playbook --vault-password-file` works here, and the other
way round.
"""

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ssas_deploy.errors import InvalidInputError, OperationFailedError, Problem

ENV_PASSWORD_FILE = "SSAS_VAULT_PASSWORD_FILE"
ENV_PASSWORD = "SSAS_VAULT_PASSWORD"

HOW_TO_GIVE = (
    f"give it with --vault-password-file PATH, the environment variable {ENV_PASSWORD_FILE}"
    f"=PATH or {ENV_PASSWORD}=PASSWORD, or run the command in a terminal to be asked for it"
)


@dataclass(frozen=True)
class VaultPassword:
    """The password and, for messages, where it came from. Never shown by repr()."""

    value: bytes = field(repr=False)
    source: str


def resolve_vault_password(
    password_file: Path | None = None,
    *,
    creating: bool,
    environ: Mapping[str, str] | None = None,
    interactive: bool | None = None,
    prompt: Callable[[bool], str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> VaultPassword:
    """The vault password from the first source that has one.

    `creating` asks for the password twice at the prompt (a new vault). Without any source and
    without a terminal this is an input error (exit 2) naming the three ways to give one.
    """
    environ = os.environ if environ is None else environ
    if warn is None:
        from ssas_deploy.console import display_warning as warn
    if password_file is not None:
        return _from_file(Path(password_file), "--vault-password-file", warn)
    if environ.get(ENV_PASSWORD_FILE):
        return _from_file(Path(environ[ENV_PASSWORD_FILE]), ENV_PASSWORD_FILE, warn)
    if ENV_PASSWORD in environ:
        value = environ[ENV_PASSWORD]
        if not value:
            raise _problem(None, f"{ENV_PASSWORD} is set but empty; {HOW_TO_GIVE}")
        return VaultPassword(value.encode("utf-8"), ENV_PASSWORD)
    if interactive is None:
        interactive = stdin_is_terminal()
    if not interactive:
        raise _problem(None, f"the secrets vault needs a password and there is no terminal to "
                             f"ask for it: {HOW_TO_GIVE}")
    value = (prompt or _prompt)(creating)
    if not value:
        raise _problem(None, "the vault password must not be empty")
    return VaultPassword(value.encode("utf-8"), "prompt")


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _prompt(creating: bool) -> str:
    import typer

    if creating:
        from ssas_deploy.console import err

        err().print("Creating the secrets vault. Choose its password and keep it somewhere "
                    "safe (the school's password manager): nobody can read the secrets "
                    "without it.")
        return typer.prompt("New vault password", hide_input=True, confirmation_prompt=True,
                            err=True)
    return typer.prompt("Vault password", hide_input=True, err=True)


def _from_file(path: Path, source: str, warn: Callable[[str], None]) -> VaultPassword:
    path = path.expanduser()
    if not path.exists():
        raise _problem(path, f"vault password file not found (from {source})")
    if path.is_dir():
        raise _problem(path, f"vault password file is a directory (from {source})")
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR and mode & (stat.S_IRGRP | stat.S_IROTH):
        warn(f"{path}: the vault password file is readable by other users; "
             f"`chmod 600 {path}` (or keep it in a password manager)")
    vault = ansible_vault()
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader

    try:
        secret = vault.get_file_vault_secret(filename=str(path), loader=DataLoader())
        secret.load()
    except AnsibleError as exc:
        raise _problem(path, f"cannot read the vault password (from {source}): "
                             f"{_first_line(exc)}") from None
    return VaultPassword(secret.bytes, f"{source} {path}")


def ansible_vault():
    """`ansible.parsing.vault`, imported on first use only (the CLI starts without Ansible)."""
    try:
        import ansible.parsing.vault as vault
    except ImportError:
        raise OperationFailedError(
            "the secrets vault is read and written with ansible-core, which is not installed: "
            "install the ssas-deploy wheel with its dependencies (README: Installing the "
            "CLI without the checkout), or pip install -e . in a checkout"
        ) from None
    return vault


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _problem(path: Path | None, message: str) -> InvalidInputError:
    return InvalidInputError([Problem(path, None, "vault password" if path is None else "",
                                      message)])
