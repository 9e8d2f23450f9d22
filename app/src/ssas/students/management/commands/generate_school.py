import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from ssas.students.models import School
from ssas.students.synthetic import generate_school


class Command(BaseCommand):
    help = "Create a school with synthetic students and scores (same seed, same data)."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--school", default="Demo Secondary School")
        parser.add_argument("--anomaly-rate", type=float, default=0.02)
        parser.add_argument("--replace", action="store_true",
                            help="delete an existing school of that name first")

    def handle(self, *args, students, seed, school, anomaly_rate, replace, **options):
        if students < 1:
            raise CommandError("--students must be at least 1")
        if not 0 <= anomaly_rate < 1:
            raise CommandError("--anomaly-rate must be in [0, 1)")
        code = slugify(school)[:40]
        if not code:
            raise CommandError("--school needs letters or digits")
        existing = School.objects.filter(code=code)
        if existing.exists():
            if not replace:
                raise CommandError(f"school {code!r} already exists (use --replace)")
            existing.delete()
        start = time.perf_counter()
        result = generate_school(students, seed, school, anomaly_rate)
        self.stdout.write(self.style.SUCCESS(
            f"created school {result.school.code!r}: {result.students} students, "
            f"{result.scores} scores, {len(result.anomalous_student_ids)} injected anomalies "
            f"in {time.perf_counter() - start:.1f}s"))
