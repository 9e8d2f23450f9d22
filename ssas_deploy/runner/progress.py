"""Rich views of a run: the live per-host table and the final recap."""

from rich.table import Table

from ssas_deploy.runner.events import RunState


def progress_table(state: RunState) -> Table:
    table = Table("host", "ok", "changed", "failed", "current task",
                  title=f"Applying: {state.play}" if state.play else "Applying")
    for name, progress in sorted(state.hosts.items()):
        status = "done" if progress.done else progress.task
        if progress.unreachable:
            status = "UNREACHABLE"
        table.add_row(name, str(progress.ok), str(progress.changed), str(progress.failed),
                      status)
    return table


def recap_table(state: RunState) -> Table:
    table = Table("host", "ok", "changed", "unreachable", "failed", "skipped", "rescued",
                  title="Recap")
    for host, stats in sorted(state.recap.items()):
        table.add_row(host, *(str(stats.get(k, 0)) for k in
                              ("ok", "changed", "unreachable", "failures", "skipped", "rescued")))
    return table
