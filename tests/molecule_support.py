"""Helpers shared by the roles' molecule (testinfra) tests; imported with the repository root
on sys.path (each scenario's test file puts it there)."""

import time


def kill_9_and_wait_for_restart(host, unit: str, timeout: float = 15.0) -> float:
    """kill -9 the unit's main process, poll until systemd runs it again; the seconds it took.

    Nobody starts it: systemd's own restart counter (NRestarts) must go up by one.
    Raises AssertionError when the unit is not running again within `timeout` seconds.
    """
    def show():
        out = host.check_output(
            f"systemctl show -p ActiveState -p SubState -p MainPID -p NRestarts {unit}")
        return dict(line.split("=", 1) for line in out.splitlines())

    before = show()
    assert (before["ActiveState"], before["SubState"]) == ("active", "running"), before
    assert int(before["MainPID"]) > 0, before
    host.check_output(f"kill -9 {before['MainPID']}")
    start = time.monotonic()
    while True:
        now = show()
        elapsed = time.monotonic() - start
        if ((now["ActiveState"], now["SubState"]) == ("active", "running")
                and now["MainPID"] not in ("0", before["MainPID"])):
            break
        assert elapsed < timeout, f"{unit} not running {timeout:.0f} s after kill -9: {now}"
        time.sleep(0.2)
    assert int(now["NRestarts"]) == int(before["NRestarts"]) + 1, (before, now)
    print(f"{unit}: running again {elapsed:.1f} s after kill -9 of PID {before['MainPID']} "
          f"(new PID {now['MainPID']})")
    return elapsed
