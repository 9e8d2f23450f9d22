"""Run a real daemon's checker against rendered files as if they were installed.

The checkers read absolute paths (/etc/nginx/..., /etc/redis/...). Rather than touch this
machine's /etc, each check runs in a private mount namespace (`unshare -m`) where copies of
the real directories, overlaid with the rendered files, are bind-mounted in place.
"""

import shlex
import shutil
import subprocess
from pathlib import Path


def overlay(real_dir: str, rendered_host_tree: Path, staging: Path) -> Path:
    """A copy of `real_dir` (if it exists) with the host's rendered files on top."""
    target = staging / real_dir.strip("/").replace("/", "_")
    if Path(real_dir).is_dir():
        shutil.copytree(real_dir, target, symlinks=True)
    else:
        target.mkdir(parents=True)
    rendered = rendered_host_tree / real_dir.lstrip("/")
    if rendered.is_dir():
        shutil.copytree(rendered, target, dirs_exist_ok=True)
    return target


def run_with_mounts(mounts: dict[str, Path], command: str, timeout: int = 60):
    """Run `command` with each real path replaced by the given directory (namespace only)."""
    binds = " && ".join(
        f"mount --bind {shlex.quote(str(src))} {shlex.quote(dst)}" for dst, src in mounts.items()
    )
    script = f"{binds} && {command}" if binds else command
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=timeout)
