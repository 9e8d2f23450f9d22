"""Role groups after `migrate` on a fresh database (the test database is one)."""

from django.contrib.auth.models import Group, Permission

from ssas.students.roles import ADMINS, COUNSELLORS, DATA_APPS, TEACHERS


def test_groups_hold_every_data_apps_permissions_after_the_first_migrate(db):
    perms = Permission.objects.filter(content_type__app_label__in=DATA_APPS)
    apps = set(perms.values_list("content_type__app_label", flat=True))
    assert apps == set(DATA_APPS), apps
    teachers = set(Group.objects.get(name=TEACHERS).permissions.all())
    admins = set(Group.objects.get(name=ADMINS).permissions.all())
    assert admins == set(perms)
    assert teachers == set(perms.filter(codename__startswith="view_"))
    assert set(Group.objects.get(name=COUNSELLORS).permissions.all()) == teachers
    assert {p.content_type.app_label for p in teachers} == apps
