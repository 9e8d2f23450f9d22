"""Sandbox fixtures: real systemd containers under rootful podman (the shared base image).

Tests marked `sandbox` skip with the reason when podman, root or the base image is missing;
when the CI environment variable is set they fail instead, so CI cannot pass by skipping.
"""

import os
import secrets
import shutil
import subprocess

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sandbox: creates local systemd containers (rootful podman, base image)")


def _missing_prerequisite() -> str | None:
    from ssas_deploy.sandbox.core import image_name

    if not shutil.which("podman"):
        return "podman is not installed (bash scripts/testhosts.sh setup)"
    if os.geteuid() != 0:
        return "the sandbox needs root (rootful podman)"
    image = image_name()
    if subprocess.run(["podman", "image", "exists", image], check=False).returncode != 0:
        return f"base image {image} is missing (bash scripts/testhosts.sh setup)"
    return None


@pytest.fixture(scope="session")
def sandbox_prerequisites():
    reason = _missing_prerequisite()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"sandbox tests cannot run in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def small_sandbox(sandbox_prerequisites, tmp_path_factory):
    """A sandbox of the small profile (web-1 and its backup host backup-1), under a name
    unique to this run.

    The profile only renames `small` (`extends: small`), so a sandbox a developer keeps of
    the built-in profile is never reused or removed by the tests.
    """
    from ssas_deploy.profiles.loader import load_profile
    from ssas_deploy.sandbox import core

    root = tmp_path_factory.mktemp("sandbox")
    name = f"t{secrets.token_hex(3)}-small"
    profile_file = root / f"{name}.yaml"
    # The backup host shrunk to what a CI machine has, so preflight can pass on it.
    profile_file.write_text(f"name: {name}\nextends: small\n"
                            "hosts:\n  backup: {disk_gib: 5}\n", encoding="utf-8")
    directory = root / "dir"
    profile = load_profile(str(profile_file))
    try:
        sandbox = core.up(profile, directory)
        yield {"profile": profile, "profile_file": profile_file, "name": name,
               "directory": directory, "sandbox": sandbox, "root": root}
    finally:
        core.down(name, purge=True, directory=directory)
