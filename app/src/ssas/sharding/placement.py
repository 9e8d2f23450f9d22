"""The shard map: where a school lives, and where a new school goes.

Rule for a new school (documented in the README): the shard holding the fewest schools,
ties to the alias listed first in SSAS_SHARDS. Deterministic for a given map, and adding a
shard never moves an existing school (it just receives the next new ones).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import IntegrityError, transaction
from django.db.models import Count

from .context import UnknownSchool, enabled, shard_aliases, use_school
from .models import SchoolShard


def shard_of(code: str | None) -> str:
    """The alias holding school `code`. Raises UnknownSchool when it is not in the map."""
    alias = (SchoolShard.objects.using("default").filter(code=code or "")
             .values_list("alias", flat=True).first())
    if alias is None:
        raise UnknownSchool(f"school {code!r} is not in the shard map")
    return alias


def next_shard() -> str:
    """The shard a new school would be placed on now (fewest schools, ties: first listed)."""
    aliases = shard_aliases()
    counts = dict(SchoolShard.objects.using("default").filter(alias__in=aliases)
                  .values_list("alias").annotate(n=Count("id")))
    return min(aliases, key=lambda a: (counts.get(a, 0), aliases.index(a)))


def place_school(code: str) -> str:
    """The alias of school `code`, placing it first if it is new ("default" when not
    sharded). Safe to repeat: an existing school keeps its shard."""
    if not enabled():
        return "default"
    existing = SchoolShard.objects.using("default").filter(code=code).first()
    if existing:
        return existing.alias
    try:
        with transaction.atomic(using="default"):
            return SchoolShard.objects.using("default").create(
                code=code, alias=next_shard()).alias
    except IntegrityError:  # placed concurrently: keep the other placement
        return shard_of(code)


@contextlib.contextmanager
def creating_school(code: str) -> Iterator[str]:
    """Around the creation of school `code`: places it and makes its shard current; if
    the block raises, a placement made here is removed again. Yields the alias."""
    if not enabled():
        yield "default"
        return
    new = not SchoolShard.objects.using("default").filter(code=code).exists()
    alias = place_school(code)
    try:
        with use_school(code):
            yield alias
    except BaseException:
        if new:
            SchoolShard.objects.using("default").filter(code=code).delete()
        raise
