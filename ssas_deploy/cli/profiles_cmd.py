"""`ssas-deploy profiles list | show | validate | schema`."""

import json
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.console import display_error, display_warning, out, print_raw, reporting
from ssas_deploy.errors import EXIT_INVALID_INPUT, InvalidInputError, shown_problems

app = typer.Typer(help="List, show, validate sizing profiles and print their JSON Schema.",
                  no_args_is_help=True)


@app.command("list")
def list_profiles() -> None:
    """The built-in profiles with their tier, size and cost."""
    from rich.table import Table

    from ssas_deploy.profiles.loader import builtin_profile_names, load_profile

    table = Table("profile", "tier", "students", "peak users", "hosts", "monthly cost (USD)")
    with reporting():
        for name in builtin_profile_names():
            profile = load_profile(name)
            table.add_row(name, profile.tier.value, f"{profile.students:,}",
                          f"{profile.peak_concurrent_users:,}", str(_host_count(profile)),
                          _cost(profile))
    out().print(table)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Built-in name or path.")]) -> None:
    """The fully merged profile (after `extends:`), as YAML."""
    import yaml

    from ssas_deploy.profiles.loader import load_profile

    with reporting():
        profile = load_profile(name)
    data = profile.model_dump(mode="json", exclude_none=True)
    print_raw(yaml.safe_dump(data, sort_keys=False))


@app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="Profile files.")]) -> None:
    """Check profiles; every problem is printed as FILE:LINE: field: message."""
    from ssas_deploy.profiles.loader import load_profile_with_warnings

    failed = False
    for file in files:
        try:
            _profile, warnings = load_profile_with_warnings(str(file))
        except InvalidInputError as exc:
            failed = True
            for line in shown_problems(exc.problems):
                display_error(line)
            continue
        for warning in warnings:
            display_warning(str(warning))
        out().print(f"{file}: ok")
    if failed:
        raise typer.Exit(EXIT_INVALID_INPUT)


@app.command("schema")
def schema() -> None:
    """The profile JSON Schema (for editor autocompletion)."""
    from ssas_deploy.profiles.schema import profile_schema

    print_raw(json.dumps(profile_schema(), indent=2))


def _host_count(profile) -> int:
    from ssas_deploy.profiles.models import HostSpec, Role

    return sum(s.count for r in Role if isinstance(s := profile.hosts.spec(r), HostSpec))


def _cost(profile) -> str:
    cost = profile.monthly_cost
    return f"{cost.usd_min:,}-{cost.usd_max:,}" if cost.usd_max else f"{cost.usd_min:,}+"
