"""Exact command lines for a deployment: first admin, handover, restore.

Only strings: nothing here connects anywhere. Paths and names are shell-quoted where they
need it; a leading `~/` of a key file is kept so the shell still expands it.
"""

from pathlib import Path

from ssas_deploy.ssh import shell_word, ssh_prefix
from ssas_deploy.topology import Host

ENV_HELPER = "ssas-env"


def as_root_remote(host: Host, command: str) -> str:
    """`command` prefixed with `sudo` unless the inventory logs in as root."""
    return command if host.ssh.user == "root" else f"sudo {command}"


def first_admin_command(host: Host) -> str:
    """The interactive `createsuperuser` on an app host, over SSH with a terminal.

    `ssas-env` (installed by the app role) runs it as the app user with the app's settings
    and secrets, exactly as the running site sees them.
    """
    return (f"{ssh_prefix(host, tty=True)} "
            f"{as_root_remote(host, f'{ENV_HELPER} ssas-manage createsuperuser')}")


def handover_command(profile: str, inventory: Path | str) -> str:
    """`ssas-deploy handover --profile P --inventory I` with the paths as given."""
    return (f"ssas-deploy handover --profile {shell_word(str(profile))} "
            f"--inventory {shell_word(str(inventory))}")


def restore_commands(inventory: Path | str) -> tuple[str, str]:
    """(restore the newest backup, restore to a point in time) command lines.

    The second carries the placeholder `'YYYY-MM-DD HH:MM:SS'` for the reader to fill.
    """
    base = f"ssas-deploy restore --inventory {shell_word(str(inventory))} --yes"
    return base, f"{base} --at 'YYYY-MM-DD HH:MM:SS'"


def replacement_command(inventory: Path | str, database_host: str) -> str:
    """`restore --to-host` onto a new machine for `database_host`; the placeholder
    `NEW_ADDRESS` is for the reader to fill."""
    return (f"ssas-deploy restore --inventory {shell_word(str(inventory))} "
            f"--to-host {shell_word(database_host)}=NEW_ADDRESS --yes")


def user_create_command(inventory: Path | str, name: str, role: str) -> str:
    """`ssas-deploy users create NAME --role ROLE ...` with a password file named after the
    account and the placeholder e-mail `NAME@school.example` for the reader to fill; a
    teacher gets the placeholder `--class CLASS` (teachers see their classes' students)."""
    classes = " --class CLASS" if role == "teacher" else ""
    return (f"ssas-deploy users create {shell_word(name)} --role {role}{classes} "
            f"--email {shell_word(name)}@school.example "
            f"--password-file {shell_word(name)}.password "
            f"--inventory {shell_word(str(inventory))}")


def data_import_command(inventory: Path | str) -> str:
    """`ssas-deploy data import` of the school's export files (placeholders)."""
    return (f"ssas-deploy data import students.csv scores.csv "
            f"--inventory {shell_word(str(inventory))} --dry-run")
