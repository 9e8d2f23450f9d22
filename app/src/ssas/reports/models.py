import uuid

from django.db import models

from ssas.ml.models import JobStatus


class Report(models.Model):
    class Kind(models.TextChoices):
        CLASS_AVERAGES = "class_averages", "Class averages per subject"
        STUDENT_LIST = "student_list", "Students with their averages"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    school = models.ForeignKey("students.School", null=True, blank=True, on_delete=models.CASCADE)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    requested_by = models.CharField(max_length=150, blank=True)
    content = models.TextField(blank=True)  # CSV
    row_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} report {self.id} ({self.status})"
