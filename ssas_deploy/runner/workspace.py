"""A private run directory: Ansible inventory with the context as host vars, secrets, logs."""

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.context.build import Deployment
from ssas_deploy.profiles.models import Role
from ssas_deploy.resources import data_dir


@dataclass(frozen=True)
class Workspace:
    root: Path
    inventory: Path
    secrets_vars: Path
    events: Path
    log: Path


def create_workspace(deployment: Deployment, secrets: dict[str, str],
                     extra_host_vars: dict | None = None,
                     migrate_on: str | None = None) -> Workspace:
    """Everything ansible-playbook needs, in a 0700 directory (it holds the secrets file)."""
    root = Path(tempfile.mkdtemp(prefix="ssas-run-"))
    os.chmod(root, 0o700)
    inventory = root / "inventory.json"
    document = ansible_inventory(deployment, extra_host_vars or {}, migrate_on)
    inventory.write_text(json.dumps(document, indent=1), encoding="utf-8")
    secrets_vars = root / "secrets.json"
    fd = os.open(secrets_vars, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"ssas_secrets": secrets}, handle)
    return Workspace(root, inventory, secrets_vars, root / "events.jsonl", root / "ansible.log")


def ansible_inventory(deployment: Deployment, extra_host_vars: dict,
                      migrate_on: str | None = None) -> dict:
    """YAML/JSON inventory: one group per role; each host's vars are its context dict."""
    hosts = {}
    for host in deployment.topology.hosts:
        ssh = host.ssh
        connection = {
            "ansible_host": host.address,
            "ansible_user": ssh.user,
            "ansible_port": ssh.port,
        }
        if ssh.key_file:
            connection["ansible_ssh_private_key_file"] = str(Path(ssh.key_file).expanduser())
        hosts[host.name] = {**deployment.host_vars[host.name], **connection, **extra_host_vars,
                            "ssas_app_run_migrations": host.name == migrate_on}
    groups = {
        role.value: {"hosts": {h.name: {} for h in deployment.topology.with_role(role)}}
        for role in Role
    }
    return {"all": {"hosts": hosts, "children": groups}}


def ansible_environment(workspace: Workspace, known_hosts: Path) -> dict[str, str]:
    """Roles, project filters and our event callback; SSH multiplexing for fast re-applies.

    Host keys are trusted on first use and pinned in `known_hosts` beside the inventory, so a
    host whose key later changes is refused rather than silently accepted.
    """
    package_dir = Path(__file__).resolve().parents[1]
    control_dir = workspace.root / "cp"
    control_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "ANSIBLE_ROLES_PATH": str(data_dir("roles")),
        "ANSIBLE_FILTER_PLUGINS": str(data_dir("filter_plugins")),
        "ANSIBLE_CALLBACK_PLUGINS": str(package_dir / "ansible_plugins" / "callback"),
        "ANSIBLE_CALLBACKS_ENABLED": "ssas_events",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_LOG_PATH": str(workspace.log),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_PIPELINING": "True",
        # Facts once per host per run, not once per play (six plays in site.yml).
        "ANSIBLE_GATHERING": "smart",
        "ANSIBLE_SSH_ARGS": (
            "-o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=accept-new "
            f"-o UserKnownHostsFile={known_hosts}"
        ),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_FORCE_COLOR": "False",
        "ANSIBLE_INTERPRETER_PYTHON": "auto_silent",
        "ANSIBLE_FORKS": "10",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(package_dir.parent), os.environ.get("PYTHONPATH", "")) if p
        ),
        "SSAS_EVENTS_FILE": str(workspace.events),
    }
