from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "ssas.students"
    label = "students"
    verbose_name = "Students and scores"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from ssas.students.roles import ensure_role_groups

        # After every app's post_migrate, not only this one's: the permissions of the apps
        # listed after `students` (ml, reports, analytics) are created by their own signal,
        # so on a fresh database the groups would miss them until a second `migrate`.
        post_migrate.connect(ensure_role_groups, dispatch_uid="ssas-role-groups")
        # Bind shared_task to the project Celery app in every Django process.
        import ssas.celery_app  # noqa: F401
