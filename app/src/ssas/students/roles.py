"""Role groups. Teachers read their own classes' students (accounts.ClassAssignment),
counsellors read every student, admins read and write everything (and are staff)."""

from django.contrib.auth.models import Group, Permission
from django.db import router

TEACHERS = "teachers"
COUNSELLORS = "counsellors"
ADMINS = "admins"
DATA_APPS = ("students", "ml", "reports", "analytics")


def ensure_role_groups(using="default", **kwargs) -> None:
    if not router.allow_migrate_model(using, Group):
        return
    perms = Permission.objects.using(using).filter(content_type__app_label__in=DATA_APPS)
    readers = perms.filter(codename__startswith="view_")
    for name in (TEACHERS, COUNSELLORS):
        Group.objects.using(using).get_or_create(name=name)[0].permissions.set(readers)
    admins, _ = Group.objects.using(using).get_or_create(name=ADMINS)
    admins.permissions.set(perms)


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return {TEACHERS, COUNSELLORS, ADMINS}
    # Cached on the user object: permission checks run several times per request.
    roles = getattr(user, "_ssas_roles", None)
    if roles is None:
        roles = set(user.groups.filter(name__in=(TEACHERS, COUNSELLORS, ADMINS))
                    .values_list("name", flat=True))
        user._ssas_roles = roles
    return roles
