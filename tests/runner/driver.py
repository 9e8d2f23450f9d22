"""Run the real runner code path on tests/runner/fixtures/interruptible.yml against localhost.

    SSAS_TEST_SECRET=... SSAS_TEST_MARKER=... python -m tests.runner.driver --sleep S \
        --digest-file F --out-dir DIR

Does what `ssas-deploy apply` does after preflight (signal guard, run dir with the vault-encrypted
secrets, ansible-playbook, report, exit code) with an inventory of one local host, so the tests
can interrupt or kill it. The secret comes from the environment so it never appears in argv;
so does the marker (put in the sleeping task's argv), so that only that task's process has it.
"""

import argparse
import os
import sys
from pathlib import Path

from ssas_deploy.cli.apply_cmd import report_interrupted, report_run
from ssas_deploy.console import err
from ssas_deploy.errors import EXIT_INTERRUPTED
from ssas_deploy.runner.apply import run_with_secrets
from ssas_deploy.runner.interrupts import RunInterrupted, interrupt_guard
from ssas_deploy.runner.playbook import RunOptions

PLAYBOOK = Path(__file__).resolve().parent / "fixtures" / "interruptible.yml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep", type=float, required=True)
    parser.add_argument("--digest-file", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    secret = os.environ.pop("SSAS_TEST_SECRET")
    marker = os.environ.pop("SSAS_TEST_MARKER")
    document = {"all": {"hosts": {"localhost": {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "marker": marker,
        "sleep_seconds": args.sleep,
        "digest_file": str(args.digest_file),
    }}}}
    with interrupt_guard() as guard:
        try:
            result = run_with_secrets(
                document, {"db_password": secret}, RunOptions(playbook=PLAYBOOK),
                console=err(), known_hosts=args.out_dir / "known_hosts",
                saved_log=args.out_dir / "last-apply.log", guard=guard)
            return report_run(result)
        except RunInterrupted as stop:
            report_interrupted(stop.signum, None)
            return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
