"""Move one school to another shard: freeze, copy, verify, switch, delete, unfreeze.

Every row of the school (SCHOOL_ROWS) is copied with its id (ids are disjoint per shard,
see ids.py) in one transaction on the target. References to subjects and academic years
are matched by natural key (REFERENCE); a missing one is created on the target. Before
that transaction commits, each table's rows of the school are counted and checksummed on
both sides, the same way (monitoring.tables.row_digest over the rows in primary-key
order, reference ids replaced by their natural key); any difference rolls the copy back
and the school stays on its source shard. Then the map switches and the source rows go.

Two guards against lost writes, both rolling the move back (map back to the source, the
copied rows removed from the target, freeze lifted, MoveError):

- the map switches only while the freeze still holds (a write freeze that ran out during
  the copy may have let writes reach the source after it was copied);
- after the switch, in the transaction that deletes the source rows, the source's
  per-table counts and checksums are computed again and must equal the verified ones,
  and the delete must remove exactly the verified number of rows (a write that passed
  its freeze check before the freeze and committed late).

Writes made through a request or task that started before the switch raise SchoolMoved
(ssas.routers) instead of reaching the old shard.

Limit: district-wide writers that run under `use_shard(alias)` / `each_shard()` without a
school bypass the freeze and the SchoolMoved check (the router cannot tell which school a
write of theirs belongs to). Such a writer that writes one school's rows while it is
being moved can still have that write rejected by the late-write check above (the move
rolls back) or, between that check and the delete, lost. Do not run district-wide writers
(e.g. the nightly aggregation) during a move.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.apps import apps
from django.db import connections, transaction
from django.utils import timezone

from ssas.monitoring.tables import row_digest

from . import freeze
from .context import ShardRoutingError, shard_aliases
from .models import SchoolShard

# Model -> lookup from that model to the school's code; parents before children.
SCHOOL_ROWS = {
    "students.school": "code",
    "students.student": "school__code",
    "students.studentscore": "student__school__code",
    "analytics.dailysubjectaggregate": "school__code",
    "ml.batchjob": "school__code",
    "ml.batchresult": "job__school__code",
    "reports.report": "school__code",
}
# Reference data every shard has its own rows of: model -> natural key field.
REFERENCE = {"students.subject": "code", "students.academicyear": "name"}


class MoveError(Exception):
    """The move failed or was refused; the school is still on its source shard."""


@dataclass
class TableCheck:
    model: str
    source_rows: int
    source_checksum: str
    target_rows: int
    target_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows,
                                                            self.target_checksum)


def _model(label: str):
    return apps.get_model(label)


def _school_rows(label: str, alias: str, code: str):
    model = _model(label)
    return model._base_manager.db_manager(alias).filter(**{SCHOOL_ROWS[label]: code})


def _logical_columns(model) -> list[str]:
    """Column names for the checksum: a reference id is replaced by its natural key, so
    the same rows give the same checksum on shards where that id differs."""
    columns = []
    for field in model._meta.concrete_fields:
        target = field.related_model._meta.label_lower if field.is_relation else None
        columns.append(f"{field.name}__{REFERENCE[target]}" if target in REFERENCE
                       else field.attname)
    return columns


def table_fingerprint(label: str, alias: str, code: str) -> tuple[int, str]:
    """(rows, checksum) of school `code`'s rows of model `label` on `alias`: SHA-256 over
    the row digests in primary-key order (hex)."""
    model = _model(label)
    rows = (_school_rows(label, alias, code).order_by(model._meta.pk.attname)
            .values_list(*_logical_columns(model)))
    digest, count = hashlib.sha256(), 0
    for row in rows.iterator(chunk_size=2000):
        digest.update(row_digest(row).to_bytes(32, "big"))
        count += 1
    return count, digest.hexdigest()


def _reference_map(label: str, source: str, target: str) -> dict:
    """Source id -> target id of reference model `label`, creating missing rows on the
    target (matched by natural key)."""
    model, key = _model(label), REFERENCE[label]
    on_target = dict(model._base_manager.using(target).values_list(key, "pk"))
    mapping = {}
    for obj in model._base_manager.using(source).all():
        natural = getattr(obj, key)
        if natural not in on_target:
            copy = model(**{f.attname: getattr(obj, f.attname)
                            for f in model._meta.concrete_fields if not f.primary_key})
            copy.save(using=target, force_insert=True)
            on_target[natural] = copy.pk
        mapping[obj.pk] = on_target[natural]
    return mapping


def _copy_table(label: str, code: str, source: str, target: str, refs: dict) -> None:
    """Insert the school's rows of `label` on the target with their ids (raw SQL: no
    auto_now, no signals), reference ids mapped to the target's."""
    model = _model(label)
    fields = model._meta.concrete_fields
    connection = connections[target]
    quote = connection.ops.quote_name
    # Names from the model's own metadata, quoted; the values are parameters.
    sql = (f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
           f"({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    remap = {i: refs[f.related_model._meta.label_lower] for i, f in enumerate(fields)
             if f.is_relation and f.related_model._meta.label_lower in refs}
    rows = _school_rows(label, source, code).order_by(model._meta.pk.attname).values_list(
        *[f.attname for f in fields])
    batch = []
    with connection.cursor() as cursor:
        for row in rows.iterator(chunk_size=2000):
            values = [remap[i].get(v, v) if i in remap and v is not None else v
                      for i, v in enumerate(row)]
            batch.append([f.get_db_prep_save(v, connection) for f, v in zip(fields, values,
                                                                            strict=True)])
            if len(batch) >= 1000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _refuse_id_clashes(code: str, source: str, target: str) -> None:
    for label in SCHOOL_ROWS:
        model = _model(label)
        ids = list(_school_rows(label, source, code).values_list("pk", flat=True))
        for start in range(0, len(ids), 500):
            clash = model._base_manager.using(target).filter(
                pk__in=ids[start:start + 500]).count()
            if clash:
                raise MoveError(f"{target} already holds {clash} {label} row(s) with the "
                                "ids being moved; nothing was copied")


