"""`ssas-deploy data import`: what goes to the host, how its report is shown, exit codes."""

import io
import json
import os
import signal
import tarfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli import data_cmd
from ssas_deploy.cli.app import app
from ssas_deploy.migration.remote import RemoteError

runner = CliRunner()


def _report(committed=True, errors=(), dry_run=False, files=None):
    return {"files": files if files is not None else [
        {"file": "exports/scores.csv", "kind": "scores", "created": 120, "updated": 0,
         "unchanged": 3, "skipped": len(errors), "ignored_columns": ["Tutor"]}],
        "errors": list(errors), "error_count": len(errors), "committed": committed,
        "dry_run": dry_run}


class Host:
    def __init__(self, monkeypatch, report=None, fail=None):
        self.calls, self.report, self.fail = [], report or _report(), fail
        monkeypatch.setattr("ssas_deploy.migration.remote.manage", self.manage)

    def manage(self, host, *args, timeout=0, stdin=None):
        self.calls.append((host.name, args, stdin))
        if self.fail:
            raise RemoteError(f"{host.name}: `ssas-env ssas-manage import_data` {self.fail}")
        return json.dumps(self.report)

    def members(self):
        with tarfile.open(fileobj=io.BytesIO(self.calls[0][2])) as archive:
            return {m.name: archive.extractfile(m).read() for m in archive}


@pytest.fixture
def exports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "scores.csv").write_bytes(b"student_id,subject\nA,MATH\n")
    (tmp_path / "exports" / "students.xlsx").write_bytes(b"PK\x03\x04 not really")
    return ["exports/scores.csv", "exports/students.xlsx"]


def _data(*args):
    result = runner.invoke(app, ["data", "import", *args])
    output = result.output + result.stderr
    assert "Traceback" not in output
    return result.exit_code, output


def test_the_files_go_as_a_tar_stream_on_stdin_named_as_given(monkeypatch, inventory, exports):
    host = Host(monkeypatch)
    code, output = _data(*exports, "-i", str(inventory), "-p", "small", "--map",
                         "Admission No=student_id", "--school", "hillside", "--dry-run")
    assert code == 0, output
    name, args, _ = host.calls[0]
    assert name == "web-1"
    assert args == ("import_data", "--archive", "-", "--json", "--school", "hillside",
                    "--map", "Admission No=student_id", "--dry-run")
    assert host.members() == {"exports/scores.csv": b"student_id,subject\nA,MATH\n",
                              "exports/students.xlsx": b"PK\x03\x04 not really"}
    assert "exports/scores.csv" in output and "Tutor" in output and "Imported." in output


def test_bad_rows_are_listed_and_exit_2(monkeypatch, inventory, exports):
    Host(monkeypatch, _report(committed=False, errors=[
        "exports/scores.csv:3: term: '4': expected a whole number from 1 to 3"]))
    code, output = _data(*exports, "-i", str(inventory), "-p", "small")
    assert code == 2, output
    assert "exports/scores.csv:3: term: '4'" in output
    assert "nothing was imported" in output


def test_skipped_rows_exit_3_and_json_is_the_hosts_report(monkeypatch, inventory, exports):
    report = _report(committed=True, errors=["exports/scores.csv:9: subject: no subject 'X'"])
    Host(monkeypatch, report)
    code, output = _data(*exports, "-i", str(inventory), "-p", "small", "--skip-bad-rows",
                         "--json")
    assert code == 3
    assert json.loads(output) == report


def test_a_missing_file_or_bad_kind_is_refused_before_connecting(monkeypatch, inventory,
                                                                  exports):
    host = Host(monkeypatch)
    code, output = _data("exports/nope.csv", "-i", str(inventory), "-p", "small")
    assert code == 2 and "exports/nope.csv" in output and "nothing was imported" in output
    code, output = _data(*exports, "-i", str(inventory), "-p", "small", "--kind", "pupils")
    assert code == 2 and "--kind pupils" in output
    assert host.calls == []


def test_an_unreachable_host_exits_1_naming_it(monkeypatch, inventory, exports):
    Host(monkeypatch, fail="lost its connection: EOF")
    code, output = _data(*exports, "-i", str(inventory), "-p", "small")
    assert code == 1 and "web-1" in output


def test_a_malformed_map_is_refused_before_connecting(monkeypatch, inventory, exports):
    host = Host(monkeypatch)
    code, output = _data(*exports, "-i", str(inventory), "-p", "small", "--map", "Pupil Ref")
    assert code == 2 and "--map 'Pupil Ref': expected 'HEADER=column'" in output
    assert host.calls == []


# Hostile files: each is refused before connecting, naming the file, quickly (a generous
# bound against reading forever, not a benchmark).
HOSTILE_BOUND_S = 10


def _timed_data(*args):
    start = time.monotonic()
    code, output = _data(*args)
    return code, output, time.monotonic() - start


def test_a_device_is_refused_at_once_not_read_until_memory_runs_out(monkeypatch, inventory):
    host = Host(monkeypatch)
    code, output, seconds = _timed_data("/dev/zero", "-i", str(inventory), "-p", "small")
    assert code == 2, output
    assert "/dev/zero: is not a regular file" in output and "nothing was imported" in output
    assert seconds < HOSTILE_BOUND_S, seconds
    assert host.calls == []


def test_a_fifo_is_refused_at_once_not_waited_on(monkeypatch, inventory, tmp_path):
    fifo = tmp_path / "scores.csv"
    os.mkfifo(fifo)
    host = Host(monkeypatch)
    # Were the FIFO opened for a blocking read, nothing would ever write to it: the
    # alarm turns a hang into a failure.
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("reading the FIFO blocked"))
    signal.alarm(HOSTILE_BOUND_S)
    try:
        code, output, seconds = _timed_data(str(fifo), "-i", str(inventory), "-p", "small")
    finally:
        signal.alarm(0)
    assert code == 2, output
    assert f"{fifo}: is not a regular file" in output
    assert seconds < HOSTILE_BOUND_S, seconds
    assert host.calls == []


def test_files_over_the_budget_are_refused_while_reading_naming_the_file(
        monkeypatch, inventory, exports):
    """The budget covers the files together: the file that crosses it is named, and no
    more than the budget (plus one byte) is read from it."""
    monkeypatch.setattr("ssas_deploy.cli.data_cmd.MAX_BYTES", 40)
    (Path("exports") / "big.csv").write_bytes(b"x" * 1000)
    reads = []
    real = data_cmd.read_regular_file

    def spy(path, limit, what):
        reads.append(limit)
        return real(path, limit, what)

    monkeypatch.setattr("ssas_deploy.cli.data_cmd.read_regular_file", spy)
    host = Host(monkeypatch)
    # scores.csv is 26 bytes: 14 of the 40 are left for big.csv.
    code, output = _data("exports/scores.csv", "exports/big.csv", "-i", str(inventory),
                         "-p", "small")
    assert code == 2, output
    assert "exports/big.csv: the files are over" in output and "in all" in output
    assert "nothing was imported" in output
    assert reads == [40, 14]
    assert host.calls == []


def test_a_directory_is_refused_naming_it(monkeypatch, inventory, exports):
    host = Host(monkeypatch)
    code, output = _data("exports", "-i", str(inventory), "-p", "small")
    assert code == 2, output
    assert "exports: is not a regular file" in output or "exports: is a directory" in output
    assert host.calls == []
