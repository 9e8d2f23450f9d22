"""`ssas-deploy users create | assign | list | disable | reset-password`: the site's staff
accounts. Roles: a teacher sees the students of the classes assigned to them (`--class`),
a counsellor every student, an admin everything and also writes (and has the admin site).

Everything runs as `ssas-manage ssas_users ...` on the first web host (the app's own
management command, in the app's environment). A new password is generated here
(`secrets.token_urlsafe`, 128 bits), written once to a 0600 file the operator names (refused
if it exists), and sent to the host on the command's stdin: it is never on a command line,
printed or logged. If the host refuses, the file is removed again.

Exit codes: 0 done; 1 the host failed or could not be reached (named); 2 bad input (unknown
role, the password file exists or cannot be written, no such user).
"""

import json
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.release_cmd import InventoryRequired, ProfileDefaulted
from ssas_deploy.cli.web_host import manage_on_web_host
from ssas_deploy.console import display_error, out, print_raw
from ssas_deploy.errors import EXIT_INVALID_INPUT

app = typer.Typer(help="Staff accounts of the deployed site: create, list, disable, reset "
                       "a password.", no_args_is_help=True)

# The app's roles (ssas.students.roles).
ROLES = ("teacher", "counsellor", "admin")

NameArgument = Annotated[str, typer.Argument(help="The account's username.")]
RoleOption = Annotated[str, typer.Option(
    "--role", help="teacher (reads the students of their --class classes), counsellor (reads "
                   "every student) or admin (also writes; the admin site)")]
ClassOption = Annotated[list[str] | None, typer.Option(
    "--class", metavar="CLASS", help="A class a teacher teaches, as the students' class_name "
                                     "(repeat).")]
SchoolOption = Annotated[str | None, typer.Option(
    "--school", metavar="CODE", help="The classes' school (default: the only school).")]
EmailOption = Annotated[str, typer.Option("--email", help="For password-reset mails.")]
PasswordFileOption = Annotated[Path, typer.Option(
    "--password-file", help="Where the generated password is written (mode 0600; must not "
                            "exist yet). Hand it to the person, then delete it.")]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]


@app.command("create")
def create(name: NameArgument, inventory: InventoryRequired, role: RoleOption,
           password_file: PasswordFileOption, email: EmailOption = "",
           classes: ClassOption = None, school: SchoolOption = None,
           profile: ProfileDefaulted = None) -> None:
    """Create an account with a generated password (written to --password-file only)."""
    _check_role(role)
    _check_name(name)
    if classes and role != "teacher":
        display_error(f"--class is for teachers; a {role} sees every student (nothing was "
                      "changed)")
        raise typer.Exit(EXIT_INVALID_INPUT)
    _with_new_password(profile, inventory, password_file, "create", name, "--role", role,
                       "--email", email, *_class_args(classes, school))
    out().print(f"Created {role} {name}. The initial password is in {password_file} (0600): "
                "they sign in at /accounts/login/ and change it.", markup=False,
                highlight=False)


@app.command("assign")
def assign(name: NameArgument, inventory: InventoryRequired, classes: ClassOption = None,
           school: SchoolOption = None, profile: ProfileDefaulted = None) -> None:
    """Set the classes a teacher teaches (replacing the ones before; none: no --class)."""
    _run(profile, inventory, "assign", name, *_class_args(classes, school))
    out().print(f"{name} teaches {', '.join(classes or []) or 'no class'}.", markup=False,
                highlight=False)


def _class_args(classes: list[str] | None, school: str | None) -> list[str]:
    args = [arg for name in classes or [] for arg in ("--class", name)]
    return args + (["--school", school] if school else [])


@app.command("reset-password")
def reset_password(name: NameArgument, inventory: InventoryRequired,
                   password_file: PasswordFileOption,
                   profile: ProfileDefaulted = None) -> None:
    """Give an account a new generated password (written to --password-file only)."""
    _with_new_password(profile, inventory, password_file, "reset-password", name)
    out().print(f"New password for {name} in {password_file} (0600).", markup=False,
                highlight=False)


@app.command("disable")
def disable(name: NameArgument, inventory: InventoryRequired,
            profile: ProfileDefaulted = None) -> None:
    """Stop an account from signing in (its sessions and API token stop working too)."""
    _run(profile, inventory, "disable", name)
    out().print(f"Disabled {name}.", markup=False, highlight=False)


@app.command("list")
def list_users(inventory: InventoryRequired, profile: ProfileDefaulted = None,
               as_json: JsonOption = False) -> None:
    """Every account: username, role, active, email, last sign-in (UTC)."""
    from rich.table import Table

    users = json.loads(_run(profile, inventory, "list", "--json"))
    if as_json:
        print_raw(json.dumps(users, indent=1))
        return
    table = Table("username", "role", "classes", "active", "email", "last sign-in (UTC)")
    for user in users:
        classes = ", ".join(user.get("classes", [])) or ("none" if user["role"] == "teacher"
                                                         else "all")
        table.add_row(user["username"], user["role"], classes,
                      "yes" if user["active"] else "no", user["email"] or "",
                      user["last_login"] or "never")
    out().print(table)


def _check_role(role: str) -> None:
    if role not in ROLES:
        display_error(f"--role {role}: expected one of {', '.join(ROLES)}; nothing was changed")
        raise typer.Exit(EXIT_INVALID_INPUT)


def _check_name(name: str) -> None:
    # Django's own rule for usernames (UnicodeUsernameValidator), checked before any change.
    if not re.fullmatch(r"[\w.@+-]{1,150}", name):
        display_error(f"username '{name}': use 1-150 letters, digits and @ . + - _ only; "
                      "nothing was changed")
        raise typer.Exit(EXIT_INVALID_INPUT)


def _with_new_password(profile, inventory: Path, password_file: Path, *args: str) -> None:
    import secrets

    password = secrets.token_urlsafe(16)
    if password_file.is_dir():
        display_error(f"{password_file} is a directory: name a file in it (nothing was "
                      "changed)")
        raise typer.Exit(EXIT_INVALID_INPUT)
    try:
        descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        display_error(f"{password_file} exists; name a new file (nothing was changed)")
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    except OSError as exc:
        display_error(f"{password_file}: {exc.strerror}; nothing was changed")
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    try:
        _run(profile, inventory, *args, "--password-stdin", stdin=password + "\n")
    except BaseException:
        password_file.unlink(missing_ok=True)
        raise


def _run(profile, inventory: Path, *args: str, stdin: str | None = None) -> str:
    """`ssas-manage ssas_users ARGS` on the first web host; its stdout."""
    return manage_on_web_host(profile, inventory, "ssas_users", *args, stdin=stdin)
