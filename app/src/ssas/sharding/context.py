"""The current shard: a context variable the router reads (see the package docstring).

A context variable, not a thread-local: it follows the code into `asyncio` tasks and is
reset on exit of each `with`, so a pooled worker thread never carries one request's
shard into the next.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings


class ShardRoutingError(LookupError):
    """A query on school data without a shard to run on, or an unknown school/shard."""


class UnknownSchool(ShardRoutingError):
    """The school code is not in the shard map."""


@dataclass(frozen=True)
class Current:
    alias: str
    school: str | None  # None: the whole shard (district-wide work)


_current: contextvars.ContextVar[Current | None] = contextvars.ContextVar(
    "ssas_shard", default=None)


def shard_aliases() -> list[str]:
    """SSAS_SHARDS as a list of aliases, in order ([] = not sharded)."""
    return list(getattr(settings, "SSAS_SHARDS", None) or [])


def enabled() -> bool:
    """True when the deployment is sharded (SSAS_SHARDS lists aliases)."""
    return bool(shard_aliases())


def current() -> Current | None:
    """The shard (and school) the code runs on now, or None."""
    return _current.get()


@contextlib.contextmanager
def use_shard(alias: str, school: str | None = None) -> Iterator[str]:
    """Route school data to `alias` inside the block. Raises ShardRoutingError for an
    alias not in SSAS_SHARDS."""
    if alias not in shard_aliases():
        raise ShardRoutingError(f"{alias!r} is not a shard (SSAS_SHARDS: {shard_aliases()})")
    token = _current.set(Current(alias, school))
    try:
        yield alias
    finally:
        _current.reset(token)


@contextlib.contextmanager
def use_school(code: str | None) -> Iterator[str]:
    """Route school data to `code`'s shard inside the block; yields the alias
    ("default" when not sharded, and then does nothing). Raises UnknownSchool."""
    if not enabled():
        yield "default"
        return
    from .placement import shard_of

    with use_shard(shard_of(code), school=code) as alias:
        yield alias


def each_shard() -> Iterator[str]:
    """For district-wide work: runs the loop body once per shard with that shard current
    (once, on "default", when not sharded)."""
    if not enabled():
        yield "default"
        return
    for alias in shard_aliases():
        with use_shard(alias):
            yield alias


# A task that meets a school move is run again this many times at most (each after the
# freeze's remaining seconds, or 1 s after the switch); move_school's freeze is minutes.
MOVE_RETRIES = 20


def school_task(func):
    """Celery task body decorator: the `school` keyword (a school code) picks the shard
    the task runs on. Without it the task runs as before (unsharded, or district-wide
    code that loops over each_shard itself).

    A write refused because the school is being moved (SchoolFrozen) or has just moved
    (SchoolMoved) is not done: the task is retried after `retry_after` seconds, on the
    school's shard at that time, up to MOVE_RETRIES times (tasks must be safe to repeat:
    writes made before the refusal stay, like a status set to running). Called directly it
    raises; run eagerly (`apply`), Celery repeats it at once, without the wait."""
    from celery import current_task

    from .freeze import SchoolFrozen, SchoolMoved

    @functools.wraps(func)
    def run(*args, school: str | None = None, **kwargs):
        if school is None:
            return func(*args, **kwargs)
        try:
            with use_school(school):
                return func(*args, **kwargs)
        except (SchoolFrozen, SchoolMoved) as exc:
            # current_task is a proxy: false outside a task, never None.
            if not current_task or current_task.request.called_directly:
                raise
            raise current_task.retry(exc=exc, countdown=exc.retry_after,
                                     max_retries=MOVE_RETRIES) from exc

    # Celery checks call arguments against inspect.signature, which would follow
    # __wrapped__ to the body and refuse the `school` keyword.
    del run.__wrapped__
    return run


def school_kwargs(school) -> dict:
    """The keywords a task needs to run on `school`'s shard: {"school": code} when
    sharded, {} otherwise (so unsharded task messages stay as they were)."""
    return {"school": school.code} if enabled() and school is not None else {}
