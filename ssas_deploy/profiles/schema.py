"""The profile JSON Schema, also committed as sizing_profiles/profile.schema.json."""

from ssas_deploy.profiles.models import Profile


def profile_schema() -> dict:
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ssas-deploy sizing profile"
    return schema
