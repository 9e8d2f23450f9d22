"""Staff accounts from the command line: what `ssas-deploy users ...` runs on a web host.

    ssas_users create NAME --role teacher|counsellor|admin [--email E]
                      [--class CLASS ... [--school CODE]] --password-stdin
    ssas_users assign NAME --class CLASS ... [--school CODE]   (a teacher's classes, replaced)
    ssas_users reset-password NAME --password-stdin
    ssas_users disable NAME
    ssas_users list --json

Passwords arrive on stdin only (never in argv, so never in `ps` or a shell history). Refusals
(an existing or unknown user, a bad role, a password the validators reject) exit 2 and
change nothing.
"""

import json
import sys

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ssas.accounts.models import ClassAssignment
from ssas.students.models import School, Student
from ssas.students.roles import ADMINS, COUNSELLORS, TEACHERS

ROLE_GROUPS = {"teacher": TEACHERS, "counsellor": COUNSELLORS, "admin": ADMINS}


def refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Create, list, disable staff accounts and reset their passwords."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create")
        create.add_argument("username")
        create.add_argument("--role", choices=sorted(ROLE_GROUPS), required=True)
        create.add_argument("--email", default="")
        create.add_argument("--password-stdin", action="store_true", required=True)
        assign = actions.add_parser("assign")
        assign.add_argument("username")
        for command in (create, assign):
            command.add_argument("--class", action="append", default=[], dest="classes",
                                 metavar="CLASS", help="A class the teacher teaches (repeat).")
            command.add_argument("--school", help="The classes' school code (default: the "
                                                  "only school).")
        reset = actions.add_parser("reset-password")
        reset.add_argument("username")
        reset.add_argument("--password-stdin", action="store_true", required=True)
        disable = actions.add_parser("disable")
        disable.add_argument("username")
        listing = actions.add_parser("list")
        listing.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, **options):
        return getattr(self, "_" + action.replace("-", "_"))(**options)

    def _password(self, user) -> str:
        password = sys.stdin.readline().rstrip("\n")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise refuse("password refused: " + " ".join(exc.messages)) from None
        return password

    @transaction.atomic
    def _create(self, username, role, email, classes, school, **_):
        if User.objects.filter(username=username).exists():
            raise refuse(f"user {username} exists already")
        if classes and role != "teacher":
            raise refuse(f"--class is for teachers; a {role} sees every student")
        user = User(username=username, email=email, is_staff=role == "admin")
        user.set_password(self._password(user))
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise refuse("; ".join(f"{k}: {' '.join(v)}" for k, v in
                                   exc.message_dict.items())) from None
        user.save()
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
        self._set_classes(user, classes, school)
        self.stdout.write(f"created {role} {username}")

    @transaction.atomic
    def _assign(self, username, classes, school, **_):
        user = self._user(username)
        if not user.groups.filter(name=TEACHERS).exists():
            raise refuse(f"{username} is not a teacher; only teachers are limited to classes")
        self._set_classes(user, classes, school)
        self.stdout.write(f"{username} teaches {', '.join(classes) or 'no class'}")

    def _set_classes(self, user, classes: list[str], school_code: str | None) -> None:
        """The teacher's classes become exactly `classes` of one school; each must exist
        (some student is in it), so a typo cannot leave a teacher seeing nothing."""
        user.class_assignments.all().delete()
        if not classes:
            return
        school = self._school(school_code)
        known = set(Student.objects.filter(school=school).values_list("class_name",
                                                                      flat=True).distinct())
        unknown = sorted(set(classes) - known)
        if unknown:
            raise refuse(f"no class {', '.join(unknown)} in school {school.code} (classes: "
                         f"{', '.join(sorted(known)) or 'none yet; import students first'})")
        ClassAssignment.objects.bulk_create(
            ClassAssignment(user=user, school_code=school.code, class_name=name)
            for name in sorted(set(classes)))

    @staticmethod
    def _school(code: str | None) -> School:
        if code:
            school = School.objects.filter(code__iexact=code).first()
            if school is None:
                raise refuse(f"no school {code}")
            return school
        schools = list(School.objects.all()[:2])
        if len(schools) != 1:
            raise refuse("give --school CODE: there are "
                         f"{'several schools' if schools else 'no schools yet'}")
        return schools[0]

    def _user(self, username) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise refuse(f"no user named {username}") from None

    def _reset_password(self, username, **_):
        user = self._user(username)
        user.set_password(self._password(user))
        user.save(update_fields=["password"])
        self.stdout.write(f"new password set for {username}")

    def _disable(self, username, **_):
        user = self._user(username)
        user.is_active = False
        user.save(update_fields=["is_active"])
        self.stdout.write(f"disabled {username}")

    def _list(self, as_json: bool = False, **_):
        rows = []
        for user in User.objects.order_by("username").prefetch_related("groups",
                                                                        "class_assignments"):
            groups = {g.name for g in user.groups.all()}
            role = ("admin" if user.is_superuser or ADMINS in groups
                    else "counsellor" if COUNSELLORS in groups
                    else "teacher" if TEACHERS in groups else "none")
            rows.append({"username": user.username, "role": role, "active": user.is_active,
                         "email": user.email,
                         "classes": [str(c) for c in user.class_assignments.all()],
                         "last_login": user.last_login.strftime("%Y-%m-%d %H:%M")
                         if user.last_login else None})
        if as_json:
            self.stdout.write(json.dumps(rows))
        else:
            for row in rows:
                self.stdout.write(f"{row['username']}\t{row['role']}\t{row['active']}\t"
                                  f"{', '.join(row['classes'])}")
