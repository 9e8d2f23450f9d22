from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "ssas.students"
    label = "students"
    verbose_name = "Students and scores"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from ssas.students.roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)
        # Bind shared_task to the project Celery app in every Django process.
        import ssas.celery_app  # noqa: F401
