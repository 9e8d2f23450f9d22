from django.contrib import admin

from .models import BatchJob


@admin.register(BatchJob)
class BatchJobAdmin(admin.ModelAdmin):
    list_display = ["id", "school", "status", "processed_students", "anomalies_found",
                    "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in BatchJob._meta.fields]
