import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from ssas.ml.models import JobStatus
from ssas.sharding.context import school_kwargs, school_task

from .builder import build
from .models import Report

log = logging.getLogger(__name__)


@shared_task(name="reports.tasks.generate_report", acks_late=True)
@school_task
def generate_report(report_id: str) -> str:
    """Rebuilds the whole content each run, so a redelivered task just rewrites it."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        log.warning("report %s does not exist", report_id)
        return "missing"
    if report.status == JobStatus.DONE:
        return report.status
    Report.objects.filter(pk=report.pk).update(status=JobStatus.RUNNING)
    try:
        content, n = build(report)
    except Exception as exc:
        Report.objects.filter(pk=report.pk).update(
            status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now())
        raise
    Report.objects.filter(pk=report.pk).update(
        status=JobStatus.DONE, content=content, row_count=n, finished_at=timezone.now())
    return JobStatus.DONE


def request_report(kind: str, school=None, params=None, requested_by: str = "") -> Report:
    report = Report.objects.create(kind=kind, school=school, params=params or {},
                                   requested_by=requested_by)
    kwargs = school_kwargs(school)
    transaction.on_commit(lambda: generate_report.delay(str(report.pk), **kwargs),
                          using=report._state.db)
    return report
