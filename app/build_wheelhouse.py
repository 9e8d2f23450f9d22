#!/usr/bin/env python3
"""Build an offline wheelhouse: the ssas-app wheel plus every pinned dependency wheel.

    python build_wheelhouse.py OUTPUT_DIR [--lock requirements.lock]

Target hosts install with no network:
    pip install --no-index --find-links OUTPUT_DIR ssas-app

Wheels are for the interpreter and platform running this script (Debian 12,
CPython 3.11, x86_64, like the target hosts). Dependency versions and hashes come
from the committed lock file; regenerate it with
    pip-compile --generate-hashes --strip-extras -o requirements.lock pyproject.toml
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", re.MULTILINE)


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)  # noqa: S603 - fixed pip invocation


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def check_complete(out: Path, lock: Path) -> None:
    """Every pinned requirement must be present as a wheel of exactly that version."""
    wheels = {(normalise(w.name.split("-")[0]), w.name.split("-")[1]) for w in out.glob("*.whl")}
    missing = [f"{n}=={v}" for n, v in PIN.findall(lock.read_text())
               if (normalise(n), v) not in wheels]
    if missing:
        raise SystemExit(f"wheelhouse is missing: {', '.join(missing)}")


def build(out: Path, lock: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("ssas_app-*.whl"):
        old.unlink()
    # Only binary wheels, pinned and hash-checked by the lock file; no resolver surprises.
    pip("download", "--only-binary=:all:", "--no-deps", "--require-hashes",
        "-r", str(lock), "-d", str(out))
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy so the source tree gets no build/ or egg-info litter.
        src = Path(tmp) / "src"
        shutil.copytree(APP_DIR, src, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "var", "wheelhouse"))
        pip("wheel", "--no-deps", "--wheel-dir", str(out), str(src))
    shutil.copy2(lock, out / "requirements.lock")
    check_complete(out, lock)
    wheels = sorted(out.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels)
    print(f"wheelhouse {out}: {len(wheels)} wheels, {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--lock", type=Path, default=APP_DIR / "requirements.lock")
    args = parser.parse_args()
    if not args.lock.is_file():
        parser.error(f"lock file not found: {args.lock}")
    try:
        build(args.output.resolve(), args.lock.resolve())
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"build failed: {' '.join(exc.cmd)} exited {exc.returncode}") from None


if __name__ == "__main__":
    main()
