"""First apply and no-op re-apply wall times on a small sandbox (one app host + backup host).

The no-op re-applies run in interleaved pairs: apply as shipped (Mitogen's `mitogen_linear`
strategy), then the baseline with Ansible's own `linear` strategy (ANSIBLE_STRATEGY=linear),
and the ratio of the medians is printed. Goal on the 2-core reference machine: a no-op
re-apply of at most 15 s. Prints figures, asserts nothing. Needs root, podman and the base
image (bash scripts/testhosts.sh setup).
Usage: python bench/apply_sandbox.py [--reapplies N]
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_run import ssas, throwaway_sandbox

GOAL_NOOP_S = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reapplies", type=int, default=3)
    args = parser.parse_args()
    with throwaway_sandbox("apply", "small") as sandbox:
        env = sandbox.env
        up = sandbox.up()
        apply = sandbox.apply_args()
        first = ssas(*apply, env=env)
        noop, linear = [], []
        for _ in range(args.reapplies):
            noop.append(ssas(*apply, env=env))
            linear.append(ssas(*apply, env={**env, "ANSIBLE_STRATEGY": "linear"}))
        baseline = ssas("profiles", "list", env=env)
    median = statistics.median(noop)
    print(f"sandbox up                 {up:7.1f} s")
    print(f"first apply (bare host)    {first:7.1f} s")
    baseline_median = statistics.median(linear)
    print(f"no-op re-apply (Mitogen)   median {median:6.1f} s  "
          f"({', '.join(f'{t:.1f}' for t in noop)})")
    print(f"no-op re-apply (linear)    median {baseline_median:6.1f} s  "
          f"({', '.join(f'{t:.1f}' for t in linear)})")
    print(f"ratio Mitogen / linear     {median / baseline_median:7.2f}")
    print(f"baseline: `profiles list`  {baseline:7.2f} s (process start, same interpreter)")
    print(f"ratio no-op / first apply  {median / first:7.2f}")
    print(f"goal no-op <= {GOAL_NOOP_S:g} s: {'meets' if median <= GOAL_NOOP_S else 'MISSES'}")


if __name__ == "__main__":
    main()
