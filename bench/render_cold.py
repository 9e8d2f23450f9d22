"""Cold-process `ssas-deploy render --profile very-large` wall time, beside `python -c pass`.

Goal on the 2-core reference machine: median at most 0.2 s. Prints figures, asserts nothing.
Usage: python bench/render_cold.py [--runs N]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.2


def wall_times(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="ssas-bench-"))
    cli = [sys.executable, "-m", "ssas_deploy", "render", "--profile", "very-large",
           "--out", str(out)]
    wall_times(cli, 1)  # warm the page cache and .pyc files, as a user's second run would
    baseline = statistics.median(wall_times([sys.executable, "-c", "pass"], args.runs))
    render = wall_times(cli, args.runs)
    median = statistics.median(render)
    files = len(list(out.rglob("*"))) - 1
    shutil.rmtree(out)
    print(f"python -c pass          median {baseline * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"render very-large       median {median * 1000:7.1f} ms  min {min(render) * 1000:.1f}"
          f"  max {max(render) * 1000:.1f}  ({args.runs} runs, {files} paths written)")
    print(f"ratio render / baseline {median / baseline:7.1f}x")
    verdict = "meets" if median <= GOAL_S else "MISSES"
    print(f"goal <= {GOAL_S * 1000:.0f} ms median: {verdict}")
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, ssas_deploy.cli.app as a; a.app(['render', "
         f"'--profile', 'very-large', '--out', '{tempfile.mkdtemp()}'], standalone_mode=False);"
         "print('heavy:' + ','.join(m for m in ('ansible', 'paramiko') if m in sys.modules))"],
        capture_output=True, text=True)
    marker = [line for line in heavy.stdout.splitlines() if line.startswith("heavy:")]
    loaded = marker[0].removeprefix("heavy:") if marker else "?"
    print(f"heavy modules imported on the render path: {loaded or 'none'}")


if __name__ == "__main__":
    main()
