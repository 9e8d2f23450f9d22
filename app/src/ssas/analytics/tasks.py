import datetime

from celery import shared_task
from django.db.models import Avg, Count, FloatField, Q
from django.utils import timezone

from ssas.sharding.context import each_shard
from ssas.students.models import StudentScore

from .models import DailySubjectAggregate


@shared_task(name="analytics.tasks.daily_aggregation", acks_late=True)
def daily_aggregation(date: str | None = None) -> int:
    """Snapshot subject averages for `date` (ISO, default today); upsert, so reruns are safe.
    Sharded: each shard's schools on that shard; returns the rows written in all."""
    day = datetime.date.fromisoformat(date) if date else timezone.localdate()
    return sum(_aggregate_day(day) for _ in each_shard())


def _aggregate_day(day: datetime.date) -> int:
    rows = (
        StudentScore.objects.values("student__school_id", "academic_year_id", "subject_id")
        .annotate(
            average=Avg("total_score", output_field=FloatField()),
            n=Count("id"),
            high=Count("id", filter=Q(total_score__gte=80)),
        )
        .order_by()
    )
    objs = [
        DailySubjectAggregate(
            date=day, school_id=r["student__school_id"], academic_year_id=r["academic_year_id"],
            subject_id=r["subject_id"], average_score=r["average"], score_count=r["n"],
            high_score_count=r["high"],
        )
        for r in rows
    ]
    DailySubjectAggregate.objects.bulk_create(
        objs, update_conflicts=True,
        unique_fields=["date", "school", "academic_year", "subject"],
        update_fields=["average_score", "score_count", "high_score_count"],
    )
    return len(objs)
