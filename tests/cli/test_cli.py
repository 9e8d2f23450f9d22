import json

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app

from ..conftest import REPO

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_every_command_has_help():
    for args in (["--help"], ["profiles", "--help"], ["profiles", "list", "--help"],
                 ["profiles", "show", "--help"], ["profiles", "validate", "--help"],
                 ["profiles", "schema", "--help"], ["render", "--help"], ["plan", "--help"],
                 ["hostvars", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def test_profiles_list_shows_the_four_tiers():
    result = invoke("profiles", "list")
    assert result.exit_code == 0
    for row in ("small", "medium", "large", "very-large", "3,000+", "800-1,500"):
        assert row in result.output


def test_profiles_show_prints_the_merged_profile(tmp_path):
    custom = tmp_path / "p.yaml"
    custom.write_text("name: district\nextends: large\nstudents: 2900\n")
    result = invoke("profiles", "show", str(custom))
    assert result.exit_code == 0
    assert "students: 2900" in result.output
    assert "api_ms: 200" in result.output


def test_validate_reports_file_line_field_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nextends: small\nstaf: 3\n")
    good = tmp_path / "good.yaml"
    good.write_text("name: y\nextends: small\n")
    result = invoke("profiles", "validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"{good}: ok" in result.output
    assert f"error: {bad}:3: staf: unknown key (did you mean 'staff'?)" in result.output
    assert "Traceback" not in result.output


def test_committed_schema_is_in_sync():
    result = invoke("profiles", "schema")
    assert result.exit_code == 0
    committed = json.loads((REPO / "sizing_profiles/profile.schema.json").read_text())
    assert json.loads(result.output) == committed, (
        "regenerate: ssas-deploy profiles schema > sizing_profiles/profile.schema.json"
    )


def test_render_writes_tree_and_manifest(tmp_path):
    out = tmp_path / "out"
    result = invoke("render", "--profile", "large", "--out", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    hosts = {f["host"] for f in manifest["files"]}
    assert hosts == {"lb-1", "web-1", "web-2", "web-3", "db-1", "cache-1", "worker-1",
                     "backup-1"}
    for entry in manifest["files"]:
        path = out / entry["host"] / entry["path"].lstrip("/")
        assert path.is_file()
        assert oct(path.stat().st_mode & 0o777) == oct(int(entry["mode"], 8))
        import hashlib
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    conf = next(f for f in manifest["files"] if f["path"].endswith("postgresql.conf"))
    assert (conf["host"], conf["owner"], conf["service"]) == ("db-1", "postgres",
                                                              "postgresql@15-main")


def test_render_with_inventory_uses_addresses(tmp_path):
    out = tmp_path / "out"
    result = invoke("render", "-p", "large", "-i", str(REPO / "inventories/large.example.yaml"),
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    site = (out / "lb-1/etc/nginx/conf.d/ssas.conf").read_text()
    assert "server 10.0.1.10:8000 weight=4" in site


def test_plan_json_is_one_document_on_stdout():
    result = invoke("plan", "--profile", "very-large", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["tier"] == "very-large"
    assert len(doc["hosts"]) == 24
    db = next(h for h in doc["hosts"] if h["name"] == "db-1")
    shared_buffers = db["settings"]["postgresql"]["shared_buffers"]
    assert shared_buffers["formula"].startswith("R / 4")
    assert any(f["secret"] for f in doc["files"])


def test_plan_explain_shows_the_arithmetic():
    result = invoke("plan", "--profile", "small", "--explain")
    assert result.exit_code == 0
    assert "shared_buffers = 333MB = R / 4; R = 1.3 GiB" in result.output
    assert "workers = 2 = max(2, min(2 x 0.75 cores + 1 = 2" in result.output
    assert "Targets" in result.output and "$50-100" in result.output


def test_plan_without_explain_lists_topology_and_files():
    result = invoke("plan", "--profile", "medium")
    assert result.exit_code == 0
    assert "/etc/postgresql/15/main/postgresql.conf" in result.output
    assert "/etc/redis/ssas-cache.acl (secret)" in result.output


def test_bad_profile_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nextends: large\ndatabase: {engine: sqlite}\n")
    result = invoke("plan", "--profile", str(bad))
    assert result.exit_code == 2
    assert "database.engine: sqlite needs a single server" in result.output
    assert "Traceback" not in result.output


def test_unknown_profile_name_exits_2():
    result = invoke("render", "--profile", "huge", "--out", "/nonexistent")
    assert result.exit_code == 2
    assert "no profile file or built-in profile named 'huge'" in result.output


def test_hostvars_prints_json_for_one_host():
    result = invoke("hostvars", "--profile", "small", "--host", "web-1")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ssas_hostname"] == "web-1"
    assert data["gunicorn_bind"] == "127.0.0.1:8000"
    bad = invoke("hostvars", "--profile", "small", "--host", "db-9")
    assert bad.exit_code == 2


def _inventory(path, address):
    path.write_text("ssh: {user: root}\nhosts:\n  web:\n"
                    f"    - {{name: web-1, address: {address}}}\n"
                    f"  backup:\n    - {{name: backup-1, address: {address}1}}\n")
    return path


def test_migrate_to_fewer_database_capabilities_exits_2_touching_nothing(tmp_path):
    sqlite = tmp_path / "sqlite.yaml"
    sqlite.write_text("name: s\nextends: small\ndatabase: {engine: sqlite}\n")
    source = _inventory(tmp_path / "old.yaml", "192.0.2.10")
    target = _inventory(tmp_path / "new.yaml", "192.0.2.20")
    result = invoke("migrate", "--from-profile", "medium", "--from-inventory", str(source),
                    "--to-profile", str(sqlite), "--inventory", str(target), "--yes")
    assert result.exit_code == 2, result.output
    assert f"{sqlite}: database.engine: the target uses sqlite" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.yaml", "old.yaml", "sqlite.yaml"]


def test_migrate_onto_the_source_hosts_exits_2(tmp_path):
    source = _inventory(tmp_path / "old.yaml", "192.0.2.10")
    target = _inventory(tmp_path / "new.yaml", "192.0.2.10")
    result = invoke("migrate", "--from-profile", "small", "--from-inventory", str(source),
                    "--to-profile", "medium", "--inventory", str(target), "--yes")
    assert result.exit_code == 2, result.output
    assert "address(es) 192.0.2.10, 192.0.2.101 are also in" in result.output


def test_migrate_without_yes_and_without_a_terminal_exits_2(tmp_path):
    source = _inventory(tmp_path / "old.yaml", "192.0.2.10")
    target = _inventory(tmp_path / "new.yaml", "192.0.2.20")
    result = invoke("migrate", "--from-profile", "small", "--from-inventory", str(source),
                    "--to-profile", "medium", "--inventory", str(target))
    assert result.exit_code == 2, result.output
    assert "pass --yes" in result.output


def test_piped_plan_cuts_no_path(monkeypatch):
    # CliRunner's stdout is not a terminal: rich would cut tables at 80 columns ("…").
    monkeypatch.delenv("SSAS_DEPLOY_WIDTH", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    result = invoke("plan", "--profile", "large")
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    for path in ("/etc/apt/apt.conf.d/52ssas-unattended-upgrades",
                 "/etc/postgresql/15/main/postgresql.conf"):
        assert path in result.output


def test_a_narrow_terminal_folds_paths_rather_than_cutting_them(monkeypatch):
    monkeypatch.setenv("SSAS_DEPLOY_WIDTH", "60")
    result = invoke("plan", "--profile", "large")
    assert result.exit_code == 0, result.output
    files = result.output[result.output.index("Files"):]
    assert "…" not in files
    # The path column's fragments, line by line, put back together.
    cells = "".join(line.split("│")[2].strip() for line in files.splitlines()
                    if line.count("│") == 6)
    assert "/etc/postgresql/15/main/postgresql.conf" in cells


def test_plan_through_a_real_pipe_prints_every_path_whole():
    # A real process writing into a pipe (not CliRunner's stream): rich sees no terminal.
    import os
    import subprocess
    import sys

    from ssas_deploy.cli.options import load_deployment
    from ssas_deploy.files import files_for_host

    env = {k: v for k, v in os.environ.items() if k not in ("SSAS_DEPLOY_WIDTH", "COLUMNS")}
    result = subprocess.run([sys.executable, "-m", "ssas_deploy", "plan", "--profile",
                             "very-large"], capture_output=True, text=True, env=env,
                            check=True)
    assert "…" not in result.stdout
    deployment = load_deployment("very-large", None, warn=False)
    paths = {spec.dest for hv in deployment.host_vars.values() for spec in files_for_host(hv)}
    longest = max(paths, key=len)
    assert len(longest) > 60
    for path in paths:
        assert path in result.stdout, path


def test_the_data_import_table_folds_a_long_file_name_in_a_narrow_terminal(monkeypatch,
                                                                          capsys):
    from ssas_deploy.cli import data_cmd

    name = "/srv/exports/2026/autumn-term/year-11/students-with-a-very-long-name.csv"
    report = {"errors": [], "error_count": 0, "dry_run": True, "committed": False,
              "files": [{"file": name, "kind": "students", "created": 1, "updated": 0,
                         "unchanged": 0, "skipped": 0, "ignored_columns": []}]}
    monkeypatch.setenv("SSAS_DEPLOY_WIDTH", "60")
    data_cmd._show(report)
    output = capsys.readouterr().out
    column = [line.split("│")[1].strip() for line in output.splitlines()
              if line.count("│") == 8]
    assert not any("…" in cell for cell in column)
    assert name in "".join(column)
    monkeypatch.delenv("SSAS_DEPLOY_WIDTH")
    data_cmd._show(report)  # piped: one line, the name whole
    assert name in capsys.readouterr().out


def test_render_replaces_an_earlier_render_whole(tmp_path):
    """medium puts PostgreSQL on web-1; a large render into the same folder must not keep it
    (nor a file someone added to the earlier render)."""
    out = tmp_path / "out"
    assert invoke("render", "--profile", "medium", "--out", str(out)).exit_code == 0
    assert (out / "web-1/etc/postgresql").is_dir()
    (out / "web-1/stray.txt").write_text("x")
    result = invoke("render", "--profile", "large", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert not (out / "web-1/etc/postgresql").exists()
    assert not (out / "web-1/stray.txt").exists()
    assert (out / "db-1/etc/postgresql").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


@pytest.mark.parametrize("kind", ["file", "foreign folder"])
def test_render_refuses_an_out_that_is_not_its_own(tmp_path, kind):
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    result = invoke("render", "--profile", "small", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"{out}: --out: " in result.output
    assert "Traceback" not in result.output
    assert (out.read_text() if kind == "file" else (out / "notes.txt").read_text()) == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_status_without_a_recorded_apply_names_the_inventory(tmp_path):
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text("all:\n  hosts: {}\n")
    result = invoke("status", "--inventory", str(inventory))
    assert result.exit_code == 2
    assert f"{inventory}: --profile: no apply recorded" in result.output
    assert "hosts.last-apply.json beside it is missing or unreadable" in result.output


def test_restore_help_shows_readable_metavars():
    result = invoke("restore", "--help")
    assert result.exit_code == 0
    assert "list[str]" not in result.output
    assert "NAME[=ADDRESS]" in result.output and "LABEL" in result.output


def test_status_of_a_missing_inventory_says_so(tmp_path):
    result = invoke("status", "--inventory", str(tmp_path / "nothing.yaml"))
    assert result.exit_code == 2
    assert "nothing.yaml: --inventory: no such file" in result.output


def test_data_import_help_shows_where_the_templates_are():
    from ssas_deploy.resources import import_templates_dir

    assert (import_templates_dir() / "students.csv").is_file()
    result = runner.invoke(app, ["data", "import", "--help"])
    # Help is folded at 80 columns: a long checkout path spans lines.
    assert str(import_templates_dir()) in "".join(result.output.split())
