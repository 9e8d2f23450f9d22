import uuid

from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BatchJob(models.Model):
    """A batch analysis request, stored so any web host can report its progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey("students.School", null=True, blank=True, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    requested_by = models.CharField(max_length=150, blank=True)
    total_students = models.PositiveIntegerField(default=0)
    processed_students = models.PositiveIntegerField(default=0)
    anomalies_found = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch {self.id} ({self.status})"


class BatchResult(models.Model):
    """One student's analysis within a job; keyed by (job, student) so reruns upsert."""

    job = models.ForeignKey(BatchJob, on_delete=models.CASCADE, related_name="results")
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE)
    average_score = models.FloatField()
    predicted_average = models.FloatField(null=True)
    anomaly_score = models.FloatField(null=True)
    is_anomaly = models.BooleanField(default=False)
    top_career = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "student"], name="uniq_result_per_job_student"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.student_id}"


class ModelArtifact(models.Model):
    """One trained model version (the joblib bytes), shared by every host.

    Always lives on the `default` database, also when the school data is sharded.
    Hosts keep a copy under SSAS_ML_MODEL_DIR only as a cache (see ssas.ml.store).
    """

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=64)  # sortable by time: newest = max
    payload = models.BinaryField()
    size = models.PositiveBigIntegerField()
    trained_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Its index also serves "newest version of a name" (a backward index scan).
            models.UniqueConstraint(fields=["name", "version"], name="uniq_artifact_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class TrainingRun(models.Model):
    """One (re)training of the models: who or what asked, on which data, what came out.

    `data_fingerprint` summarises the scores trained on (count, newest id, sum of totals):
    the nightly run skips training when it equals the last successful run's. Lives on the
    `default` database, like ModelArtifact.
    """

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly schedule"
        MANUAL = "manual", "Asked for (admin or API)"
        COMMAND = "command", "train_models command"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices,
                              default=JobStatus.PENDING)
    data_fingerprint = models.CharField(max_length=100, blank=True)
    students = models.PositiveIntegerField(default=0)
    versions = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"training {self.created_at:%Y-%m-%d %H:%M} ({self.status})"
