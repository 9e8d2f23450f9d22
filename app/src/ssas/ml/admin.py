from django.contrib import admin

from .models import BatchJob, ModelArtifact


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
