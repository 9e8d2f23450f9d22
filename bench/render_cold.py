"""Cold-process `ssas-deploy render --profile very-large` wall time, beside `python -c pass`
and Tutor's `tutor config save`, with the import and model-build budget of one run.

Goal on the 2-core reference machine: a median of at most 0.2 s and at most 0.55x Tutor's
`config save` measured in the same run. Prints figures, asserts nothing.

The three commands are run in turn (render, Tutor, `python -c pass`), so a load that comes
and goes on the machine weighs on each alike. Bytecode caches are kept as an installed
wheel has them (pip compiles them at install): PYTHONDONTWRITEBYTECODE is dropped from the
commands' environment.

Tutor is looked for on PATH, then in .cache/tutor-venv (make it with
`python -m venv .cache/tutor-venv && .cache/tutor-venv/bin/pip install tutor`); each run
is `tutor config save` with TUTOR_ROOT in a temporary directory made for this bench.

Usage: python bench/render_cold.py [--runs N] [--tutor PATH]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.2
GOAL_TUTOR_RATIO = 0.55
REPO = Path(__file__).resolve().parent.parent
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

# Top-level packages whose import time is shown apart; the rest is "stdlib and other".
GROUPS = {
    "typer": ("typer", "click"),
    "pydantic": ("pydantic", "pydantic_core", "annotated_types", "typing_inspection",
                 "typing_extensions"),
    "jinja2": ("jinja2", "markupsafe"),
    "yaml": ("yaml", "_yaml"),
    "ssas_deploy": ("ssas_deploy",),
}
# Modules whose own import time is mostly building pydantic models (class bodies, schemas).
MODEL_MODULES = ("ssas_deploy.profiles.models", "ssas_deploy.inventory")


def run_once(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env or ENV)
    return time.perf_counter() - start


def find_tutor(given: str | None) -> str | None:
    for candidate in (given, shutil.which("tutor"), REPO / ".cache/tutor-venv/bin/tutor"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def import_budget(cli: list[str]) -> dict[str, float]:
    """Seconds of import (each module's own time, summed) per group, from one run under
    `python -X importtime`, with that run's wall time."""
    start = time.perf_counter()
    result = subprocess.run([cli[0], "-X", "importtime", *cli[1:]], check=True, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    budget = dict.fromkeys([*GROUPS, "stdlib and other", "model build"], 0.0)
    pattern = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)$")
    for line in result.stderr.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        own = int(match.group(1)) / 1e6
        name = match.group(3)
        top = name.split(".")[0]
        group = next((g for g, tops in GROUPS.items() if top in tops), "stdlib and other")
        budget[group] += own
        if name in MODEL_MODULES:
            budget["model build"] += own
    budget["total"] = sum(v for k, v in budget.items() if k != "model build")
    budget["wall"] = wall
    return budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tutor", help="tutor executable (default: PATH, .cache/tutor-venv)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ssas-bench-"))
    out = scratch / "render"
    cli = [sys.executable, "-m", "ssas_deploy", "render", "--profile", "very-large",
           "--out", str(out)]
    baseline_cmd = [sys.executable, "-c", "pass"]
    tutor = find_tutor(args.tutor)
    tutor_env = {**ENV, "TUTOR_ROOT": str(scratch / "tutor")}
    tutor_cmd = [tutor, "config", "save"] if tutor else None

    # Warm the page cache and the .pyc files, as a user's second run would.
    run_once(cli)
    if tutor_cmd:
        run_once(tutor_cmd, tutor_env)
    render, tutor_times, baseline = [], [], []
    for _ in range(args.runs):
        render.append(run_once(cli))
        if tutor_cmd:
            tutor_times.append(run_once(tutor_cmd, tutor_env))
        baseline.append(run_once(baseline_cmd))
    files = len(list(out.rglob("*")))
    budget = import_budget(cli)

    median = statistics.median(render)
    base = statistics.median(baseline)
    print(f"python -c pass          median {base * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"render very-large       median {median * 1000:7.1f} ms  min {min(render) * 1000:.1f}"
          f"  max {max(render) * 1000:.1f}  ({args.runs} runs, {files} paths written)")
    if tutor_cmd:
        tmed = statistics.median(tutor_times)
        print(f"tutor config save       median {tmed * 1000:7.1f} ms  min "
              f"{min(tutor_times) * 1000:.1f}  max {max(tutor_times) * 1000:.1f}  "
              f"({args.runs} runs, {tutor})")
    else:
        print("tutor config save       not found (pass --tutor, or install it in "
              ".cache/tutor-venv: see this file's docstring)")
    print(f"ratio render / baseline {median / base:7.1f}x")
    if tutor_cmd:
        print(f"ratio render / tutor    {median / tmed:7.2f}x")
    verdict = "meets" if median <= GOAL_S else "MISSES"
    print(f"goal <= {GOAL_S * 1000:.0f} ms median: {verdict}")
    if tutor_cmd:
        verdict = "meets" if median / tmed <= GOAL_TUTOR_RATIO else "MISSES"
        print(f"goal <= {GOAL_TUTOR_RATIO}x Tutor: {verdict}")

    wall = budget["wall"]
    print(f"import budget (one run under -X importtime, which slows imports; wall "
          f"{wall * 1000:.0f} ms):")
    for group in [*GROUPS, "stdlib and other"]:
        print(f"  {group:<22} {budget[group] * 1000:6.1f} ms")
    print(f"  {'all imports':<22} {budget['total'] * 1000:6.1f} ms  "
          f"({budget['total'] / wall:.0%} of that run)")
    print(f"  {'of which model build':<22} {budget['model build'] * 1000:6.1f} ms  "
          f"(own time of {', '.join(MODEL_MODULES)})")
    print(f"  {'the rest':<22} {(wall - budget['total']) * 1000:6.1f} ms  "
          "(interpreter start, CLI dispatch, load, size, render, write)")

    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, ssas_deploy.cli.app as a; a.app(['render', "
         f"'--profile', 'very-large', '--out', '{scratch / 'heavy'}'], standalone_mode=False);"
         "print('heavy:' + ','.join(m for m in ('ansible', 'paramiko', 'rich', 'cryptography')"
         " if m in sys.modules))"],
        capture_output=True, text=True, env=ENV)
    marker = [line for line in heavy.stdout.splitlines() if line.startswith("heavy:")]
    loaded = marker[0].removeprefix("heavy:") if marker else "?"
    print(f"heavy modules imported on the render path: {loaded or 'none'}")
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
