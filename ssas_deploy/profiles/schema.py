"""The profile JSON Schema, also committed as sizing_profiles/profile.schema.json."""

import re

from ssas_deploy.profiles.models import Profile, Role


def profile_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a profile file, `overrides` keys included."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ssas-deploy sizing profile"
    schema["properties"]["overrides"].update(overrides_schema())
    return schema


def overrides_schema() -> dict:
    """Every overridable name with its value's schema and accepted form, plain (every host)
    and behind a host group (`database_replica/postgresql.work_mem`); nothing else."""
    from ssas_deploy.sizing.overridable import OVERRIDABLE

    groups = "|".join(re.escape(r.value) for r in Role)
    return {
        "properties": {name: {**kind.schema, "description": kind.form}
                       for name, kind in OVERRIDABLE.items()},
        "patternProperties": {
            f"^({groups})/{re.escape(name)}$": {**kind.schema, "description": kind.form}
            for name, kind in OVERRIDABLE.items()
        },
        "additionalProperties": False,
    }
