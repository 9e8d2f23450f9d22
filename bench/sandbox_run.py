"""What the sandbox benchmarks share: a throwaway profile and sandbox folder, the CLI timed."""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def ssas(*args: str, env: dict) -> float:
    """Run `ssas-deploy ARGS` quietly; its wall time in seconds (CalledProcessError if it
    fails)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ssas_deploy", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


@dataclass
class Throwaway:
    root: Path  # a temporary folder for the benchmark's own files
    profile: Path  # `name: b<random>-<tier>`, extending the tier
    inventory: Path  # where `sandbox up --dir` writes hosts.yaml
    env: dict  # the environment, with a random SSAS_VAULT_PASSWORD

    def up(self) -> float:
        """`sandbox up`; seconds."""
        return ssas("sandbox", "up", "--profile", str(self.profile), "--dir",
                    str(self.inventory.parent), env=self.env)

    def apply_args(self) -> list[str]:
        return ["apply", "--profile", str(self.profile), "--inventory", str(self.inventory),
                "--force"]


@contextmanager
def throwaway_sandbox(kind: str, tier: str, extra_yaml: str = "",
                      keep: bool = False) -> Iterator[Throwaway]:
    """A profile extending `tier` (plus `extra_yaml` lines) in a temporary folder; on exit the
    sandbox is removed with `sandbox down --purge` and the folder deleted, unless `keep`."""
    root = Path(tempfile.mkdtemp(prefix=f"ssas-bench-{kind}-"))
    name = f"b{secrets.token_hex(3)}-{tier}"
    profile = root / f"{name}.yaml"
    profile.write_text(f"name: {name}\nextends: {tier}\n{extra_yaml}")
    run = Throwaway(root, profile, root / "sandbox" / "hosts.yaml",
                    {**os.environ, "SSAS_VAULT_PASSWORD": secrets.token_urlsafe(16)})
    try:
        yield run
    finally:
        if not keep:
            ssas("sandbox", "down", "--profile", str(profile), "--dir",
                 str(run.inventory.parent), "--purge", env=run.env)
            shutil.rmtree(root, ignore_errors=True)
