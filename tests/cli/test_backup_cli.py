"""`ssas-deploy backup`: input errors and unreachable hosts, without a real backup host."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app

from ..conftest import closed_port

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def inventory(tmp_path):
    """The small profile on loopback addresses where nothing listens."""
    port = closed_port()
    path = tmp_path / "hosts.yaml"
    path.write_text(
        f"ssh: {{user: root, port: {port}}}\nhosts:\n"
        "  web:\n    - {name: web-1, address: 127.0.0.1}\n"
        "  backup:\n    - {name: nas-1, address: 127.0.0.2}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("verb", [["list"], ["run", "--type", "diff"], ["check"]])
def test_unreachable_backup_host_is_named_exit_1(inventory, verb):
    result = runner.invoke(app, ["backup", *verb, "-i", str(inventory), "-p", "small"])
    output = result.output + result.stderr
    assert "Traceback" not in output
    assert result.exit_code == 1, output
    assert "nas-1" in output and "cannot reach" in output


def test_unknown_backup_type_exit_2(inventory):
    result = runner.invoke(app, ["backup", "run", "--type", "weekly", "-i", str(inventory),
                                 "-p", "small"])
    assert result.exit_code == 2
    assert "'weekly' is not one of full, diff, incr" in result.output + result.stderr


def test_profile_without_backup_host_exit_2(tmp_path, write_profile):
    text = (REPO / "sizing_profiles/small.yaml").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("  backup:"))
    profile = write_profile(text, "nobackup.yaml")
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text("hosts:\n  web:\n    - {name: web-1, address: 127.0.0.1}\n")
    result = runner.invoke(app, ["backup", "list", "-i", str(inventory), "-p", str(profile)])
    assert result.exit_code == 2
    assert "has no backup host" in result.output + result.stderr
