from django.contrib import admin
from django.urls import path

from .models import AcademicYear, School, Student, StudentScore, Subject


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(AcademicYear)
class AcademicYearAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date", "is_current"]


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    """Subjects with the career area each counts for, editable in the list."""

    list_display = ["code", "name", "career_area", "matched_area"]
    list_editable = ["career_area"]

    @admin.display(description="area used")
    def matched_area(self, subject):
        from ssas.ml.careers import subject_area

        return subject_area(subject.code, subject.name, subject.career_area) or "none"


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["student_id", "last_name", "first_name", "school", "grade", "class_name"]
    list_filter = ["school", "grade", "gender", "is_active"]
    search_fields = ["student_id", "first_name", "last_name"]
    list_select_related = ["school"]

    def get_urls(self):
        from .importing import admin_views

        return [
            path("import/", self.admin_site.admin_view(admin_views.upload),
                 name="students_import"),
            path("import/<uuid:pending_id>/", self.admin_site.admin_view(admin_views.confirm),
                 name="students_import_confirm"),
            *super().get_urls(),
        ]


@admin.register(StudentScore)
class StudentScoreAdmin(admin.ModelAdmin):
    list_display = ["student", "subject", "academic_year", "term", "total_score"]
    list_filter = ["academic_year", "term", "subject"]
    search_fields = ["student__student_id", "student__last_name"]
    list_select_related = ["student", "subject", "academic_year"]
    raw_id_fields = ["student"]
