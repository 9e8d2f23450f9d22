"""Find, merge (`extends:`) and validate sizing profiles, reporting every problem at once."""

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ssas_deploy.errors import InvalidInputError, Problem, validation_message
from ssas_deploy.profiles.cross_checks import cross_check
from ssas_deploy.profiles.models import Profile
from ssas_deploy.profiles.yaml_source import FieldPath, SourcedDocument, load_yaml_mapping
from ssas_deploy.resources import data_dir

MAX_EXTENDS_DEPTH = 8


def builtin_profiles_dir() -> Path:
    return data_dir("sizing_profiles")


def builtin_profile_names() -> list[str]:
    return sorted(p.stem for p in builtin_profiles_dir().glob("*.yaml"))


def resolve_profile_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A path if it looks like one (or exists), else a built-in profile name."""
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        candidate = relative_to / candidate
    looks_like_path = name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path
    if candidate.is_file() or looks_like_path:
        return candidate
    builtin = builtin_profiles_dir() / f"{name_or_path}.yaml"
    if builtin.is_file():
        return builtin
    names = builtin_profile_names()
    hint = difflib.get_close_matches(name_or_path, names, n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise InvalidInputError(
        [
            Problem(
                None,
                None,
                "--profile",
                f"no profile file or built-in profile named '{name_or_path}'{suggestion}; "
                f"built-in: {', '.join(names)}",
            )
        ]
    )


def load_profile(name_or_path: str) -> Profile:
    profile, _warnings = load_profile_with_warnings(name_or_path)
    return profile


def load_profile_with_warnings(name_or_path: str) -> tuple[Profile, list[Problem]]:
    """Validated profile plus warnings (e.g. students outside the tier's range)."""
    doc = _load_merged(resolve_profile_path(name_or_path), chain=())
    try:
        profile = Profile.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidInputError(_problems_from_validation(exc, doc)) from None
    profile._override_sources = _override_sources(profile, doc)
    errors, warnings = cross_check(profile, doc)
    if errors:
        raise InvalidInputError(errors)
    return profile, warnings


def _override_sources(profile: Profile, doc: SourcedDocument) -> dict[str, str]:
    """Override key -> "file.yaml:line" of the file (base or extending) that wrote it."""
    out = {}
    for key in profile.overrides:
        file, line = doc.where(("overrides", key))
        if file is not None:
            out[key] = f"{file.name}:{line}"
    return out


def _load_merged(path: Path, chain: tuple[Path, ...]) -> SourcedDocument:
    path = path.resolve() if path.exists() else path
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise InvalidInputError([Problem(path, None, "extends", f"extends cycle: {cycle}")])
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise InvalidInputError([Problem(path, None, "extends", "extends chain too deep")])
    doc = load_yaml_mapping(path)
    base_ref = doc.data.get("extends")
    if base_ref is None:
        return doc
    if not isinstance(base_ref, str):
        file, line = doc.where(("extends",))
        raise InvalidInputError([Problem(file, line, "extends", "must be a profile name or path")])
    try:
        base_path = resolve_profile_path(base_ref, relative_to=path.parent)
    except InvalidInputError as exc:
        file, line = doc.where(("extends",))
        raise InvalidInputError(
            [Problem(file, line, "extends", p.message) for p in exc.problems]
        ) from None
    base = _load_merged(base_path, (*chain, path))
    return _merge(base, doc)


def _merge(base: SourcedDocument, override: SourcedDocument) -> SourcedDocument:
    """Deep-merge mappings; any other value in the override replaces the base's."""
    merged = SourcedDocument(data=_merge_values(base.data, override.data, ()))
    merged.lines = dict(base.lines)
    for path, location in override.lines.items():
        # A replaced list drops the base's item locations under it.
        merged.lines[path] = location
    return merged


def _merge_values(base: Any, override: Any, at: FieldPath) -> Any:
    both_mappings = isinstance(base, dict) and isinstance(override, dict)
    if both_mappings and not _switches_kind(at, base, override):
        result = dict(base)
        for key, value in override.items():
            result[key] = _merge_values(base[key], value, (*at, key)) if key in base else value
        return result
    return override


def _switches_kind(at: FieldPath, base: dict, override: dict) -> bool:
    """A host spec that moves between dedicated and colocated is replaced, not merged."""
    is_role_spec = len(at) == 2 and at[0] == "hosts"
    return is_role_spec and ("colocate" in base) != ("colocate" in override)


def _problems_from_validation(exc: ValidationError, doc: SourcedDocument) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[FieldPath, str]] = set()
    for error in exc.errors(include_url=False):
        loc = _clean_location(error["loc"], doc.data)
        message = _message(error, loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        file, line = doc.where(loc)
        problems.append(Problem(file, line, ".".join(str(p) for p in loc), message))
    # pydantic reports by field order; a reader goes down the file. Files keep the order
    # of their first problem (a profile before the base it extends, or the other way).
    files = list(dict.fromkeys(str(p.file) for p in problems))
    return sorted(problems, key=lambda p: (files.index(str(p.file)), p.line or 0))


def _clean_location(loc: tuple, data: dict) -> FieldPath:
    """Drop pydantic's union-branch names (e.g. 'HostSpec') that are not in the document."""
    cleaned: list[str | int] = []
    node: Any = data
    for part in loc:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_mapping or in_list:
            cleaned.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part[:1].islower():
            cleaned.append(part)  # a missing required field
            node = None
    return tuple(cleaned)


def _message(error: dict, loc: FieldPath) -> str:
    return validation_message(error["type"], loc, error["msg"], _allowed_keys)


def _allowed_keys(parent: FieldPath) -> list[str]:
    """Field names valid at `parent`, found by walking the model classes."""
    from ssas_deploy.profiles.models import Colocated, HostSpec

    model: type[BaseModel] = Profile
    for part in parent:
        if model.__name__ == "Hosts":
            return sorted({*HostSpec.model_fields, *Colocated.model_fields})
        annotation = model.model_fields[str(part)].annotation
        model = next(
            (a for a in _model_types(annotation)),
            None,
        )
        if model is None:
            return []
    if model.__name__ == "Hosts":
        return sorted(model.model_fields)
    return sorted(model.model_fields)


def _model_types(annotation: Any):
    from typing import get_args

    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            yield candidate
