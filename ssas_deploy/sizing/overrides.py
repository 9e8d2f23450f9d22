"""A profile's `overrides:`: read them (name, host group, value) and pin them into sizing.

A key is `section.setting` as `plan --explain` shows it (e.g. `postgresql.work_mem`), for
every host that derives it, or `group/section.setting` (e.g.
`database_replica/postgresql.work_mem`) for the hosts of one dedicated host group of the
profile's `hosts:`; a group's key wins over the plain one on that group's hosts.
"""

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

from ssas_deploy.profiles.models import HostSpec, Profile, Role
from ssas_deploy.sizing.derived import Derived
from ssas_deploy.sizing.overridable import OVERRIDABLE
from ssas_deploy.topology import Host


@dataclass(frozen=True)
class Override:
    """One valid override: `group` None means every host deriving `name`."""

    key: str  # as written in the profile
    group: Role | None
    name: str  # "postgresql.work_mem"
    value: Any  # normalised by the name's Kind ("16MB", 200, "off")
    where: str  # "my-school.yaml:12", or "the profile" when not loaded from a file


def read_overrides(profile: Profile) -> tuple[list[Override], list[tuple[str, str]]]:
    """The profile's valid overrides, and (key, message) for each refused one: an unknown
    name (with a did-you-mean), a value not of the name's kind (with the accepted form), or
    a group that is not a dedicated host group of the profile."""
    valid: list[Override] = []
    refused: list[tuple[str, str]] = []
    sources = profile.override_sources()
    for key, raw in profile.overrides.items():
        group_text, _, name = key.rpartition("/")
        try:
            group = _group(profile, group_text) if group_text else None
            kind = OVERRIDABLE.get(name)
            if kind is None:
                raise ValueError(f"no derived value is named '{name}'{did_you_mean(name)}; "
                                 "names are as `plan --explain` shows them "
                                 "(section.setting, e.g. postgresql.work_mem)")
            value = kind.check(raw)
        except ValueError as exc:
            refused.append((key, str(exc)))
            continue
        valid.append(Override(key, group, name, value, sources.get(key, "the profile")))
    return valid, refused


def did_you_mean(name: str) -> str:
    """' (did you mean 'x'?)' for the closest known name, else ''."""
    hint = difflib.get_close_matches(name, list(OVERRIDABLE), n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _group(profile: Profile, text: str) -> Role:
    try:
        role = Role(text)
    except ValueError:
        hint = difflib.get_close_matches(text, [r.value for r in Role], n=1)
        mean = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ValueError(f"'{text}' is not a host group{mean}; a key is section.setting or "
                         "group/section.setting with a group of `hosts:`") from None
    spec = profile.hosts.spec(role)
    if spec is None:
        raise ValueError(f"the profile has no hosts.{text}")
    if not isinstance(spec, HostSpec):
        raise ValueError(f"hosts.{text} runs on the host(s) of {spec.colocate.value}: use "
                         f"{spec.colocate.value}/ for them")
    return role


def for_host(overrides: list[Override], host: Host) -> dict[str, Override]:
    """name -> the override that applies on `host` (its group's before the plain one)."""
    out = {o.name: o for o in overrides if o.group is None}
    out.update({o.name: o for o in overrides if o.group is host.group})
    return out


def pinned(derived: Derived, override: Override) -> Derived:
    """The override's value, remembering the value it replaces for `plan --explain`."""
    return Derived(override.value, f"overridden in {override.where}",
                   "the profile's overrides", derived=derived)


def pin_settings(settings: dict[str, Derived], section: str,
                 here: dict[str, Override]) -> dict[str, Derived]:
    """`settings` (setting -> Derived of one section) with this host's overrides in."""
    out = dict(settings)
    for setting, derived in settings.items():
        override = here.get(f"{section}.{setting}")
        if override is not None:
            out[setting] = pinned(derived, override)
    return out


def pin_fields(sizing: Any, section: str, here: dict[str, Override]) -> Any:
    """A copy of a frozen sizing dataclass (its Derived fields) with the overrides in."""
    fields = {f.name: getattr(sizing, f.name) for f in dataclasses.fields(sizing)}
    derived = {k: v for k, v in fields.items() if isinstance(v, Derived)}
    changed = {k: v for k, v in pin_settings(derived, section, here).items()
               if v is not derived[k]}
    return dataclasses.replace(sizing, **changed) if changed else sizing
