"""The few podman calls the sandbox needs, with errors turned into clear messages."""

import json
import resource
import shutil
import subprocess
from collections.abc import Sequence

from ssas_deploy.errors import OperationFailedError

SETUP_HINT = "run `bash scripts/testhosts.sh setup` as root from an ssas-deploy checkout"


def podman_binary() -> str:
    path = shutil.which("podman")
    if not path:
        raise OperationFailedError(f"podman is not installed: {SETUP_HINT} (installs podman, "
                                   "runc and builds the base image)")
    return path


def podman(args: Sequence[str], *, check: bool = True, input_text: str | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    command = [podman_binary(), *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, input=input_text,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise OperationFailedError(f"`podman {' '.join(args[:2])}` did not finish within "
                                   f"{timeout:.0f} s") from None
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise OperationFailedError(f"`podman {' '.join(args[:2])}` failed: "
                                   f"{detail[-1] if detail else f'exit {result.returncode}'}")
    return result


def image_exists(image: str) -> bool:
    return podman(["image", "exists", image], check=False).returncode == 0


def container_exists(name: str) -> bool:
    return podman(["container", "exists", name], check=False).returncode == 0


def list_containers(label_filter: str) -> list[dict]:
    """`podman ps -a` as dicts (Id, Names, State, Labels) for containers matching a label."""
    result = podman(["ps", "-a", "--filter", f"label={label_filter}", "--format", "json"])
    return json.loads(result.stdout or "[]") or []


def inspect(names: Sequence[str]) -> list[dict]:
    if not names:
        return []
    return json.loads(podman(["container", "inspect", *names]).stdout or "[]")


def address_of(inspected: dict) -> str | None:
    settings = inspected.get("NetworkSettings") or {}
    if settings.get("IPAddress"):
        return settings["IPAddress"]
    for network in (settings.get("Networks") or {}).values():
        if network.get("IPAddress"):
            return network["IPAddress"]
    return None


def runtime_options() -> list[str]:
    """What scripts/testhosts.sh puts in the engine config, repeated per container.

    crun fails on hybrid cgroups ("cgroups in hybrid mode not supported"), and podman's default
    rlimits exceed what a machine without CAP_SYS_RESOURCE grants; passing both explicitly makes
    the sandbox independent of whether the engine config was written.
    """
    options = []
    if shutil.which("runc"):
        options += ["--runtime", "runc"]
    nofile = _hard_limit(resource.RLIMIT_NOFILE, 65536)
    nproc = _hard_limit(resource.RLIMIT_NPROC, 32768)
    options += ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]
    return options


def _hard_limit(which: int, cap: int) -> int:
    _soft, hard = resource.getrlimit(which)
    return cap if hard == resource.RLIM_INFINITY else min(hard, cap)
