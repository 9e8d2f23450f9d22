"""Staff accounts from the command line: what `ssas-deploy users ...` runs on a web host.

    ssas_users create NAME --role teacher|admin [--email E] --password-stdin
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

from ssas.students.roles import ADMINS, TEACHERS

ROLE_GROUPS = {"teacher": TEACHERS, "admin": ADMINS}


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
    def _create(self, username, role, email, **_):
        if User.objects.filter(username=username).exists():
            raise refuse(f"user {username} exists already")
        user = User(username=username, email=email, is_staff=role == "admin")
        user.set_password(self._password(user))
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise refuse("; ".join(f"{k}: {' '.join(v)}" for k, v in
                                   exc.message_dict.items())) from None
        user.save()
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
        self.stdout.write(f"created {role} {username}")

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
        for user in User.objects.order_by("username").prefetch_related("groups"):
            groups = {g.name for g in user.groups.all()}
            role = ("admin" if user.is_superuser or ADMINS in groups
                    else "teacher" if TEACHERS in groups else "none")
            rows.append({"username": user.username, "role": role, "active": user.is_active,
                         "email": user.email,
                         "last_login": user.last_login.strftime("%Y-%m-%d %H:%M")
                         if user.last_login else None})
        if as_json:
            self.stdout.write(json.dumps(rows))
        else:
            for row in rows:
                self.stdout.write(f"{row['username']}\t{row['role']}\t{row['active']}")
