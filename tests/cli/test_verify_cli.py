"""`ssas-deploy verify`: refusals, and the run's school and users removed on every way out."""

import json

import pytest
from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.migration.remote import RemoteError
from ssas_deploy.verify import run as verify_run

runner = CliRunner()
MADE = {"school": "verify-1a2b3c4d", "school_id": 7, "students": 50, "student_ids": [1, 2],
        "tokens": ["t" * 40], "batch_token": "b" * 40}


class WebHost:
    """The first web host's `ssas-manage ssas_verify ...`, recorded."""

    def __init__(self, monkeypatch, refuse: str = ""):
        self.calls: list[tuple] = []
        self.refuse = refuse
        monkeypatch.setattr(verify_run, "manage", self.manage)

    def manage(self, host, *args, timeout=0, stdin=None):
        self.calls.append(args[:2])
        if self.refuse and args[1] == "setup":
            raise RemoteError(f"{host.name}: `ssas-env ssas-manage ssas_verify setup` exited 2: "
                              f"{self.refuse}")
        return "some log line\n" + json.dumps(MADE if args[1] == "setup" else {}) + "\n"


def verify(inventory, *args):
    result = runner.invoke(app, ["verify", "--profile", "small", "--inventory", str(inventory),
                                 "--duration", "5s", "--json", *args])
    # Every way out is a documented exit code, never an exception the user would see.
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output + result.stderr


def test_untrained_models_are_the_apps_refusal_exit_2(monkeypatch, inventory):
    host = WebHost(monkeypatch, refuse="the ML models are not trained yet")
    code, output = verify(inventory)
    assert code == 2 and "not trained yet" in output
    # remove is safe to repeat: it runs after any setup, refused or not.
    assert host.calls == [("ssas_verify", "setup"), ("ssas_verify", "remove")]


@pytest.mark.parametrize("failure, exit_code, message", [
    (verify_run.VerifyFailed("locust exited 2: boom"), 1, "verify could not measure"),
    (KeyboardInterrupt(), 130, "its school and users were removed"),
])
def test_the_run_is_removed_when_the_load_fails_or_is_interrupted(monkeypatch, inventory,
                                                                  failure, exit_code, message):
    host = WebHost(monkeypatch)
    monkeypatch.setattr(verify_run, "_run_batch", lambda *args: None)

    def load(*args):
        raise failure

    monkeypatch.setattr(verify_run, "_run_locust", load)
    code, output = verify(inventory)
    assert code == exit_code and message in output
    assert host.calls == [("ssas_verify", "setup"), ("ssas_verify", "remove")]
    assert "t" * 40 not in output and "b" * 40 not in output


def test_the_users_default_to_the_profiles_concurrent_users(monkeypatch, inventory):
    seen = {}
    monkeypatch.setattr("ssas_deploy.verify.run.run_verify",
                        lambda deployment, users, seconds, students, tick:
                        seen.update(users=users, seconds=seconds) or [])
    code, _ = verify(inventory)
    assert code == 0 and seen == {"users": 80, "seconds": 5}  # small: targets.concurrent_users


def test_setup_that_fails_half_way_is_still_removed_and_a_failed_removal_names_the_command(
        monkeypatch, inventory):
    calls = []

    def manage(host, *args, timeout=0, stdin=None):
        calls.append(args[1])
        raise RemoteError(f"{host.name}: connection lost")

    monkeypatch.setattr(verify_run, "manage", manage)
    code, output = verify(inventory)
    assert code == 1 and calls == ["setup", "remove"]
    assert "ssas-manage ssas_verify remove" in output and "(on web-1)" in output


def test_locust_output_that_cannot_be_read_is_a_failure_not_a_traceback(monkeypatch, inventory):
    WebHost(monkeypatch)
    monkeypatch.setattr(verify_run, "_run_batch", lambda *args: None)
    monkeypatch.setattr(verify_run, "_run_locust", lambda *args: "Type,Name\n")
    code, output = verify(inventory)
    assert code == 1 and "verify could not measure" in output
