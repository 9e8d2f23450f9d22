"""How `apply` reports a finished, failed or interrupted run, and its exit code."""

from ssas_deploy.cli.apply_cmd import report_run
from ssas_deploy.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from ssas_deploy.runner.events import RunState
from ssas_deploy.runner.playbook import RunResult
from tests.unit.test_run_verdict import LOG, complete_run, state_of


def test_run_result_expects_the_inventory_hosts():
    result = RunResult(0, state_of(*complete_run("web-1")), LOG, expected_hosts=("web-1", "x"))
    assert [p.split(":")[0] for p in result.verdict().problems] == ["x"]


def test_report_never_counts_changes_of_an_unproven_run(capsys):
    result = RunResult(-9, state_of(*complete_run("web-1")[:3]), LOG, expected_hosts=("web-1",))
    assert report_run(result) == EXIT_FAILED
    captured = capsys.readouterr()
    assert "task(s) changed" not in captured.out + captured.err
    assert "killed by signal 9" in captured.err
    assert str(LOG) in captured.err


def test_report_of_a_proven_run_counts_changes(capsys):
    result = RunResult(0, state_of(*complete_run("web-1", "db-1")), LOG,
                       expected_hosts=("web-1", "db-1"))
    assert report_run(result) == EXIT_OK
    printed = capsys.readouterr().out
    assert "2 task(s) changed.\n  web-1: Install packages\n  db-1: Install packages\n" in printed


def test_report_lists_at_most_twenty_changed_tasks(capsys):
    hosts = [f"web-{n}" for n in range(1, 23)]
    result = RunResult(0, state_of(*complete_run(*hosts)), LOG, expected_hosts=tuple(hosts))
    assert report_run(result) == EXIT_OK
    printed = capsys.readouterr().out
    assert "  web-20: Install packages" in printed and "web-21:" not in printed
    assert "... and 2 more (see the log)" in printed


def test_report_of_an_interrupted_run_names_hosts_mid_change(capsys):
    events = [*complete_run("db-1")[:-2],  # db-1 finished its task, web-1 is in the middle
              {"event": "start", "host": "web-1", "task": "Restart gunicorn"},
              {"event": "start", "host": "db-1", "task": "Reload PostgreSQL"}]
    result = RunResult(99, state_of(*events), LOG, interrupted=15)
    assert report_run(result) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted (SIGTERM): Ansible was stopped" in err
    assert "  db-1: task 'Reload PostgreSQL'" in err
    assert "  web-1: task 'Restart gunicorn'" in err
    assert "Nothing else will be changed" in err
    assert "task(s) changed" not in err


def test_report_of_a_run_interrupted_before_ansible_started(capsys):
    result = RunResult(None, RunState(), LOG, interrupted=2)
    assert report_run(result) == EXIT_INTERRUPTED
    assert "before Ansible started: no host was changed" in capsys.readouterr().err


def test_a_full_apply_ends_with_the_first_accounts_and_handover_commands(tmp_path, capsys):
    from ssas_deploy.cli.apply_cmd import print_next_steps
    from ssas_deploy.cli.options import load_deployment

    inventory = tmp_path / "hosts.yaml"
    inventory.write_text("ssh: {user: admin, port: 2222}\nhosts:\n"
                         "  web: [{name: web-1, address: 192.168.1.10}]\n"
                         "  backup: [{name: nas-1, address: 192.168.1.20}]\n")
    deployment = load_deployment("small", inventory, warn=False)
    print_next_steps(deployment, "small", inventory)
    printed = capsys.readouterr().out
    assert "SSAS is running: https://192.168.1.10/" in printed
    assert (f"ssas-deploy users create principal --role admin --email principal@school.example "
            f"--password-file principal.password --inventory {inventory}") in printed
    assert "users create teacher-name --role teacher" in printed
    assert f"ssas-deploy handover --profile small --inventory {inventory}" in printed
