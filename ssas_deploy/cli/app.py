"""The `ssas-deploy` command: one module per verb group, wired together here."""

import gc

import typer

from ssas_deploy.cli import (
    apply_cmd,
    backup_cmd,
    data_cmd,
    handover_cmd,
    migrate_cmd,
    plan_cmd,
    preflight_cmd,
    profiles_cmd,
    release_cmd,
    render_cmd,
    restore_cmd,
    sandbox_cmd,
    secrets_cmd,
    users_cmd,
    verify_cmd,
)

app = typer.Typer(
    name="ssas-deploy",
    help="Size, render and deploy the Smart Student Analytics System for a school.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(profiles_cmd.app, name="profiles")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(backup_cmd.app, name="backup")
app.add_typer(users_cmd.app, name="users")
app.add_typer(data_cmd.app, name="data")
app.command("preflight")(preflight_cmd.preflight)
app.command("apply")(apply_cmd.apply)
app.command("status")(release_cmd.status)
app.command("rollback")(release_cmd.rollback)
app.command("migrate")(migrate_cmd.migrate)
app.command("handover")(handover_cmd.handover)
app.command("restore")(restore_cmd.restore)
app.command("render")(render_cmd.render)
app.command("plan")(plan_cmd.plan)
app.command("hostvars", hidden=False)(render_cmd.hostvars)
app.command("verify")(verify_cmd.verify)


def main() -> None:
    try:
        app()
    finally:
        # The command has finished. At exit the interpreter would run a full garbage
        # collection over every object the imports made (pydantic's schemas, typer's
        # commands, the templates): ~40 ms of CPU, a tenth of a cold `render`. Freezing
        # them skips that pass; the OS takes the memory back. Standard streams are still
        # flushed and atexit handlers still run.
        gc.freeze()
