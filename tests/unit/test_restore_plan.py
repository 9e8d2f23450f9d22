"""restore.plan: the choices and refusals made before anything changes."""

from datetime import UTC, datetime

import pytest

from ssas_deploy.backups import BackupRow
from ssas_deploy.cli.options import load_deployment
from ssas_deploy.profiles.models import Role
from ssas_deploy.restore.plan import (
    RestoreRefused,
    choose_snapshot,
    parse_at,
    snapshot_time,
    stanza_options,
    target_option,
)

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def _row(stanza, label, start, stop):
    return BackupRow(stanza, label, "full", start, stop, 1, 1, 1, "", "")


FULL = _row("ssas", "20261130-100000F", int(datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
                                            .timestamp()),
            int(datetime(2026, 11, 30, 10, 1, tzinfo=UTC).timestamp()))


def test_at_is_utc_and_reaches_pgbackrest_with_its_zone():
    at = parse_at("2026-11-30 10:15:00", NOW)
    assert at == datetime(2026, 11, 30, 10, 15, tzinfo=UTC)
    assert target_option(at) == "2026-11-30 10:15:00+00"


@pytest.mark.parametrize("text, message", [
    ("2026-11-30T10:15:00", r"expected 'YYYY-MM-DD HH:MM:SS' \(UTC\)"),
    ("2026-11-31 10:15:00", "day is out of range"),
    ("2026-11-30 12:00:01", "is in the future"),
])
def test_bad_at_is_refused(text, message):
    with pytest.raises(RestoreRefused, match=message) as caught:
        parse_at(text, NOW)
    assert caught.value.exit_code == 2


def test_latest_uses_pgbackrests_default_recovery():
    assert stanza_options([FULL], "ssas", None, ()) == (None, ())


def test_at_recovers_to_the_time_and_promotes():
    at = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert stanza_options([FULL], "ssas", at, ()) == (
        None, ("--type=time", "--target=2026-11-30 11:00:00+00", "--target-action=promote"))


def test_at_before_the_oldest_backup_ended_is_refused():
    with pytest.raises(RestoreRefused, match="before the oldest backup of stanza ssas ended"):
        stanza_options([FULL], "ssas", datetime(2026, 11, 30, 10, 0, 30, tzinfo=UTC), ())


def test_backup_label_is_restored_as_it_ended():
    assert stanza_options([FULL], "ssas", None, ("20261130-100000F",)) == (
        "20261130-100000F", ("--set=20261130-100000F", "--type=immediate",
                             "--target-action=promote"))


def test_unknown_label_and_missing_backups_are_refused():
    with pytest.raises(RestoreRefused, match="names no backup of stanza ssas"):
        stanza_options([FULL], "ssas", None, ("20261129-100000F",))
    with pytest.raises(RestoreRefused, match="stanza ssas-shard-0 has no backup"):
        stanza_options([FULL], "ssas-shard-0", None, ())


def test_snapshot_times_with_nanoseconds_and_offsets():
    assert snapshot_time({"time": "2026-11-30T10:00:00.123456789Z"}) == \
        datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=UTC)
    assert snapshot_time({"time": "2026-11-30T11:00:00+01:00"}) == \
        datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_snapshot_is_the_last_at_or_before_the_moment():
    host = load_deployment("small", None).topology.first(Role.web)
    snapshots = [{"id": "b", "time": "2026-11-30T11:00:00Z"},
                 {"id": "a", "time": "2026-11-30T10:00:00Z"}]
    assert choose_snapshot(host, snapshots, None).snapshot == "b"
    assert choose_snapshot(host, snapshots,
                           datetime(2026, 11, 30, 10, 30, tzinfo=UTC)).snapshot == "a"
    with pytest.raises(RestoreRefused, match="web-1: no media snapshot at or before"):
        choose_snapshot(host, snapshots, datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
