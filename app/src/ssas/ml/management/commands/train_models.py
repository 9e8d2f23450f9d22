from django.core.management.base import BaseCommand, CommandError

from ssas.ml.training import NotEnoughData, train_all
from ssas.students.models import School


class Command(BaseCommand):
    help = "Train the analysis models from the scores in the database and store new versions."

    def add_arguments(self, parser):
        parser.add_argument("--school", help="school code; default: all schools")

    def handle(self, *args, school=None, **options):
        school_id = None
        if school:
            found = School.objects.filter(code=school).first()
            if found is None:
                raise CommandError(f"no school with code {school!r}")
            school_id = found.pk
        try:
            versions = train_all(school_id=school_id)
        except NotEnoughData as exc:
            raise CommandError(f"cannot train yet: {exc}") from None
        except OSError as exc:
            raise CommandError(f"cannot write models: {exc}") from None
        for name, version in versions.items():
            self.stdout.write(f"{name}: {version}")
