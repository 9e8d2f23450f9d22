"""table_checksums, export_tables, import_tables: counts, checksums, sequences, copies."""

import datetime
import decimal
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ssas.monitoring.tablecopy import CopyError, export_lines, fk_order, import_lines
from ssas.monitoring.tables import (
    app_models,
    canonical_decimal,
    database_state,
    normalise,
    row_digest,
)
from ssas.students.models import Student

APP_DIR = Path(__file__).resolve().parents[1]


def by_table(states):
    return {s.table: s for s in states}


def test_normalised_values_keep_none_apart_from_empty_and_types_apart():
    assert row_digest([None]) != row_digest([""])
    assert row_digest([1]) != row_digest(["1"])
    assert row_digest([1.0]) != row_digest([decimal.Decimal("1")])
    assert canonical_decimal(decimal.Decimal("1.50")) == canonical_decimal(decimal.Decimal("1.5"))
    assert canonical_decimal(decimal.Decimal("100")) == "100"
    assert canonical_decimal(decimal.Decimal("-0.00")) == "0"
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert normalise(datetime.datetime(2026, 1, 1, 13, 0, tzinfo=paris)) == \
        normalise(datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC))
    assert normalise({"b": 1, "a": [2]}) == normalise({"a": [2], "b": 1})
    assert normalise(b"\x00\xff") == {"b": "00ff"}
    assert normalise(memoryview(b"\x00\xff")) == {"b": "00ff"}
    assert normalise(uuid.UUID(int=5)) == {"u": "00000000-0000-0000-0000-000000000005"}
    assert normalise(0.1) == {"f": "0.1"}
    with pytest.raises(TypeError):
        normalise(object())


@pytest.mark.django_db
def test_every_table_is_listed_with_m2m_and_auth_tables():
    tables = {m._meta.db_table for m in app_models()}
    assert {"students_student", "auth_user", "auth_user_groups", "auth_group_permissions",
            "django_content_type", "django_session"} <= tables
    # Every table comes after the tables it references.
    order = [m._meta.db_table for m in fk_order(app_models())]
    assert order.index("auth_user") < order.index("auth_user_groups")
    assert order.index("django_content_type") < order.index("auth_permission")


@pytest.mark.django_db
def test_one_changed_cell_changes_only_that_tables_checksum(school_data):
    before = by_table(database_state(chunk=37))  # small chunks: the keyset paging is used
    assert before["students_student"].rows == 150
    assert before["students_student"].sequence_ok is True
    student = Student.objects.order_by("pk")[75]
    Student.objects.filter(pk=student.pk).update(first_name=student.first_name + "x")
    after = by_table(database_state())
    assert after["students_student"].rows == 150
    assert after["students_student"].checksum != before["students_student"].checksum
    changed = [t for t in before if before[t].checksum != after[t].checksum]
    assert changed == ["students_student"]


@pytest.mark.django_db
def test_checksum_does_not_depend_on_chunk_size(school_data):
    assert by_table(database_state(chunk=7)) == by_table(database_state(chunk=5000))


@pytest.mark.django_db
def test_table_checksums_command_prints_json(school_data):
    output = io.StringIO()
    call_command("table_checksums", "--json", stdout=output)
    document = json.loads(output.getvalue())
    students = next(t for t in document["tables"] if t["table"] == "students_student")
    assert document["vendor"] == connection.vendor
    assert students["rows"] == 150 and len(students["checksum"]) == 64
    assert students["max_id"] == Student.objects.order_by("-pk").first().pk
    assert students["next_id"] > students["max_id"] and students["sequence_ok"] is True


@pytest.mark.django_db
def test_export_import_round_trip_keeps_rows_ids_and_sequences(school_data, trained):
    before = by_table(database_state())
    exported = list(export_lines(chunk=50))
    assert json.loads(exported[0])["format"] == "ssas-tables/1"
    assert json.loads(exported[-1])["rows"] == sum(s.rows for s in before.values())
    # Refused while the database holds data; nothing changed.
    with pytest.raises(CopyError, match="students_student"):
        import_lines(exported)
    assert by_table(database_state()) == before
    counts = import_lines(exported, replace=True)
    assert counts["students_student"] == 150
    after = by_table(database_state())
    assert {t: (s.rows, s.checksum) for t, s in after.items()} == \
        {t: (s.rows, s.checksum) for t, s in before.items()}
    assert all(s.sequence_ok for s in after.values() if s.auto_pk)
    # A new row gets an id past the imported ones.
    first = Student.objects.order_by("pk").first()
    created = Student.objects.create(school=first.school, student_id="COPY-1",
                                     first_name="New", last_name="Row", grade=first.grade)
    assert created.pk > before["students_student"].max_id


