"""Local sandbox hosts: a profile's topology as systemd containers (rootful podman)."""

from ssas_deploy.sandbox.core import (
    Sandbox,
    SandboxContainer,
    SandboxHost,
    container_name,
    default_directory,
    down,
    status,
    up,
)

__all__ = ["Sandbox", "SandboxContainer", "SandboxHost", "container_name", "default_directory",
           "down", "status", "up"]
