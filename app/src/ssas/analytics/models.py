from django.db import models


class DailySubjectAggregate(models.Model):
    """Per-day snapshot of subject averages; upserted, so reruns of a day are safe."""

    date = models.DateField()
    school = models.ForeignKey("students.School", on_delete=models.CASCADE)
    academic_year = models.ForeignKey("students.AcademicYear", on_delete=models.CASCADE)
    subject = models.ForeignKey("students.Subject", on_delete=models.CASCADE)
    average_score = models.FloatField()
    score_count = models.PositiveIntegerField()
    high_score_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["date", "school", "academic_year", "subject"], name="uniq_daily_aggregate"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.school_id}/{self.subject_id}: {self.average_score:.1f}"
