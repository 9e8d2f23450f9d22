from django.apps import AppConfig


class ShardingConfig(AppConfig):
    name = "ssas.sharding"
    label = "sharding"
    verbose_name = "School shards"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .ids import separate_id_ranges

        post_migrate.connect(separate_id_ranges, dispatch_uid="ssas-shard-id-ranges")
