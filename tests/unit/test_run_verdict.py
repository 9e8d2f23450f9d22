"""When does an apply count as a success? `runner.verdict.judge_run`."""

from pathlib import Path

from ssas_deploy.runner.events import EventFollower, RunState
from ssas_deploy.runner.verdict import judge_run

LOG = Path("/var/log/example/last-apply.log")


def stats(host: str, **counts) -> dict:
    return {"event": "stats", "host": host, "ok": 3, "changed": 1, "unreachable": 0,
            "failures": 0, "skipped": 0, "rescued": 0, "ignored": 0, **counts}


def state_of(*events: dict) -> RunState:
    state = RunState()
    for event in events:
        state.apply(event)
    return state


def complete_run(*hosts: str) -> list[dict]:
    events: list[dict] = [{"event": "play", "name": "Base system on every host"}]
    for host in hosts:
        events += [{"event": "start", "host": host, "task": "Install packages"},
                   {"event": "ok", "host": host, "task": "Install packages", "changed": True}]
    events += [stats(host) for host in hosts]
    return [*events, {"event": "end", "hosts": len(hosts)}]


def test_a_complete_clean_run_is_ok():
    verdict = judge_run(0, state_of(*complete_run("web-1", "db-1")), ["web-1", "db-1"], LOG)
    assert verdict.ok
    assert verdict.problems == ()


def test_without_the_end_event_the_run_is_not_proven():
    events = complete_run("web-1")[:-1]  # stats arrived, but the run never said it ended
    verdict = judge_run(-9, state_of(*events), ["web-1"], LOG)
    assert not verdict.ok
    assert verdict.problems[0] == (
        "ansible-playbook ended (killed by signal 9, SIGKILL) without its final stats: the run "
        f"cannot be proven to have succeeded; log: {LOG}")


def test_exit_0_without_the_end_event_is_not_a_success_either():
    verdict = judge_run(0, state_of({"event": "start", "host": "web-1", "task": "x"}),
                        ["web-1"], LOG)
    assert not verdict.ok
    assert "ended (exit code 0) without its final stats" in verdict.problems[0]


def test_a_host_that_took_part_without_stats_fails_the_run():
    events = [{"event": "start", "host": "web-2", "task": "Install packages"},
              *complete_run("web-1")]
    verdict = judge_run(0, state_of(*events), [], LOG)  # --limit: nothing expected beyond
    assert verdict.problems == (
        "web-2: no final stats (it took part in the run): this host cannot be proven to be "
        "deployed",)


def test_an_inventory_host_that_never_ran_fails_the_run_without_limit():
    verdict = judge_run(0, state_of(*complete_run("web-1")), ["web-1", "db-1"], LOG)
    assert verdict.problems == (
        "db-1: no final stats (it never ran): this host cannot be proven to be deployed",)
    assert judge_run(0, state_of(*complete_run("web-1")), [], LOG).ok  # with --limit web-1


def test_a_failed_host_names_its_task():
    events = [{"event": "start", "host": "db-1", "task": "Start PostgreSQL"},
              {"event": "failed", "host": "db-1", "task": "Start PostgreSQL",
               "message": "Job for postgresql.service failed", "ignored": False},
              stats("db-1", failures=1), {"event": "end", "hosts": 1}]
    verdict = judge_run(2, state_of(*events), ["db-1"], LOG)
    assert verdict.problems == (
        "db-1: task 'Start PostgreSQL' failed: Job for postgresql.service failed",)


def test_failures_and_unreachable_in_the_stats_alone_fail_the_run():
    events = [*complete_run("web-1")[:-1], stats("db-1", unreachable=1),
              stats("lb-1", failures=2), {"event": "end", "hosts": 3}]
    verdict = judge_run(0, state_of(*events), [], LOG)
    assert verdict.problems == ("db-1: unreachable (1 time(s)), see the recap",
                                "lb-1: 2 task(s) failed, see the recap")


def test_ignored_and_rescued_failures_do_not_count():
    events = [{"event": "failed", "host": "web-1", "task": "Probe", "ignored": True,
               "message": "no"},
              {"event": "failed", "host": "web-1", "task": "Try", "ignored": False,
               "message": "rescued below"},
              *complete_run("web-1")]
    assert judge_run(0, state_of(*events), ["web-1"], LOG).ok


def test_a_nonzero_exit_fails_even_with_clean_stats():
    verdict = judge_run(4, state_of(*complete_run("web-1")), ["web-1"], LOG)
    assert verdict.problems == (
        f"ansible-playbook ended (exit code 4) although every host reported success; log: {LOG}",)


def test_event_follower_skips_a_line_cut_short(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "play", "name": "p"}\n{"event": "sta\n{"event": "end"}\n{"ev')
    follower = EventFollower(path)
    assert [e["event"] for e in follower.read_new()] == ["play", "end"]
    assert follower.malformed == 1
