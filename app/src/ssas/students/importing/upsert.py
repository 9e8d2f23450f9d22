"""Rows of import files to the database: upserts by stable keys, bad rows reported.

Keys: a school by `code`, an academic year by `name`, a subject by `code` (both compared
case-insensitively, so `MATH` and `math` are one subject), a student by (school, student_id)
and a score by (student, subject, academic year, term). A row whose values equal what is
stored changes nothing, so importing the same file twice is a no-op. Only the columns a
file has are written: a students file without `class_name` leaves every class as it is.

Everything runs in one transaction: when any row is bad, nothing at all is kept unless
`skip_bad_rows` is set (then the good rows are kept and the bad ones reported). `dry_run`
does the whole import and rolls it back, so its counts are exactly what a real run would do.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from ..models import AcademicYear, School, Student, StudentScore, Subject
from .columns import KINDS, CellError
from .reading import FileError, MappedTable, map_columns, read_table

BATCH = 2000
MAX_REPORTED_ERRORS = 200


@dataclass
class FileReport:
    """What one file did: counts of rows created, updated, unchanged and skipped (bad)."""

    file: str
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The whole import: per-file counts, `FILE:ROW: column: message` errors (at most
    MAX_REPORTED_ERRORS; `error_count` has them all), and whether anything was kept."""

    files: list[FileReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    committed: bool = False
    dry_run: bool = False

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {"files": [vars(f) for f in self.files], "errors": self.errors,
                "error_count": self.error_count, "committed": self.committed,
                "dry_run": self.dry_run}


class _Rollback(Exception):
    pass


def import_files(files: Iterable[tuple[str, bytes]], *, kind: str | None = None,
                 extra_names: dict[str, str] | None = None, school: str | None = None,
                 dry_run: bool = False, skip_bad_rows: bool = False) -> ImportReport:
    """Import `files` ((display name, bytes) pairs; CSV or XLSX) in one transaction,
    schools first and scores last whatever their order. `kind` forces the kind of every
    file; `extra_names` maps more header names (`header_key` form) to columns; `school` is
    the school code for rows without one (default: the only school, if there is one).
    Returns the report; raises nothing for bad data (it is all in the report)."""
    report = ImportReport(dry_run=dry_run)
    tables: list[MappedTable] = []
    for name, data in files:
        try:
            tables.append(map_columns(read_table(name, data), kind, extra_names or {}))
        except FileError as exc:
            report.add_error(str(exc))
    if report.error_count:
        return report  # a file that cannot be read at all is never half-imported
    tables.sort(key=lambda t: KINDS.index(t.kind.name))
    try:
        with transaction.atomic():
            for table in tables:
                file_report = FileReport(table.table.name, table.kind.name,
                                         ignored_columns=table.ignored)
                report.files.append(file_report)
                _UPSERTS[table.kind.name](_Rows(table, report, file_report), school)
            if dry_run or (report.error_count and not skip_bad_rows):
                raise _Rollback
    except _Rollback:
        return report
    report.committed = True
    return report


class _Rows:
    """A mapped table's rows, parsed: iterating yields (row number, {column: value}) for the
    good rows; each bad cell is reported and its row skipped."""

    def __init__(self, table: MappedTable, report: ImportReport, file_report: FileReport):
        self.table, self.report, self.counts = table, report, file_report
        self.present = set(table.columns)  # the columns this file has
        self._bad_rows: set[int] = set()

    def __iter__(self):
        columns = self.table.columns
        kind = self.table.kind
        for number, cells in self.table.table.rows:
            values, bad = {}, False
            for column in kind.columns:
                index = columns.get(column.name)
                cell = cells[index] if index is not None and index < len(cells) else None
                try:
                    values[column.name] = (column.parse(cell) if index is not None
                                           else _absent(column))
                except CellError as exc:
                    self.error(number, column.name, str(exc))
                    bad = True
            if not bad:
                yield number, values

    def error(self, number: int, column: str, message: str) -> None:
        """Report `FILE:ROW: header: message` (the file's own header for a column it has);
        the row is counted once as skipped however many of its cells are bad."""
        index = self.table.columns.get(column)
        shown = self.table.table.headers[index] if index is not None else column
        self.report.add_error(f"{self.table.table.name}:{number}: {shown}: {message}")
        if number not in self._bad_rows:
            self._bad_rows.add(number)
            self.counts.skipped += 1


def _absent(column):
    """An optional column the file does not have: its parser's value for an empty cell."""
    try:
        return column.parse(None)
    except CellError:
        return None


def _first_seen(rows: _Rows, seen: dict, key, number: int, shown=None) -> bool:
    """True the first time `key` is met in a file; later rows with it are reported (with
    `shown`, the key as the file gives it, when `key` holds database ids)."""
    if key in seen:
        rows.error(number, "row", f"same {' '.join(map(str, shown or key))} as row "
                                  f"{seen[key]}")
        return False
    seen[key] = number
    return True


def _count(rows: _Rows, created: bool, changed: bool) -> None:
    if created:
        rows.counts.created += 1
    elif changed:
        rows.counts.updated += 1
    else:
        rows.counts.unchanged += 1


def _simple_upsert(rows: _Rows, model, key_field: str, fields: tuple[str, ...],
                   case_insensitive: bool) -> None:
    """Schools, years, subjects: few rows; looked up one by one, saved one by one."""
    def fold(value):
        return value.lower() if case_insensitive else value
    existing = _ByCode((getattr(o, key_field), o) for o in model.objects.all())
    seen: dict = {}
    for number, values in rows:
        code = values[key_field]
        if not _first_seen(rows, seen, (fold(code),), number):
            continue
        known = code in existing.exact or fold(code) in existing.folded
        obj = existing.find(rows, number, key_field, code, "") if known else None
        if known and obj is None:
            continue  # codes differing only in case: reported by find
        if obj is None:
            obj = model.objects.create(**{f: values[f] for f in (key_field, *fields)})
            existing.exact[code] = obj
            existing.folded.setdefault(fold(code), []).append(obj)
            _count(rows, created=True, changed=False)
            continue
        changed = [f for f in fields if f in rows.present and getattr(obj, f) != values[f]]
        if changed:
            for f in changed:
                setattr(obj, f, values[f])
            obj.save(update_fields=changed)
        _count(rows, created=False, changed=bool(changed))


def _schools(rows: _Rows, school: str | None) -> None:
    _simple_upsert(rows, School, "code", ("name",), case_insensitive=True)


def _subjects(rows: _Rows, school: str | None) -> None:
    _simple_upsert(rows, Subject, "code", ("name",), case_insensitive=True)


def _academic_years(rows: _Rows, school: str | None) -> None:
    good = []
    for number, values in rows:
        if values["start_date"] >= values["end_date"]:
            rows.error(number, "end_date", f"{values['end_date']} is not after the start "
                                           f"date {values['start_date']}")
            continue
        good.append((number, values))
    current = [n for n, v in good if v["is_current"] and "is_current" in rows.present]
    if len(current) > 1:
        for number in current[1:]:
            rows.error(number, "is_current", f"row {current[0]} is the current year already")
        good = [(n, v) for n, v in good if n not in current[1:]]
    _simple_upsert(_Given(rows, good), AcademicYear, "name",
                   ("start_date", "end_date", "is_current"), case_insensitive=False)
    if current and current[0] in {n for n, _ in good}:
        # One current year: the one the file marks.
        name = dict(good)[current[0]]["name"]
        AcademicYear.objects.filter(is_current=True).exclude(name=name).update(
            is_current=False)


class _Given:
    """Already-parsed rows handed on, with the error/count helpers of the original."""

    def __init__(self, rows: _Rows, good):
        self._rows, self._good = rows, good
        self.counts, self.error, self.present = rows.counts, rows.error, rows.present

    def __iter__(self):
        return iter(self._good)


class _Schools:
    """School codes to schools, with the default for rows that name none."""

    def __init__(self, rows: _Rows, default: str | None):
        schools = list(School.objects.all())
        self.by_code = _ByCode((s.code, s) for s in schools)
        self.rows = rows
        self.default = default
        if default is None and len(schools) == 1:
            self.default = schools[0].code

    def find(self, number: int, code: str | None) -> School | None:
        code = code or self.default
        if not code:
            self.rows.error(number, "school", "no school code; add a school column or give "
                                              "--school CODE")
            return None
        return self.by_code.find(self.rows, number, "school", code,
                                 "import schools first")


class _ByCode:
    """Codes to objects: the exact code first, else the one code equal ignoring case (two
    such codes, e.g. `math` and `MATH` made before the import, are reported, not guessed)."""

    def __init__(self, pairs):
        self.exact: dict = {}
        self.folded: dict[str, list] = {}
        for code, obj in pairs:
            self.exact[code] = obj
            self.folded.setdefault(code.lower(), []).append(obj)

    def find(self, rows: _Rows, number: int, column: str, code: str, hint: str):
        if code in self.exact:
            return self.exact[code]
        found = self.folded.get(code.lower(), [])
        if len(found) == 1:
            return found[0]
        rows.error(number, column, f"'{code}' matches several codes that differ only in case; "
                                   "rename one in the admin" if found else
                   f"no {column} '{code}' ({hint})")
        return None


_STUDENT_FIELDS = ("first_name", "last_name", "grade", "class_name", "gender",
                   "date_of_birth", "is_active")


def _students(rows: _Rows, school: str | None) -> None:
    schools = _Schools(rows, school)
    existing = {(s.school_id, s.student_id): s for s in Student.objects.all()}
    seen: dict = {}
    new, changed = [], []
    for number, values in rows:
        found = schools.find(number, values["school"])
        if found is None or not _first_seen(rows, seen, (found.code, values["student_id"]),
                                            number):
            continue
        values = {**values, "class_name": values["class_name"] or "",
                  "gender": values["gender"] or Student.Gender.OTHER}
        dob = values["date_of_birth"]
        if dob is not None and dob >= dt.date.today():
            rows.error(number, "date_of_birth", f"{dob} is not in the past")
            continue
        student = existing.get((found.pk, values["student_id"]))
        if student is None:
            new.append(Student(school=found, student_id=values["student_id"],
                               **{f: values[f] for f in _STUDENT_FIELDS}))
            _count(rows, created=True, changed=False)
            continue
        differs = [f for f in _STUDENT_FIELDS
                   if f in rows.present and getattr(student, f) != values[f]]
        for f in differs:
            setattr(student, f, values[f])
        if differs:
            changed.append(student)
        _count(rows, created=False, changed=bool(differs))
    Student.objects.bulk_create(new, batch_size=BATCH)
    Student.objects.bulk_update(changed, _STUDENT_FIELDS, batch_size=BATCH)


_SCORE_FIELDS = ("continuous_assessment", "exam_score", "total_score")


def _scores(rows: _Rows, school: str | None) -> None:
    schools = _Schools(rows, school)
    students = {(school_id, sid): pk for pk, school_id, sid in
                Student.objects.values_list("pk", "school_id", "student_id").iterator()}
    subjects = _ByCode(Subject.objects.values_list("code", "pk"))
    years = {name: pk for pk, name in AcademicYear.objects.values_list("pk", "name")}
    existing = {(st, su, ay, term): (pk, ca, ex, tot) for pk, st, su, ay, term, ca, ex, tot in
                StudentScore.objects.values_list(
                    "pk", "student_id", "subject_id", "academic_year_id", "term",
                    *_SCORE_FIELDS).iterator(chunk_size=BATCH)}
    seen: dict = {}
    new, changed = [], []
    for number, values in rows:
        found = schools.find(number, values["school"])
        if found is None:
            continue
        student = students.get((found.pk, values["student_id"]))
        if student is None:
            rows.error(number, "student_id", f"no student '{values['student_id']}' in school "
                                             f"{found.code} (import students first)")
            continue
        subject = subjects.find(rows, number, "subject", values["subject"],
                                "import subjects first")
        if subject is None:
            continue
        year = years.get(values["academic_year"])
        if year is None:
            rows.error(number, "academic_year", f"no academic year '{values['academic_year']}'"
                                                " (import academic years first)")
            continue
        key = (student, subject, year, values["term"])
        shown = (found.code, values["student_id"], values["subject"], values["academic_year"],
                 f"term {values['term']}")
        if not _first_seen(rows, seen, key, number, shown):
            continue
        stored = existing.get(key)
        marks = _marks(rows, number, values, stored[1:] if stored else None)
        if marks is None:
            continue
        if stored is None:
            new.append(StudentScore(student_id=student, subject_id=subject,
                                    academic_year_id=year, term=values["term"],
                                    **dict(zip(_SCORE_FIELDS, marks, strict=True))))
            _count(rows, created=True, changed=False)
        elif tuple(stored[1:]) != marks:
            changed.append(StudentScore(pk=stored[0],
                                        **dict(zip(_SCORE_FIELDS, marks, strict=True))))
            _count(rows, created=False, changed=True)
        else:
            _count(rows, created=False, changed=False)
    StudentScore.objects.bulk_create(new, batch_size=BATCH)
    StudentScore.objects.bulk_update(changed, _SCORE_FIELDS, batch_size=BATCH)


def _marks(rows: _Rows, number: int, values: dict, stored: tuple | None
           ) -> tuple[Decimal, Decimal, Decimal] | None:
    """(continuous assessment, exam, total) for a row. A part the row leaves out keeps its
    stored value (0 for a new score); a missing total is the sum of the parts; a total given
    beside both parts must be their sum. None when the row is refused (reported)."""
    ca, exam, total = (values[f] for f in _SCORE_FIELDS)
    if total is None and ca is None and exam is None:
        rows.error(number, "total_score", "no marks: give total_score, or "
                                          "continuous_assessment and exam_score")
        return None
    zero = Decimal("0.00")
    old_ca, old_exam, _ = stored or (zero, zero, zero)
    parts_sum = (old_ca if ca is None else ca) + (old_exam if exam is None else exam)
    if total is None:
        if parts_sum > 100:
            rows.error(number, "total_score", f"continuous_assessment + exam_score is "
                                              f"{parts_sum}, over 100")
            return None
        total = parts_sum
    elif ca is not None and exam is not None and abs(ca + exam - total) > Decimal("0.01"):
        rows.error(number, "total_score", f"{total} is not continuous_assessment + "
                                          f"exam_score ({ca + exam})")
        return None
    return (old_ca if ca is None else ca, old_exam if exam is None else exam, total)


_UPSERTS = {"schools": _schools, "academic_years": _academic_years, "subjects": _subjects,
            "students": _students, "scores": _scores}
