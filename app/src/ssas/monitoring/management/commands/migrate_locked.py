"""`migrate_locked`: Django's `migrate` under the deployment-wide migration lock.

Same arguments and output as `migrate` (so "No migrations to apply." appears exactly
when `migrate` would print it), plus one line saying whether it had to wait:

    Migration lock: acquired without waiting.
    Migration lock: held by another migrate; waiting for it to finish...
    Migration lock: acquired after waiting 12.3 s.

The lock is on the `default` database whatever `--database` says, so migrations of
every alias are serialised (see ssas.monitoring.migration_lock). `--check` and `--plan`
only read, and run without the lock: `--check` exits 1 when unapplied migrations exist.
Exit status is non-zero when the lock times out or a migration fails.
"""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import DEFAULT_DB_ALIAS

from ssas.monitoring.migration_lock import migration_lock


class Command(MigrateCommand):
    help = ("Run `migrate` under a deployment-wide lock (PostgreSQL advisory lock on the "
            "default database; a file lock beside an SQLite database), so two "
            "deployments never migrate at once.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--lock-timeout", type=float, default=None, metavar="SECONDS",
            help="Give up (exit 1, nothing migrated) when the lock is not free after this "
                 "many seconds. Default: wait as long as it takes.")

    def handle(self, *args, **options):
        if options["check_unapplied"] or options["plan"]:
            return super().handle(*args, **options)

        def report(message: str) -> None:
            if options["verbosity"] >= 1:
                self.stdout.write(message)
                self.stdout.flush()

        with migration_lock(DEFAULT_DB_ALIAS, options["lock_timeout"], report):
            return super().handle(*args, **options)
