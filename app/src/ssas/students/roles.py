"""Role groups: teachers read everything, admins also write (and are staff)."""

from django.contrib.auth.models import Group, Permission
from django.db import router

TEACHERS = "teachers"
ADMINS = "admins"
DATA_APPS = ("students", "ml", "reports", "analytics")


def ensure_role_groups(using="default", **kwargs) -> None:
    if not router.allow_migrate_model(using, Group):
        return
    perms = Permission.objects.using(using).filter(content_type__app_label__in=DATA_APPS)
    teachers, _ = Group.objects.using(using).get_or_create(name=TEACHERS)
    admins, _ = Group.objects.using(using).get_or_create(name=ADMINS)
    teachers.permissions.set(perms.filter(codename__startswith="view_"))
    admins.permissions.set(perms)


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return {TEACHERS, ADMINS}
    # Cached on the user object: permission checks run several times per request.
    roles = getattr(user, "_ssas_roles", None)
    if roles is None:
        roles = set(user.groups.filter(name__in=(TEACHERS, ADMINS)).values_list("name", flat=True))
        user._ssas_roles = roles
    return roles
