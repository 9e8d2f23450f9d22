"""Tier migration: the per-table comparison, API sample diff and profile compatibility."""

import pytest

from ssas_deploy.migration.compat import migration_problems, overlapping_addresses
from ssas_deploy.migration.verify import (
    BadChecksumDocument,
    TableCheck,
    compare_answers,
    compare_tables,
    summary,
)
from ssas_deploy.profiles.loader import load_profile


def doc(*tables):
    return {"database": "default", "vendor": "x", "tables": [
        {"table": name, "rows": rows, "checksum": checksum, "max_id": None, "next_id": None,
         "auto_pk": sequence is not None, "sequence_ok": sequence}
        for name, rows, checksum, sequence in tables]}


def test_equal_documents_give_only_ok_tables():
    source = doc(("a", 3, "c1", True), ("b", 0, "c0", None))
    checks = compare_tables(source, source)
    assert [c.table for c in checks] == ["a", "b"]
    assert all(c.ok for c in checks)
    assert summary(checks) == "2 tables, 3 rows: every count, checksum and sequence equal"


def test_each_kind_of_difference_is_caught():
    source = doc(("rows", 3, "x", True), ("content", 3, "x", True), ("seq", 3, "x", True),
                 ("gone", 1, "x", None))
    target = doc(("rows", 2, "x", True), ("content", 3, "y", True), ("seq", 3, "x", False),
                 ("extra", 1, "x", None))
    checks = {c.table: c for c in compare_tables(source, target)}
    assert checks["rows"] == TableCheck("rows", 3, 2, True, True)
    assert not checks["rows"].ok
    assert not checks["content"].checksum_equal and not checks["content"].ok
    assert checks["seq"].sequence_ok is False and not checks["seq"].ok
    assert checks["gone"].target_rows is None and not checks["gone"].ok
    assert checks["extra"].source_rows is None and not checks["extra"].ok
    assert summary(list(checks.values())).startswith("5 of 5 tables differ")


def test_a_table_without_a_sequence_is_ok_when_equal():
    check = compare_tables(doc(("s", 2, "z", None)), doc(("s", 2, "z", None)))[0]
    assert check.sequence_ok is None and check.ok


@pytest.mark.parametrize("broken", [{}, {"tables": [{"rows": 1}]},
                                    {"tables": [{"table": "a", "rows": "x", "checksum": "c"}]}])
def test_unreadable_documents_name_the_side(broken):
    with pytest.raises(BadChecksumDocument, match=r"^target: unreadable"):
        compare_tables(doc(("a", 1, "c", None)), broken)


def test_api_answers_differ_by_path():
    a = {"/x": {"status": 200, "sha256": "1"}, "/y": {"status": 200, "sha256": "2"}}
    b = {"/x": {"status": 200, "sha256": "1"}, "/y": {"status": 500, "sha256": "2"},
         "/z": {"status": 200, "sha256": "3"}}
    assert compare_answers(a, a) == []
    assert compare_answers(a, b) == ["/y", "/z"]


def test_postgresql_to_sqlite_and_fewer_shards_are_refused(tmp_path):
    sqlite = tmp_path / "s.yaml"
    sqlite.write_text("name: s\nextends: small\ndatabase: {engine: sqlite}\n")
    problems = migration_problems(load_profile("medium"), load_profile(str(sqlite)), None, sqlite)
    assert len(problems) == 1
    assert "fewer database capabilities" in str(problems[0])
    assert str(problems[0]).startswith(f"{sqlite}: database.engine:")
    assert migration_problems(load_profile("very-large"), load_profile("large"), None, None)
    assert migration_problems(load_profile(str(sqlite)), load_profile("medium"), sqlite,
                              None) == []
    assert migration_problems(load_profile("small"), load_profile("large"), None, None) == []


def test_shared_addresses_are_found():
    class H:
        def __init__(self, address):
            self.address = address
    assert overlapping_addresses([H("10.0.0.1"), H("10.0.0.2")], [H("10.0.0.2")]) == ["10.0.0.2"]


def test_media_files_differ_by_path():
    from ssas_deploy.migration.verify import compare_files

    assert compare_files({"./a": "1"}, {"./a": "1"}) == []
    assert compare_files({"./a": "1", "./b": "2"}, {"./a": "9", "./c": "3"}) == \
        ["./a", "./b", "./c"]
