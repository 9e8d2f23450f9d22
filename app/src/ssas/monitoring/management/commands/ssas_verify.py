"""The data of one `ssas-deploy verify` run: a school of its own and its signed-in teachers.

    ssas-manage ssas_verify setup RUN --users N --students M   -> JSON on stdout
    ssas-manage ssas_verify remove RUN                         -> JSON on stdout

`setup` creates the school "Verify RUN" (synthetic students and scores) and N teachers
`verify-RUN-<i>`, each assigned every class of that school (so they see its students and
no other school's) with an API token, and one admin `verify-RUN-batch` (only admins may
start a batch analysis; verify uses its token for that alone, and it lives only as long as
the run: `remove` deletes it); it prints the
school's code and id, some of its student ids and the tokens. It refuses (exit 2) when
the ML models have not been trained yet: the workload's ML calls would only measure
"model not trained", and training here would put models learnt from made-up students in
the school's service. `remove` deletes the run's users (their tokens and class
assignments go with them) and the school (its students, scores and batch jobs), and
prints what it removed; it is safe to repeat.
"""

import json
import re

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from ssas.accounts.models import ClassAssignment
from ssas.ml.estimators import MODEL_NAMES
from ssas.ml.store import ModelStore
from ssas.sharding.context import UnknownSchool, use_school
from ssas.sharding.models import SchoolShard
from ssas.students.models import School, Student
from ssas.students.roles import ADMINS, TEACHERS
from ssas.students.synthetic import generate_school

RUN_ID = re.compile(r"^[a-z0-9]{4,16}$")
STUDENT_IDS_SHOWN = 200


def refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def school_name(run: str) -> str:
    return f"Verify {run}"


def user_prefix(run: str) -> str:
    return f"verify-{run}-"


def _school_exists(code: str) -> bool:
    """Whether school `code` exists (sharded: on the shard it was placed on)."""
    try:
        with use_school(code):
            return School.objects.filter(code=code).exists()
    except UnknownSchool:
        return False


class Command(BaseCommand):
    help = "Create or remove the school and teachers of one `ssas-deploy verify` run."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        setup = actions.add_parser("setup")
        setup.add_argument("run")
        setup.add_argument("--users", type=int, required=True)
        setup.add_argument("--students", type=int, required=True)
        remove = actions.add_parser("remove")
        remove.add_argument("run")

    def handle(self, *args, action, run, **options):
        if not RUN_ID.match(run):
            raise refuse(f"run id {run!r}: 4 to 16 lower-case letters or digits")
        result = (self._setup(run, options["users"], options["students"]) if action == "setup"
                  else self._remove(run))
        self.stdout.write(json.dumps(result))

    def _setup(self, run: str, users: int, students: int) -> dict:
        if not 1 <= users <= 5000 or not 1 <= students <= 20000:
            raise refuse("--users must be 1..5000 and --students 1..20000")
        missing = [n for n, v in ModelStore().current_versions(MODEL_NAMES).items() if v is None]
        if missing:
            raise refuse(f"the ML models are not trained yet ({', '.join(sorted(missing))}): "
                         "train them first (ssas-manage train_models, or Models > Train in "
                         "the site's admin pages)")
        code = slugify(school_name(run))[:40]
        if _school_exists(code) or User.objects.filter(
                username__startswith=user_prefix(run)).exists():
            raise refuse(f"run {run} exists already (ssas_verify remove {run})")
        generated = generate_school(students, seed=1, school_name=school_name(run))
        with use_school(code):
            classes = sorted(set(Student.objects.filter(school__code=code)
                                 .values_list("class_name", flat=True)))
            ids = list(Student.objects.filter(school__code=code).order_by("pk")
                       .values_list("pk", flat=True)[:STUDENT_IDS_SHOWN])
        teachers = Group.objects.get(name=TEACHERS)
        tokens = []
        with transaction.atomic():
            for index in range(users):
                user = User(username=f"{user_prefix(run)}{index}")
                user.set_unusable_password()  # signs in with its token only
                user.save()
                user.groups.add(teachers)
                ClassAssignment.objects.bulk_create(
                    ClassAssignment(user=user, school_code=code, class_name=name)
                    for name in classes)
                tokens.append(Token.objects.create(user=user).key)
            batch = User(username=f"{user_prefix(run)}batch", is_staff=True)
            batch.set_unusable_password()
            batch.save()
            batch.groups.add(Group.objects.get(name=ADMINS))
            batch_token = Token.objects.create(user=batch).key
        return {"school": code, "school_id": generated.school.pk,
                "students": generated.students, "student_ids": ids, "tokens": tokens,
                "batch_token": batch_token}

    def _remove(self, run: str) -> dict:
        code = slugify(school_name(run))[:40]
        with transaction.atomic():
            removed_users, _ = User.objects.filter(
                username__startswith=user_prefix(run)).delete()
        schools = 0
        try:
            with use_school(code):
                for school in School.objects.filter(code=code):
                    school.delete()
                    schools += 1
        except UnknownSchool:
            pass  # sharded, and never placed: setup failed before the school was made
        # Sharded: the school's placement goes too (the next school's shard is chosen by
        # counting placements).
        SchoolShard.objects.using("default").filter(code=code).delete()
        return {"school": code, "schools_removed": schools, "objects_removed": removed_users}