@pytest.mark.django_db
def test_truncated_or_foreign_streams_are_refused_and_change_nothing(school_data):
    exported = list(export_lines())
    before = by_table(database_state())
    with pytest.raises(CopyError, match="ends early"):
        import_lines(exported[:-3], replace=True)
    with pytest.raises(CopyError, match="not an ssas-tables/1 export"):
        import_lines(['{"hello": 1}\n'], replace=True)
    bad = [exported[0], json.dumps({"table": "nope", "model": "x.y", "columns": []}) + "\n"]
    with pytest.raises(CopyError, match="table nope does not exist"):
        import_lines(bad, replace=True)
    assert by_table(database_state()) == before
    with pytest.raises(CommandError, match="not empty"):
        call_command("import_tables", "--input", os.devnull)
    with pytest.raises(CommandError, match="students_student"):
        call_command("import_tables", "--check-empty")


@pytest.mark.django_db
def test_a_freshly_migrated_database_counts_as_empty():
    output = io.StringIO()
    call_command("import_tables", "--check-empty", stdout=output)
    assert "is empty" in output.getvalue()


postgresql_only = pytest.mark.skipif(
    not os.environ.get("SSAS_TEST_DATABASE_URL"),
    reason="needs SSAS_TEST_DATABASE_URL (PostgreSQL)")


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(APP_DIR / "manage.py"), *args],
                            capture_output=True, text=True, env=env, timeout=600)
    return result


@postgresql_only
def test_sqlite_to_postgresql_copy_gives_equal_checksums(tmp_path):
    """The migration path for real: a school on SQLite, exported, imported into a fresh
    PostgreSQL database, compared with table_checksums on both (separate processes)."""
    import psycopg

    url = os.environ["SSAS_TEST_DATABASE_URL"]
    name = f"ssas_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    target_url = urlunsplit(parts._replace(path=f"/{name}"))
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "ssas.settings.test",
            "SSAS_DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(APP_DIR / "src")}
    sqlite = {k: v for k, v in base.items() if k != "SSAS_TEST_DATABASE_URL"}
    postgres = {**base, "SSAS_TEST_DATABASE_URL": target_url}
    try:
        for args in (["migrate", "--noinput", "-v0"],
                     ["generate_school", "--students", "40", "--seed", "3"],
                     ["train_models"],
                     ["createsuperuser", "--noinput", "--username", "copy-admin",
                      "--email", "a@school.example"]):
            done = _manage({**sqlite, "DJANGO_SUPERUSER_PASSWORD": "pw-tests"}, *args)
            assert done.returncode == 0, done.stderr
        dump = tmp_path / "export.jsonl"
        assert _manage(sqlite, "export_tables", "--output", str(dump)).returncode == 0
        assert _manage(postgres, "migrate", "--noinput", "-v0").returncode == 0
        loaded = _manage(postgres, "import_tables", "--input", str(dump))
        assert loaded.returncode == 0, loaded.stderr
        source = json.loads(_manage(sqlite, "table_checksums", "--json").stdout)
        target = json.loads(_manage(postgres, "table_checksums", "--json").stdout)
        assert source["vendor"] == "sqlite" and target["vendor"] == "postgresql"
        assert [(t["table"], t["rows"], t["checksum"]) for t in source["tables"]] == \
            [(t["table"], t["rows"], t["checksum"]) for t in target["tables"]]
        rows = {t["table"]: t["rows"] for t in target["tables"]}
        assert rows["students_student"] == 40 and rows["ml_modelartifact"] > 0
        assert all(t["sequence_ok"] for t in target["tables"] if t["auto_pk"])
        # A second import is refused: the target is no longer empty.
        again = _manage(postgres, "import_tables", "--input", str(dump))
        assert again.returncode == 1 and "not empty" in again.stderr
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_api_sample_is_read_only_and_stable(trained, settings):
    settings.ALLOWED_HOSTS = ["ssas.school.example"]  # as in production: not the sample's
    before = by_table(database_state())
    first, second = io.StringIO(), io.StringIO()
    call_command("api_sample", "--students", "3", stdout=first)
    call_command("api_sample", "--students", "3", stdout=second)
    answers = json.loads(first.getvalue())
    assert answers == json.loads(second.getvalue())
    assert len(answers) == 2 + 3 * 5
    assert {a["status"] for a in answers.values()} == {200}, answers
    assert by_table(database_state()) == before
