"""`move_school`: move one school's data to another shard.

    ssas-manage move_school SCHOOL --to shard_N [--freeze-seconds 300] [--settle 2]

Exit codes: 0 moved (per-table counts and checksums printed, all equal); 1 the copy
failed or did not verify, the freeze ran out before the switch, or the source changed
after the copy (rolled back: the school stays on its source shard, unfrozen);
2 refused (not sharded, unknown school or shard, already there).
"""

from django.core.management.base import BaseCommand, CommandError

from ssas.sharding.move import MoveError, check_request, move_school


class Command(BaseCommand):
    help = ("Move a school to another shard: freeze its writes, copy every row, verify "
            "per-table counts and checksums, switch the shard map, delete the old rows.")

    def add_arguments(self, parser):
        parser.add_argument("school", help="School code.")
        parser.add_argument("--to", required=True, dest="target", help="Target shard alias.")
        parser.add_argument("--freeze-seconds", type=float, default=300,
                            help="Longest the write freeze lasts should this command die.")
        parser.add_argument("--settle", type=float, default=2.0,
                            help="Seconds to wait after freezing before copying.")

    def handle(self, *args, school, target, freeze_seconds, settle, **options):
        try:
            source = check_request(school, target)
        except MoveError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"moving {school} from {source} to {target}")
        try:
            checks = move_school(school, target, freeze_seconds=freeze_seconds, settle=settle)
        except MoveError as exc:
            if getattr(exc, "checks", None):
                self._table(exc.checks)
            raise CommandError(str(exc), returncode=1) from None
        self._table(checks)
        self.stdout.write(self.style.SUCCESS(f"{school} is now on {target}"))

    def _table(self, checks) -> None:
        width = max(len(c.model) for c in checks)
        self.stdout.write(f"{'table':<{width}}  {'source rows':>11}  {'target rows':>11}  "
                          f"{'source checksum':<16}  {'target checksum':<16}")
        for c in checks:
            self.stdout.write(f"{c.model:<{width}}  {c.source_rows:>11}  {c.target_rows:>11}  "
                              f"{c.source_checksum[:16]:<16}  {c.target_checksum[:16]:<16}"
                              + ("" if c.ok else "  MISMATCH"))
