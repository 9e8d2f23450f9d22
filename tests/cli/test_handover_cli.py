"""`ssas-deploy handover` end to end through the CLI, and apply's closing lines."""

import stat

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app

from ..conftest import closed_port

runner = CliRunner()


@pytest.fixture
def inventory(tmp_path):
    """The small profile on loopback addresses where nothing listens."""
    path = tmp_path / "site" / "hosts.yaml"
    path.parent.mkdir()
    path.write_text(
        f"ssh: {{user: root, port: {closed_port()}}}\nhosts:\n"
        "  web:\n    - {name: web-1, address: 127.0.0.1}\n"
        "  backup:\n    - {name: nas-1, address: 127.0.0.2}\n", encoding="utf-8")
    return path


def test_handover_has_help():
    result = runner.invoke(app, ["handover", "--help"])
    assert result.exit_code == 0 and "--offline" in result.output


def output_of(result) -> str:
    return result.output + result.stderr


def test_offline_writes_both_files_beside_the_inventory(inventory):
    result = runner.invoke(app, ["handover", "-p", "small", "-i", str(inventory), "--offline"])
    assert result.exit_code == 0, output_of(result)
    folder = inventory.parent / "handover"
    for name in ("handover.md", "handover.html"):
        path = folder / name
        assert path.is_file() and f"Wrote {path}" in result.output
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    markdown = (folder / "handover.md").read_text(encoding="utf-8")
    assert "unknown (--offline: the backup host was not asked)" in markdown
    assert (folder / "handover.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_out_directory_is_created(inventory, tmp_path):
    target = tmp_path / "reports" / "school"
    result = runner.invoke(app, ["handover", "-p", "small", "-i", str(inventory), "--offline",
                                 "--out", str(target)])
    assert result.exit_code == 0, output_of(result)
    assert sorted(p.name for p in target.iterdir()) == ["handover.html", "handover.md"]


def test_unreachable_backup_host_still_writes_the_report(inventory):
    result = runner.invoke(app, ["handover", "-p", "small", "-i", str(inventory)])
    assert result.exit_code == 0, output_of(result)
    assert "warning: last backup unknown" in result.stderr
    markdown = (inventory.parent / "handover" / "handover.md").read_text(encoding="utf-8")
    assert "Last successful backup: unknown (nas-1: cannot reach nas-1 at 127.0.0.2" in markdown


def test_bad_profile_exits_2_naming_the_file(tmp_path, inventory):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nextends: large\ndatabase: {engine: sqlite}\n")
    result = runner.invoke(app, ["handover", "-p", str(bad), "-i", str(inventory),
                                 "--offline"])
    assert result.exit_code == 2
    assert str(bad) in output_of(result) and "Traceback" not in output_of(result)
    assert not (inventory.parent / "handover").exists()


def test_bad_inventory_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "hosts.yaml"
    bad.write_text("hosts:\n  webb:\n    - {name: web-1, address: 10.0.0.1}\n")
    result = runner.invoke(app, ["handover", "-p", "small", "-i", str(bad), "--offline"])
    assert result.exit_code == 2
    assert f"{bad}:2" in output_of(result) and "Traceback" not in output_of(result)
    missing = tmp_path / "missing.yaml"
    result = runner.invoke(app, ["handover", "-p", "small", "-i", str(missing), "--offline"])
    assert result.exit_code == 2
    assert str(missing) in output_of(result) and "Traceback" not in output_of(result)
