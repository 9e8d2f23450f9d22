import datetime

import pytest
from django.conf import settings

from ssas.analytics.models import DailySubjectAggregate
from ssas.analytics.tasks import daily_aggregation
from ssas.celery_app import app
from ssas.ml.tasks import single_analysis
from ssas.students.models import Student

EXPECTED_ROUTES = {
    "ml.tasks.batch_analysis": "ml_heavy",
    "ml.tasks.single_analysis": "ml_fast",
    "reports.tasks.generate_report": "reports",
    "analytics.tasks.daily_aggregation": "analytics",
}


def test_task_names_and_routes():
    app.loader.import_default_modules()
    for name, queue in EXPECTED_ROUTES.items():
        assert name in app.tasks, name
        assert app.amqp.router.route({}, name)["queue"].name == queue
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > app.conf.task_time_limit


def test_daily_aggregation_is_on_the_beat_schedule():
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
                if e["task"] == "analytics.tasks.daily_aggregation"]
    assert entry["schedule"].hour == {4}  # after daylight-saving's skipped/repeated hours
    (retrain,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
                  if e["task"] == "ml.tasks.train_models"]
    assert retrain["kwargs"] == {"trigger": "nightly", "only_if_changed": True}


@pytest.mark.django_db
def test_daily_aggregation_upserts(school_data):
    assert daily_aggregation("2025-01-31") == 11
    assert daily_aggregation("2025-01-31") == 11  # rerun of the same day
    rows = DailySubjectAggregate.objects.filter(date=datetime.date(2025, 1, 31))
    assert rows.count() == 11
    assert sum(r.score_count for r in rows) == 150 * 11 * 3


@pytest.mark.django_db
def test_single_analysis_warms_the_cache(trained, django_assert_num_queries):
    student = Student.objects.order_by("id").first()
    result = single_analysis(student.pk)
    assert set(result) == {"careers", "prediction", "peers"}
    from ssas.ml import service

    with django_assert_num_queries(0):
        assert service.predict_performance(student.pk) == result["prediction"]
