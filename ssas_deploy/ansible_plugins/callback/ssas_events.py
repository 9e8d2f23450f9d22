"""Ansible callback plugin: one JSON line per event, for ssas-deploy's live progress view.

Enabled by the runner (ANSIBLE_CALLBACKS_ENABLED=ssas_events) with SSAS_EVENTS_FILE naming the
file to append to. Results of `no_log` tasks arrive censored, so no secret reaches the file.

The last line of a complete run is `{"event": "end", ...}`, written after every host's `stats`
line: a file without it comes from a run that did not finish (killed, crashed, interrupted), so
its results cannot be trusted.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: ssas_events
type: notification
short_description: JSON-lines task events for ssas-deploy
description: >-
  Writes play, task, result and recap events to the file in SSAS_EVENTS_FILE, then a final
  end event once every host's stats are written.
requirements: [SSAS_EVENTS_FILE set in the environment]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "ssas_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get("SSAS_EVENTS_FILE")
        self._out = open(path, "a", buffering=1, encoding="utf-8") if path else None  # noqa: SIM115

    def _emit(self, event: str, **fields) -> None:
        if self._out:
            self._out.write(json.dumps({"event": event, "time": time.time(), **fields}) + "\n")

    def _result(self, event: str, result, **fields) -> None:
        self._emit(event, host=result._host.get_name(), task=result._task.get_name(),
                   action=result._task.action, **fields)

    def v2_playbook_on_play_start(self, play):
        self._emit("play", name=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task", name=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task", name=task.get_name(), handler=True)

    def v2_runner_on_start(self, host, task):
        self._emit("start", host=host.get_name(), task=task.get_name())

    def v2_runner_on_ok(self, result):
        self._result("ok", result, changed=bool(result._result.get("changed", False)))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed", result, ignored=bool(ignore_errors),
                     message=_message(result._result))

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result, message=_message(result._result))

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_playbook_on_stats(self, stats):
        for host in sorted(stats.processed):
            self._emit("stats", host=host, **stats.summarize(host))
        self._emit("end", hosts=len(stats.processed))
        if self._out:
            self._out.close()
            self._out = None


def _message(result: dict) -> str:
    if result.get("censored"):
        return str(result["censored"])
    parts = [str(result.get("msg") or "")]
    for key in ("stderr", "module_stderr"):
        if result.get(key):
            parts.append(str(result[key])[-600:])
    return "\n".join(p for p in parts if p).strip()