def check_request(code: str, target: str) -> str:
    """The school's current shard. Raises MoveError (refused) for an unknown school or
    shard, the same shard, or when the deployment is not sharded."""
    if not shard_aliases():
        raise MoveError("this deployment is not sharded (SSAS_SHARDS is empty)")
    if target not in shard_aliases():
        raise MoveError(f"unknown shard {target!r} (SSAS_SHARDS: {', '.join(shard_aliases())})")
    source = (SchoolShard.objects.using("default").filter(code=code)
              .values_list("alias", flat=True).first())
    if source is None:
        raise MoveError(f"unknown school {code!r}: it is not in the shard map")
    if source == target:
        raise MoveError(f"school {code!r} is already on {target}")
    return source


def move_school(code: str, target: str, freeze_seconds: float = 300,
                settle: float = 2.0) -> list[TableCheck]:
    """Move school `code` to shard `target`; returns the per-table checks (all equal).

    Raises MoveError when refused (see check_request), when the copy failed or did not
    verify, when the freeze ran out before the switch, or when the source changed after
    the copy (a late write): then the target holds none of the school's rows, the map
    still points at the source and the freeze is lifted.
    """
    source = check_request(code, target)
    freeze.set_freeze(code, freeze_seconds)
    try:
        time.sleep(settle)  # writes that passed their freeze check just before now finish
        _refuse_id_clashes(code, source, target)
        with transaction.atomic(using=target):
            refs = {label: _reference_map(label, source, target) for label in REFERENCE}
            for label in SCHOOL_ROWS:
                _copy_table(label, code, source, target, refs)
            checks = []
            for label in SCHOOL_ROWS:
                checks.append(TableCheck(label, *table_fingerprint(label, source, code),
                                         *table_fingerprint(label, target, code)))
            bad = [c.model for c in checks if not c.ok]
            if bad:
                raise _Mismatch(checks, f"rows differ after the copy in: {', '.join(bad)}; "
                                        f"the copy was rolled back, {code!r} stays on {source}")
        try:
            _switch_map(code, source, target)
        except Exception:
            _delete_rows(code, target)
            raise
        try:
            changed = _delete_source_if_unchanged(code, source, checks)
        except Exception as exc:
            raise MoveError(f"{code!r} now lives on {target}, but deleting its old rows on "
                            f"{source} failed ({type(exc).__name__}: {exc}); they are unused "
                            "and can be deleted later") from exc
        if changed:
            _roll_back(code, source, target)
            raise MoveError(f"{code!r} changed on {source} after it was copied (a late "
                            f"write in: {', '.join(changed)}); the move was rolled back, "
                            f"{code!r} stays on {source}. Run move_school again.")
        return checks
    except _Mismatch:
        raise
    except MoveError:
        raise
    except ShardRoutingError as exc:
        raise MoveError(str(exc)) from exc
    except Exception as exc:
        raise MoveError(f"{type(exc).__name__}: {exc}; {code!r} stays on {source}") from exc
    finally:
        freeze.set_freeze(code, None)


class _FreezeExpired(MoveError):
    pass


def _switch_map(code: str, source: str, target: str) -> None:
    """Point the map at `target`, only while the freeze still holds (one UPDATE, so the
    freeze cannot run out between the check and the switch). Raises _FreezeExpired."""
    switched = (SchoolShard.objects.using("default")
                .filter(code=code, alias=source, frozen_until__gt=timezone.now())
                .update(alias=target))
    if not switched:
        raise _FreezeExpired(
            f"the write freeze of {code!r} ran out before the copy finished, so writes may "
            f"have reached {source} after it was copied; the move was rolled back, "
            f"{code!r} stays on {source}. Run move_school again with a longer "
            "--freeze-seconds.")


def _roll_back(code: str, source: str, target: str) -> None:
    """Map back to `source`, remove the copied rows from `target`."""
    SchoolShard.objects.using("default").filter(code=code).update(alias=source)
    _delete_rows(code, target)


def _delete_source_if_unchanged(code: str, source: str,
                                checks: list[TableCheck]) -> list[str]:
    """Delete the school's rows on `source` if they are still the verified ones; returns
    the tables that changed (then nothing was deleted)."""
    with transaction.atomic(using=source):
        changed = [c.model for c in checks
                   if table_fingerprint(c.model, source, code) != (c.source_rows,
                                                                  c.source_checksum)]
        if changed:
            return changed
        verified = {c.model: c.source_rows for c in checks}
        deleted = {label: _school_rows(label, source, code)._raw_delete(source)
                   for label in reversed(list(SCHOOL_ROWS))}
        changed = [label for label in SCHOOL_ROWS if deleted[label] != verified[label]]
        if changed:
            transaction.set_rollback(True, using=source)
        return changed


class _Mismatch(MoveError):
    def __init__(self, checks: list[TableCheck], message: str):
        super().__init__(message)
        self.checks = checks


def _delete_rows(code: str, alias: str) -> None:
    """Delete the school's rows on `alias`, children first, in one transaction."""
    with transaction.atomic(using=alias):
        for label in reversed(list(SCHOOL_ROWS)):
            _school_rows(label, alias, code)._raw_delete(alias)
