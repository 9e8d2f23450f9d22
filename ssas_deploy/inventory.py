"""hosts.yaml: which address plays each role of the profile, checked against the profile."""

import difflib
import ipaddress
from pathlib import Path
from typing import Annotated, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ssas_deploy.errors import InvalidInputError, Problem, validation_message
from ssas_deploy.profiles.models import HostSpec, Profile, Role, is_host_name_or_ipv4
from ssas_deploy.profiles.yaml_source import load_yaml_mapping
from ssas_deploy.topology import Placement, SshTarget


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SshSettings(_Strict):
    user: str | None = None
    port: Annotated[int | None, Field(ge=1, le=65535)] = None
    key_file: str | None = None


class InventoryHost(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9.-]*$")]
    address: str
    ssh: SshSettings = SshSettings()

    @field_validator("address")
    @classmethod
    def _ip_address_or_host_name(cls, value: str) -> str:
        """The address goes unquoted into nftables, gunicorn and Django settings: an IP
        address (v4 or v6) or a DNS host name, nothing else."""
        try:
            ipaddress.IPv6Address(value)
            return value
        except ValueError:
            pass
        if is_host_name_or_ipv4(value):
            return value
        raise ValueError(f"'{value}' is not an IP address or a host name "
                         "(e.g. 10.0.1.5 or web1.school.internal)")


class Inventory(_Strict):
    ssh: SshSettings = SshSettings()
    hosts: dict[str, list[InventoryHost]]


def known_hosts_for(inventory: Path) -> Path:
    """`hosts.yaml` -> `hosts.known_hosts`: the pinned SSH host keys of an inventory."""
    return inventory.with_name(f"{inventory.stem}.known_hosts")


def load_inventory(path: Path, profile: Profile,
                   known_hosts: Path | None = None) -> dict[Role, Placement]:
    """The hosts of `path` placed in `profile`'s roles; each host's SSH settings pin keys in
    `known_hosts` (default: the inventory's own, `known_hosts_for(path)`; a staged copy of
    an inventory passes the original's). Raises InvalidInputError naming file and line."""
    known_hosts = known_hosts or known_hosts_for(path)
    doc = load_yaml_mapping(path)

    def problem(loc: tuple, message: str) -> Problem:
        file, line = doc.where(loc)
        return Problem(file, line, ".".join(str(p) for p in loc), message)

    try:
        inventory = Inventory.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidInputError(sorted(
            (problem(tuple(e["loc"]), _message(e)) for e in exc.errors(include_url=False)),
            key=lambda p: (p.line or 0, p.field))) from None
    problems: list[Problem] = []
    placements: dict[Role, Placement] = {}
    roles = {r.value: r for r in Role}
    for role_name, entries in inventory.hosts.items():
        if role_name not in roles:
            hint = difflib.get_close_matches(role_name, list(roles), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(problem(("hosts", role_name), f"unknown role{suggestion}"))
            continue
        role = roles[role_name]
        spec = profile.hosts.spec(role)
        if not isinstance(spec, HostSpec):
            why = (f"colocated with {spec.colocate.value} in profile '{profile.name}'"
                   if spec else f"not in profile '{profile.name}'")
            problems.append(problem(("hosts", role_name), f"role is {why}: list no hosts for it"))
            continue
        if len(entries) != spec.count:
            problems.append(problem(("hosts", role_name),
                                    f"profile '{profile.name}' needs {spec.count} host(s), "
                                    f"inventory lists {len(entries)}"))
            continue
        placements[role] = Placement(
            names=[e.name for e in entries],
            addresses=[e.address for e in entries],
            ssh=[_ssh(inventory.ssh, e.ssh, known_hosts) for e in entries],
        )
    for role in Role:
        if isinstance(profile.hosts.spec(role), HostSpec) and role.value not in inventory.hosts:
            problems.append(problem(("hosts",), f"missing role '{role.value}' "
                                                f"({profile.hosts.spec(role).count} host(s))"))
    problems += _duplicates(inventory, problem)
    if problems:
        raise InvalidInputError(problems)
    return placements


def _message(error: dict) -> str:
    """pydantic's error in the words of the inventory (errors.validation_message)."""
    return validation_message(error["type"], tuple(error["loc"]), error["msg"], _allowed_keys)


def _allowed_keys(parent: tuple) -> list[str]:
    """The keys valid at `parent` (a pydantic location), found by walking the models:
    ("hosts", "web", 0) -> InventoryHost's fields."""
    model: type[BaseModel] = Inventory
    for part in parent:
        if isinstance(part, str) and part in model.model_fields:
            model = _first_model(model.model_fields[part].annotation) or model
    return sorted(model.model_fields)


def _first_model(annotation) -> type[BaseModel] | None:
    """The model inside an annotation such as dict[str, list[InventoryHost]]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        if found := _first_model(argument):
            return found
    return None


def _ssh(defaults: SshSettings, own: SshSettings, known_hosts: Path) -> SshTarget:
    return SshTarget(
        user=own.user or defaults.user or "root",
        port=own.port or defaults.port or 22,
        key_file=own.key_file or defaults.key_file,
        known_hosts=str(known_hosts.resolve()),
    )


def _duplicates(inventory: Inventory, problem) -> list[Problem]:
    problems = []
    seen_names: dict[str, str] = {}
    seen_addresses: dict[str, str] = {}
    for role_name, entries in inventory.hosts.items():
        for index, entry in enumerate(entries):
            where = ("hosts", role_name, index)
            if entry.name in seen_names:
                problems.append(problem((*where, "name"), f"duplicate host name '{entry.name}' "
                                                          f"(also in {seen_names[entry.name]})"))
            if entry.address in seen_addresses:
                problems.append(problem((*where, "address"),
                                        f"duplicate address '{entry.address}' (also "
                                        f"{seen_addresses[entry.address]}); use colocate in "
                                        "the profile to share a host"))
            seen_names.setdefault(entry.name, role_name)
            seen_addresses.setdefault(entry.address, f"{role_name} {entry.name}")
    return problems
