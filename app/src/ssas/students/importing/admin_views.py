"""The admin's data import: upload, preview (a dry run of the same import), confirm.

The uploaded files are kept between preview and confirm as one tar stream in
accounts.PendingImport (the database, with the rest of the school's data), tied to the
user who uploaded them; confirming runs the import for real and removes them. Only users
who may add students (admins) see it.
"""

import io
import uuid
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from ssas.accounts.models import PendingImport
from ssas.students.models import School

from .archive import pack, unpack
from .upsert import import_files

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PENDING_FOR = timedelta(hours=1)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        return [single(d, initial) for d in data] if isinstance(data, list | tuple) else \
            [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(help_text="CSV (UTF-8) or XLSX: schools, academic years, "
                                        "subjects, students, scores.")
    school = forms.ModelChoiceField(
        School.objects.all(), required=False, to_field_name="code",
        help_text="For rows without a school column (default: the only school).")
    skip_bad_rows = forms.BooleanField(required=False, help_text="Keep the good rows when "
                                                                 "some are bad.")

    def clean_files(self):
        files = self.cleaned_data["files"]
        if sum(f.size for f in files) > MAX_UPLOAD_BYTES:
            raise ValidationError(f"over {MAX_UPLOAD_BYTES // 2**20} MiB in all: use "
                                  "ssas-deploy data import for large files")
        return files


def _context(request, **extra):
    return {**admin.site.each_context(request), "title": "Import data", **extra}


@permission_required("students.add_student", raise_exception=True)
def upload(request):
    """GET: the form. POST: keep the files, show the dry run's counts and errors."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        PendingImport.objects.filter(created_at__lt=timezone.now() - PENDING_FOR).delete()
        files = [(f.name, f.read()) for f in form.cleaned_data["files"]]
        school = form.cleaned_data["school"]
        pending = PendingImport.objects.create(
            id=uuid.uuid4(), user=request.user, archive=pack(files),
            skip_bad_rows=form.cleaned_data["skip_bad_rows"],
            school_code=school.code if school else "")
        report = import_files(files, dry_run=True, skip_bad_rows=pending.skip_bad_rows,
                              school=pending.school_code or None)
        good = sum(f.created + f.updated + f.unchanged for f in report.files)
        can_import = good > 0 and (not report.error_count or pending.skip_bad_rows)
        return TemplateResponse(request, "admin/students/import_preview.html", _context(
            request, report=report, pending=pending, can_import=can_import))
    return TemplateResponse(request, "admin/students/import_upload.html",
                            _context(request, form=form))


@permission_required("students.add_student", raise_exception=True)
def confirm(request, pending_id):
    """POST: import the kept files for real (or drop them: `cancel`)."""
    pending = get_object_or_404(PendingImport, pk=pending_id, user=request.user,
                                created_at__gte=timezone.now() - PENDING_FOR)
    if request.method != "POST":
        return redirect("admin:students_import")
    files = list(unpack(io.BytesIO(bytes(pending.archive))))
    pending.delete()
    if "cancel" in request.POST:
        messages.info(request, "Import cancelled: nothing was changed.")
        return redirect("admin:students_import")
    report = import_files(files, skip_bad_rows=pending.skip_bad_rows,
                          school=pending.school_code or None)
    if report.committed:
        counts = ", ".join(f"{f.file}: {f.created} created, {f.updated} updated, "
                           f"{f.unchanged} unchanged, {f.skipped} bad rows skipped"
                           for f in report.files)
        messages.success(request, f"Imported. {counts}.")
        return redirect("admin:students_student_changelist")
    # The data changed since the preview: show what is wrong now.
    return TemplateResponse(request, "admin/students/import_preview.html", _context(
        request, report=report, pending=None, can_import=False))

