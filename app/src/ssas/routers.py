"""School-keyed sharding: DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"].

Rendered by ssas-deploy only when SSAS_SHARDS lists shard aliases; harmless otherwise
(with SSAS_SHARDS empty it routes nothing). Where each model lives and how the current
shard is chosen: see ssas.sharding.

School data goes to the current shard (ssas.sharding.context): an object loaded from a
shard stays there; without a current shard the router raises ShardRoutingError instead of
silently falling back to `default` (the wrong database). Writes to a school under a
move's write freeze raise SchoolFrozen; a write through the shard a school was on when the
request or task started, after the school moved away, raises SchoolMoved (nothing is
written to the old shard).
"""

from ssas.sharding.context import ShardRoutingError, current, enabled, shard_aliases
from ssas.sharding.freeze import check_writable

SHARDED_APPS = {"students", "ml", "reports", "analytics"}
GLOBAL_MODELS = {"ml.modelartifact", "ml.trainingrun"}  # app_label.model_name

__all__ = ["GLOBAL_MODELS", "SHARDED_APPS", "SchoolShardRouter", "ShardRoutingError",
           "is_sharded_model"]


def is_sharded_model(model) -> bool:
    """True for a model whose rows live on the shards (per school or reference data)."""
    meta = model._meta
    return meta.app_label in SHARDED_APPS and meta.label_lower not in GLOBAL_MODELS


class SchoolShardRouter:
    def _route(self, model, hints, write: bool):
        if not enabled():
            return None
        if not is_sharded_model(model):
            return "default"
        here = current()
        instance = hints.get("instance")
        db = getattr(getattr(instance, "_state", None), "db", None)
        if write and here is not None and here.school:
            # The shard recorded when the request/task started must still be the
            # school's: after a move it raises SchoolMoved (one map query).
            check_writable(here.school, here.alias)
        if db:
            return db  # an object already loaded from (or saved to) a shard stays there
        if here is not None:
            return here.alias
        raise ShardRoutingError(
            f"{model._meta.label} is sharded by school and this request or task names no "
            "school: pass ?school=CODE (or the X-SSAS-School header), or run the code "
            "inside ssas.sharding.context.use_school(code)")

    def db_for_read(self, model, **hints):
        return self._route(model, hints, write=False)

    def db_for_write(self, model, **hints):
        return self._route(model, hints, write=True)

    def allow_relation(self, obj1, obj2, **hints):
        if not enabled():
            return None
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if not enabled():
            return None
        if app_label in SHARDED_APPS and f"{app_label}.{model_name}" not in GLOBAL_MODELS:
            return db in shard_aliases()
        return db == "default"
