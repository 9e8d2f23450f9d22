from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect
from django.urls import path

from .models import BatchJob, ModelArtifact, TrainingRun


@admin.register(BatchJob)
class BatchJobAdmin(admin.ModelAdmin):
    list_display = ["id", "school", "status", "processed_students", "anomalies_found",
                    "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in BatchJob._meta.fields]


@admin.register(ModelArtifact)
class ModelArtifactAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "size", "trained_at"]
    list_filter = ["name"]
    fields = ["name", "version", "size", "trained_at"]  # never render the payload
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")

    def has_add_permission(self, request):
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    """Every training with its versions and metrics; *Retrain now* starts one."""

    list_display = ["created_at", "trigger", "requested_by", "status", "students",
                    "finished_at"]
    list_filter = ["status", "trigger"]
    readonly_fields = [f.name for f in TrainingRun._meta.fields]
    change_list_template = "admin/ml/trainingrun/change_list.html"

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [path("retrain/", self.admin_site.admin_view(retrain_now),
                     name="ml_trainingrun_retrain"), *super().get_urls()]


@permission_required("students.add_student", raise_exception=True)
def retrain_now(request):
    """POST: queue a retraining of every model (admins)."""
    from .tasks import start_training

    if request.method == "POST":
        run = start_training(request.user.get_username())
        messages.success(request, f"Retraining queued ({run.pk}); refresh to follow it.")
    return redirect("admin:ml_trainingrun_changelist")
