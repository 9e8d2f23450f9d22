"""SIGINT and SIGTERM during an apply: record them, so the run can be stopped in order.

`interrupt_guard()` installs handlers for both signals for the length of a command and restores
the previous handlers afterwards. Outside a `deferring()` section the first signal raises
`RunInterrupted` (nothing has been started that needs stopping); inside one (a run directory
exists, ansible-playbook may be running) the signal is only recorded, and the code in the
section polls `guard.signum`, stops ansible-playbook (`runner.processes.stop_run`) and cleans
up.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(BaseException):
    """A handled signal arrived while nothing needed stopping; `signum` is the signal."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal_name(signum))


class InterruptGuard:
    """Records SIGINT/SIGTERM; `signum` is the first one received, `count` how many arrived."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0
        self._deferring = 0

    @contextmanager
    def deferring(self) -> Iterator["InterruptGuard"]:
        """Within this block signals are recorded only, never raised."""
        self._deferring += 1
        try:
            yield self
        finally:
            self._deferring -= 1

    def handle(self, signum: int, _frame=None) -> None:
        """The signal handler: record, and raise RunInterrupted for a first signal when not
        deferring (later signals are only counted, so the interrupt report is not cut short)."""
        first = self.signum is None
        self.count += 1
        if first:
            self.signum = signum
        if first and not self._deferring:
            raise RunInterrupted(signum)


@contextmanager
def interrupt_guard() -> Iterator[InterruptGuard]:
    """Handle SIGINT and SIGTERM with a new InterruptGuard until the block ends.

    The previous handlers are restored on leaving the block. Outside the main thread signal
    handlers cannot be installed; the guard then never sees a signal.
    """
    guard = InterruptGuard()
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED_SIGNALS:
            previous[signum] = signal.signal(signum, guard.handle)
    try:
        yield guard
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def guarded(guard: InterruptGuard | None) -> Iterator[InterruptGuard]:
    """`guard.deferring()`, or a new guard (installed for this block only) when None."""
    if guard is not None:
        with guard.deferring():
            yield guard
        return
    with interrupt_guard() as own, own.deferring():
        yield own


def signal_name(signum: int) -> str:
    """'SIGINT' for 2, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
