"""Write freeze of one school (while move_school copies it): reads go on, writes fail."""

from __future__ import annotations

import datetime

from django.utils import timezone

from .models import SchoolShard


class SchoolFrozen(RuntimeError):
    """A write to a school that is being moved; retry after `retry_after` seconds."""

    def __init__(self, code: str, retry_after: int):
        super().__init__(f"school {code!r} is being moved to another database; writes are "
                         f"paused, retry in {retry_after} s")
        self.code, self.retry_after = code, retry_after


def frozen_for(code: str) -> int:
    """Seconds the freeze of `code` still lasts (0: writable)."""
    until = (SchoolShard.objects.using("default").filter(code=code)
             .values_list("frozen_until", flat=True).first())
    if until is None:
        return 0
    left = (until - timezone.now()).total_seconds()
    return max(0, int(left + 0.999))


def check_writable(code: str) -> None:
    """Raises SchoolFrozen while `code` is frozen."""
    left = frozen_for(code)
    if left:
        raise SchoolFrozen(code, left)


def set_freeze(code: str, seconds: float | None) -> None:
    """Freeze `code` for `seconds` (None lifts the freeze)."""
    until = None if seconds is None else timezone.now() + datetime.timedelta(seconds=seconds)
    SchoolShard.objects.using("default").filter(code=code).update(frozen_until=until)
