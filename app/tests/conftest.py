import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import caches
from rest_framework.test import APIClient

from ssas.ml import store
from ssas.ml.training import train_all
from ssas.students.roles import ADMINS, COUNSELLORS, TEACHERS
from ssas.students.synthetic import generate_school


def pytest_collection_modifyitems(items):
    """Every database test may use every database (`default` and the two shards of the
    test settings): the health check and the sharding tests touch them all, as in a
    sharded deployment."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        names = getattr(item, "fixturenames", ())
        if marker is None and not {"db", "transactional_db"} & set(names):
            continue
        kwargs = dict(marker.kwargs) if marker else {}
        if kwargs.get("databases") is not None:
            continue
        kwargs["databases"] = "__all__"
        if "transactional_db" in names or "live_server" in names:
            kwargs["transaction"] = True
        item.add_marker(pytest.mark.django_db(*(marker.args if marker else ()), **kwargs),
                        append=False)


@pytest.fixture(autouse=True)
def _isolated_state(settings, tmp_path):
    """Each test gets its own model directory and empty caches."""
    settings.SSAS_ML_MODEL_DIR = tmp_path / "models"
    store.forget_current_versions()  # test databases are rolled back between tests
    for alias in ("default", "ml_cache"):
        caches[alias].clear()


def _user(username, group=None, **extra):
    user = User.objects.create_user(username, password="pw-for-tests-only", **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def teacher(db):
    return _user("teacher", TEACHERS)


@pytest.fixture
def counsellor(db):
    return _user("counsellor", COUNSELLORS)


@pytest.fixture
def counsellor_client(counsellor):
    client = APIClient()
    client.force_authenticate(counsellor)
    return client


@pytest.fixture
def admin_user(db):
    return _user("schooladmin", ADMINS, is_staff=True)


@pytest.fixture
def teacher_client(teacher):
    client = APIClient()
    client.force_authenticate(teacher)
    return client


@pytest.fixture
def admin_client(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def school_data(db):
    """A small deterministic school: 150 students x 11 subjects x 3 terms."""
    return generate_school(150, seed=42, school_name="Test High")


@pytest.fixture
def trained(school_data):
    train_all()
    return school_data
