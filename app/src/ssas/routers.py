"""Optional school-based sharding: DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"].

SSAS_SHARDS maps school code -> database alias (a lookup table, never hash(),
which is randomised per process). All data of a school lives on one shard,
since Django has no cross-database relations. Queries on school data must name
their shard explicitly: Model.objects.using(shard_for_school(code)). Without it the
router raises instead of silently falling back to `default` (the wrong shard).
Models in GLOBAL_MODELS belong to a sharded app but are shared by all schools: they
always live on `default`.
"""

from django.conf import settings

SHARDED_APPS = {"students", "ml", "reports", "analytics"}
GLOBAL_MODELS = {"ml.modelartifact", "ml.trainingrun"}  # app_label.model_name


class ShardRoutingError(LookupError):
    pass


def shard_for_school(code: str) -> str:
    try:
        return settings.SSAS_SHARDS[code]
    except KeyError:
        raise ShardRoutingError(f"school {code!r} is not in SSAS_SHARDS") from None


def shard_aliases() -> set[str]:
    return set(settings.SSAS_SHARDS.values())


class SchoolShardRouter:
    def _route(self, model, hints):
        if model._meta.app_label not in SHARDED_APPS or model._meta.label_lower in GLOBAL_MODELS:
            return "default"
        instance = hints.get("instance")
        db = getattr(getattr(instance, "_state", None), "db", None)
        if db:
            return db  # an object already loaded from (or saved to) a shard stays there
        raise ShardRoutingError(
            f"{model._meta.label} is sharded by school: use "
            ".using(shard_for_school(code)) for this query"
        )

    def db_for_read(self, model, **hints):
        return self._route(model, hints)

    def db_for_write(self, model, **hints):
        return self._route(model, hints)

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if f"{app_label}.{model_name}" in GLOBAL_MODELS:
            return db == "default"
        if app_label in SHARDED_APPS:
            return db in shard_aliases()
        return db == "default"
