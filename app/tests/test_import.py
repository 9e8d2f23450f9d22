"""`import_data`: CSV/XLSX imports of schools, years, subjects, students and scores."""

import io
import json
import tarfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ssas.students.importing.upsert import import_files
from ssas.students.models import AcademicYear, School, Student, StudentScore, Subject

TEMPLATES = Path(__file__).resolve().parent.parent / "docs" / "import-templates"
TEMPLATE_FILES = ["scores.csv", "students.csv", "subjects.csv", "academic_years.csv",
                  "schools.csv"]  # deliberately not in import order


def templates():
    return [(name, (TEMPLATES / name).read_bytes()) for name in TEMPLATE_FILES]


def snapshot():
    return (list(School.objects.values_list("code", "name")),
            list(AcademicYear.objects.order_by("name").values_list(
                "name", "start_date", "end_date", "is_current")),
            list(Student.objects.order_by("student_id").values_list(
                "student_id", "first_name", "grade", "class_name", "gender", "date_of_birth")),
            sorted(StudentScore.objects.values_list(
                "student__student_id", "subject__code", "academic_year__name", "term",
                "total_score")))


def run(*args, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    output = io.StringIO()
    call_command("import_data", *args, stdout=output, stderr=output)
    return output.getvalue()


def test_the_template_files_import_in_any_order_and_twice_changes_nothing(db):
    first = import_files(templates())
    assert first.committed and first.errors == []
    counts = {f.kind: (f.created, f.updated, f.unchanged) for f in first.files}
    assert counts == {"schools": (1, 0, 0), "academic_years": (2, 0, 0), "subjects": (5, 0, 0),
                      "students": (4, 0, 0), "scores": (120, 0, 0)}
    before = snapshot()
    again = import_files(templates())
    assert {f.kind: (f.created, f.updated) for f in again.files} == {
        k: (0, 0) for k in counts}
    assert sum(f.unchanged for f in again.files) == 132
    assert snapshot() == before
    assert AcademicYear.objects.get(is_current=True).name == "2025/2026"
    amara = Student.objects.get(student_id="HS-0001")
    assert (amara.school.code, amara.grade, amara.class_name, amara.gender) == (
        "hillside", 10, "10A", "F")


def test_a_changed_row_is_updated_in_place(db):
    import_files(templates())
    changed = b"student_id,subject,academic_year,term,total_score\nHS-0001,math,2025/2026,1,99\n"
    report = import_files([("marks-fix.csv", changed)], kind="scores")
    assert (report.files[0].created, report.files[0].updated) == (0, 1)
    score = StudentScore.objects.get(student__student_id="HS-0001", subject__code="MATH",
                                     academic_year__name="2025/2026", term=1)
    assert score.total_score == Decimal("99.00")
    assert StudentScore.objects.count() == 120


def test_other_header_names_semicolons_a_bom_and_map(db):
    import_files(templates()[2:])  # subjects, years, schools
    students = ("\ufeffAdmission No;Forename;Surname;Year Group;Arm;Sex;DOB;Tutor\n"
                "A1;Ada;Obi;9;9C;female;2011-01-05;Mr X\n").encode()
    report = import_files([("pupils.csv", students)], extra_names={"admission_no": "student_id"})
    assert report.committed, report.errors
    assert report.files[0].ignored_columns == ["Tutor"]
    ada = Student.objects.get(student_id="A1")
    assert (ada.first_name, ada.grade, ada.class_name, ada.gender) == ("Ada", 9, "9C", "F")


def test_every_kind_of_bad_row_is_named_and_nothing_is_kept(db):
    import_files(templates()[1:])  # everything but scores
    bad = (b"student_id,subject,academic_year,term,continuous_assessment,exam_score\n"
           b"HS-0001,MATH,2025/2026,1,30,50\n"      # good
           b"HS-9999,MATH,2025/2026,1,30,50\n"      # unknown student
           b"HS-0001,CHEM,2025/2026,1,30,50\n"      # unknown subject
           b"HS-0001,MATH,1999/2000,1,30,50\n"      # unknown year
           b"HS-0001,MATH,2025/2026,4,30,50\n"      # term out of range
           b"HS-0001,ENGL,2025/2026,1,abc,50\n"     # not a number
           b"HS-0001,ENGL,2025/2026,2,60,50\n"      # sum over 100
           b"HS-0001,ENGL,2025/2026,3,,\n"          # no marks
           b"HS-0001,MATH,2025/2026,first,30,50\n")  # same key as row 2
    report = import_files([("scores.csv", bad)])
    assert not report.committed
    assert report.errors == [
        "scores.csv:3: student_id: no student 'HS-9999' in school hillside (import students "
        "first)",
        "scores.csv:4: subject: no subject 'CHEM' (import subjects first)",
        "scores.csv:5: academic_year: no academic year '1999/2000' (import academic years "
        "first)",
        "scores.csv:6: term: '4': expected a whole number from 1 to 3",
        "scores.csv:7: continuous_assessment: 'abc' is not a number",
        "scores.csv:8: total_score: continuous_assessment + exam_score is 110.00, over 100",
        "scores.csv:9: total_score: no marks: give total_score, or continuous_assessment and "
        "exam_score",
        "scores.csv:10: row: same hillside HS-0001 MATH 2025/2026 term 1 as row 2",
    ]
    assert StudentScore.objects.count() == 0


def test_skip_bad_rows_keeps_the_good_ones(db):
    import_files(templates()[1:])
    rows = (b"student_id,subject,academic_year,term,total_score\n"
            b"HS-0001,MATH,2025/2026,1,70\nHS-0002,MATH,2025/2026,1,170\n")
    report = import_files([("scores.csv", rows)], skip_bad_rows=True)
    assert report.committed and report.error_count == 1
    assert report.files[0].created == 1 and report.files[0].skipped == 1
    assert list(StudentScore.objects.values_list("total_score", flat=True)) == [Decimal("70")]


def test_a_bad_file_among_good_ones_keeps_nothing(db):
    report = import_files([*templates(), ("students2.csv", b"student_id,first_name\nX,Y\n")])
    assert not report.committed and report.files == []
    assert report.errors[0].startswith("students2.csv:1: students file without column "
                                       "last_name, grade")
    assert School.objects.count() == 0


def test_dry_run_counts_everything_and_keeps_nothing(db):
    report = import_files(templates(), dry_run=True)
    assert not report.committed and report.errors == []
    assert sum(f.created for f in report.files) == 132
    assert Subject.objects.count() == 0 and StudentScore.objects.count() == 0


def test_unreadable_files_are_named(db):
    report = import_files([("scores.csv", "subject,term\nMATH,1\nÄ".encode("latin-1")),
                           ("scores.xlsx", b"not a zip"),
                           ("mystery.csv", b"code,name\nX,Y\n"),
                           ("students.ods", b"PK")])
    assert report.errors == [
        "scores.csv:3: not UTF-8 text (save it as 'CSV UTF-8')",
        "scores.xlsx: not a readable XLSX file (BadZipFile)",
        "mystery.csv: cannot tell what it holds (schools or subjects); name the file after "
        "its kind (students.csv, scores.xlsx, ...) or give --kind",
        "students.ods: .ods files are not read; save it as XLSX or CSV UTF-8",
    ]


def test_xlsx_with_real_dates_and_numbers(db):
    import datetime as dt

    import tablib

    import_files(templates()[2:])
    sheet = tablib.Dataset(headers=["Student Number", "First Name", "Last Name", "Grade",
                                    "Date of Birth"])
    sheet.append([1042, "Kofi", "Annan", 12.0, dt.datetime(2008, 4, 8)])
    sheet.append(["", "No", "Id", 12, None])
    report = import_files([("students.xlsx", sheet.export("xlsx"))])
    assert report.errors == ["students.xlsx:3: Student Number: is empty"]
    report = import_files([("students.xlsx", sheet.export("xlsx"))], skip_bad_rows=True)
    kofi = Student.objects.get()
    assert (kofi.student_id, kofi.grade, kofi.date_of_birth) == ("1042", 12,
                                                                 dt.date(2008, 4, 8))


def test_the_command_reads_a_tar_stream_and_reports_json(db, monkeypatch):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in templates():
            info = tarfile.TarInfo("exports/" + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    output = run("--archive", "-", "--json", stdin=buffer.getvalue(), monkeypatch=monkeypatch)
    report = json.loads(output)
    assert report["committed"] and report["error_count"] == 0
    assert {f["file"] for f in report["files"]} == {"exports/" + n for n in TEMPLATE_FILES}
    assert StudentScore.objects.count() == 120


def test_the_command_exits_2_on_bad_rows_and_names_them(db, tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text("code,name\nMATH,Maths\nbad code,Oops\n")
    with pytest.raises(CommandError) as refused:
        run(str(path))
    assert refused.value.returncode == 2
    assert "nothing was imported" in str(refused.value)
    assert Subject.objects.count() == 0
    with pytest.raises(CommandError, match="no column 'sid'"):
        run(str(path), "--map", "Admission=sid")


def test_the_templates_readme_documents_every_column():
    from ssas.students.importing.columns import SPECS

    readme = (TEMPLATES / "README.md").read_text()
    for kind in SPECS.values():
        for column in kind.columns:
            assert f"`{column.name}`" in readme, column.name
            for alias in column.aliases:
                assert alias in readme, alias


def test_columns_a_file_leaves_out_keep_their_stored_values(db):
    import_files(templates())
    narrow = b"school,student_id,first_name,last_name,grade\nhillside,HS-0001,Amara,Okafor,11\n"
    report = import_files([("students.csv", narrow)])
    assert report.files[0].updated == 1
    amara = Student.objects.get(student_id="HS-0001")
    assert (amara.grade, amara.class_name, amara.gender, str(amara.date_of_birth)) == (
        11, "10A", "F", "2010-03-14")
    import_files([("years.csv", b"name,start_date,end_date\n2024/2025,2024-09-02,2025-07-18\n")])
    assert AcademicYear.objects.get(is_current=True).name == "2025/2026"
    before = StudentScore.objects.get(student__student_id="HS-0002", subject__code="MATH",
                                      academic_year__name="2025/2026", term=2)
    import_files([("scores.csv", b"student_id,subject,academic_year,term,total\n"
                                 b"HS-0002,MATH,2025/2026,2,99\n")])
    after = StudentScore.objects.get(pk=before.pk)
    assert (after.continuous_assessment, after.exam_score, after.total_score) == (
        before.continuous_assessment, before.exam_score, Decimal("99"))


def test_marks_that_do_not_add_up_and_decimal_commas(db):
    import_files(templates()[1:])
    rows = (b"student_id;subject;academic_year;term;CA;Exam;Total\n"
            b"HS-0001;MATH;2025/2026;1;25,5;50;75,5\n"
            b"HS-0002;MATH;2025/2026;1;90;90;10\n")
    report = import_files([("scores.csv", rows)])
    assert report.errors == ["scores.csv:3: Total: 10.00 is not continuous_assessment + "
                             "exam_score (180.00)"]
    report = import_files([("scores.csv", rows)], skip_bad_rows=True)
    assert StudentScore.objects.get().total_score == Decimal("75.50")


def test_bad_rows_are_counted_once_and_named_by_the_files_headers(db):
    import_files(templates()[1:])  # everything but the scores
    rows = (b"Student Number,subject,academic_year,term,total_score\n"
            b"NOPE,MATH,2025/2026,9,abc\n")
    report = import_files([("scores.csv", rows)])
    assert report.files[0].skipped == 1
    assert report.errors == ["scores.csv:2: term: '9': expected a whole number from 1 to 3",
                             "scores.csv:2: total_score: 'abc' is not a number"]
    report = import_files([("scores.csv", rows.replace(b",9,abc", b",1,70"))])
    assert report.errors == ["scores.csv:2: Student Number: no student 'NOPE' in school "
                             "hillside (import students first)"]
    assert report.files[0].skipped == 1


def test_codes_that_differ_only_in_case_are_not_guessed(db):
    import_files(templates()[1:])
    Subject.objects.create(code="math", name="Maths again")
    rows = b"student_id,subject,academic_year,term,total_score\nHS-0001,Math,2025/2026,1,70\n"
    report = import_files([("scores.csv", rows)])
    assert report.errors == ["scores.csv:2: subject: 'Math' matches several codes that "
                             "differ only in case; rename one in the admin"]
    exact = import_files([("scores.csv", rows.replace(b"Math", b"MATH"))])
    assert exact.committed and StudentScore.objects.get().subject.code == "MATH"


def test_dates_whole_and_in_the_past(db):
    import_files(templates()[2:])
    rows = (b"student_id,first_name,last_name,grade,date_of_birth\n"
            b"A,Ann,Lee,9,2009-11-23junk\nB,Bo,Li,9,2099-01-01\nC,Cy,Ng,9,2010-01-02 00:00:00\n")
    report = import_files([("students.csv", rows)], skip_bad_rows=True)
    assert report.errors == [
        "students.csv:2: date_of_birth: '2009-11-23junk': expected a date as YYYY-MM-DD",
        "students.csv:3: date_of_birth: 2099-01-01 is not in the past"]
    assert str(Student.objects.get().date_of_birth) == "2010-01-02"


def test_a_subjects_file_does_not_guess_between_codes_differing_in_case(db):
    Subject.objects.create(code="math", name="Maths")
    Subject.objects.create(code="MATH", name="Mathematics")
    report = import_files([("subjects.csv", b"code,name\nMath,Renamed\n")])
    assert report.errors == ["subjects.csv:2: code: 'Math' matches several codes that differ "
                             "only in case; rename one in the admin"]
    import_files([("subjects.csv", b"code,name\nMATH,Maths (core)\n")])  # the exact one
    assert dict(Subject.objects.values_list("code", "name")) == {
        "math": "Maths", "MATH": "Maths (core)"}
