"""The admin's data import: upload, a preview of what would change, confirm or cancel."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from ssas.accounts.models import PendingImport
from ssas.students.importing.upsert import import_files
from ssas.students.models import School, Student, StudentScore, Subject
from test_import import templates

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def _upload(browser, files, **options):
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    return browser.post("/admin/students/student/import/", {"files": uploads, **options})


def _confirm_url(page: str) -> str:
    return re.search(r'action="(/admin/students/student/import/[0-9a-f-]+/)"', page).group(1)


def test_preview_changes_nothing_then_confirm_imports(browser):
    listing = browser.get("/admin/students/student/").content.decode()
    assert "/admin/students/student/import/" in listing
    page = _upload(browser, templates()).content.decode()
    assert "What the import will do" in page and ">120<" in page
    assert StudentScore.objects.count() == 0 and PendingImport.objects.count() == 1
    done = browser.post(_confirm_url(page), {"import": "Import"}, follow=True)
    assert "Imported. " in done.content.decode()
    assert StudentScore.objects.count() == 120 and Student.objects.count() == 4
    assert PendingImport.objects.count() == 0
    again = re.sub(r"\s+", "", _upload(browser, templates()).content.decode())
    # scores: 0 created, 0 updated, 120 unchanged, 0 bad
    assert "<td>scores</td><td>0</td><td>0</td><td>120</td><td>0</td>" in again


def test_bad_rows_block_the_import_and_cancel_drops_the_upload(browser):
    bad = ("subjects.csv", b"code,name\nMATH,Maths\nno good,Oops\n")
    page = _upload(browser, [bad]).content.decode()
    assert "subjects.csv:3: code: &#x27;no good&#x27;: use letters, digits" in page
    assert 'name="import"' not in page
    browser.post(_confirm_url(page), {"cancel": "Cancel"})
    assert PendingImport.objects.count() == 0
    page = _upload(browser, [bad], skip_bad_rows="on").content.decode()
    browser.post(_confirm_url(page), {"import": "Import"})
    assert list(Subject.objects.values_list("code", flat=True)) == ["MATH"]


def test_teachers_and_other_users_uploads_are_refused(teacher, browser, admin_user):
    client = Client()
    client.force_login(teacher)
    assert client.get("/admin/students/student/import/").status_code in (302, 403)
    page = _upload(browser, templates()).content.decode()
    other = PendingImport.objects.get()
    other.user = teacher
    other.save()
    assert browser.post(_confirm_url(page), {"import": "Import"}).status_code == 404


def test_nothing_good_nothing_to_import_and_a_school_for_rows_without_one(browser):
    import_files(templates()[2:])  # subjects, years, schools
    School.objects.create(code="west", name="West")
    all_bad = ("subjects.csv", b"code,name\nno good,Oops\n")
    page = _upload(browser, [all_bad], skip_bad_rows="on").content.decode()
    assert 'name="import"' not in page
    pupils = ("students.csv", b"student_id,first_name,last_name,grade\nW1,Ann,Lee,9\n")
    page = _upload(browser, [pupils], school="west").content.decode()
    assert 'name="import"' in page
    PendingImport.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert browser.post(_confirm_url(page), {"import": "Import"}).status_code == 404
    page = _upload(browser, [pupils], school="west").content.decode()
    browser.post(_confirm_url(page), {"import": "Import"})
    assert Student.objects.get().school.code == "west"
