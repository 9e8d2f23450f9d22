"""Write guard of one school: the move freeze, and writes aimed at a shard it has left.

While move_school copies a school its writes are frozen (SchoolFrozen; reads go on). A
request or task records its school's shard once, when it starts (context.use_school);
if the school has moved since, a write raises SchoolMoved instead of landing on the old
shard, whose rows are gone. Both are HTTP 503 (retry) in a request.
"""

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


class SchoolMoved(RuntimeError):
    """A write through a shard the school no longer lives on (it moved after the request
    or task started); nothing was written. Retrying runs on the new shard."""

    retry_after = 1

    def __init__(self, code: str, alias: str, now_on: str | None):
        where = f"now lives on {now_on}" if now_on else "is no longer in the shard map"
        super().__init__(f"school {code!r} {where}, not on {alias} where this request or "
                         "task started; nothing was written, retry")
        self.code, self.alias, self.now_on = code, alias, now_on


def _seconds_left(until) -> int:
    if until is None:
        return 0
    left = (until - timezone.now()).total_seconds()
    return max(0, int(left + 0.999))


def frozen_for(code: str) -> int:
    """Seconds the freeze of `code` still lasts (0: writable)."""
    return _seconds_left(SchoolShard.objects.using("default").filter(code=code)
                         .values_list("frozen_until", flat=True).first())


def check_writable(code: str, alias: str | None = None) -> None:
    """Raises SchoolFrozen while `code` is frozen, and SchoolMoved when `alias` (the shard
    the write would go to) is not the shard the map holds `code` on now. One query."""
    row = (SchoolShard.objects.using("default").filter(code=code)
           .values_list("alias", "frozen_until").first())
    now_on, until = row if row is not None else (None, None)
    left = _seconds_left(until)
    if left:
        raise SchoolFrozen(code, left)
    if alias is not None and now_on != alias:
        raise SchoolMoved(code, alias, now_on)


def set_freeze(code: str, seconds: float | None) -> None:
    """Freeze `code` for `seconds` (None lifts the freeze)."""
    until = None if seconds is None else timezone.now() + datetime.timedelta(seconds=seconds)
    SchoolShard.objects.using("default").filter(code=code).update(frozen_until=until)
