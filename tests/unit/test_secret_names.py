"""secrets.names is the one list of secret names: what travels to the hosts, and how."""

import yaml

from ssas_deploy import rendering
from ssas_deploy.runner.apply import host_secrets
from ssas_deploy.secrets.names import (
    ALL_NAMES,
    GENERATED,
    HOST_VARS,
    OPTIONAL,
    SSAS_SECRETS_NAMES,
)

from ..conftest import REPO


def test_rendering_and_apply_take_their_names_from_secrets_names():
    assert rendering.SECRET_NAMES == SSAS_SECRETS_NAMES
    assert set(rendering.masked_secrets()) == set(SSAS_SECRETS_NAMES)
    stored = {name: f"value-of-{name}" for name in ALL_NAMES}
    shipped = host_secrets(stored, tls_key=True)
    assert set(shipped) == set(SSAS_SECRETS_NAMES) | set(HOST_VARS)


def test_every_secret_travels_one_way_or_is_kept_on_the_controller():
    # An optional secret travels as its own variable, never inside ssas_secrets.
    assert {s.name for s in OPTIONAL} == set(HOST_VARS)
    assert not {s.name for s in OPTIONAL if s.in_ssas_secrets}
    # Every generated one travels in ssas_secrets (a role's argument spec lists them all).
    assert not {s.name for s in GENERATED if not s.in_ssas_secrets}


def test_every_role_that_lists_the_keys_of_ssas_secrets_lists_these():
    listed = 0
    for path in sorted(REPO.glob("roles/*/meta/argument_specs.yml")):
        for entry, spec in yaml.safe_load(path.read_text())["argument_specs"].items():
            option = spec.get("options", {}).get("ssas_secrets") or {}
            if "options" in option:
                listed += 1
                assert set(option["options"]) == set(SSAS_SECRETS_NAMES), (path, entry)
    assert listed >= 5  # backup, pgbouncer, postgresql, redis, ssas_app
