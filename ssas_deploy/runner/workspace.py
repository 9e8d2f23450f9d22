"""A private run directory: Ansible inventory with the context as host vars, secrets, logs.

The secrets never reach the control node's disk in clear text: the vars file that carries them
is ansible-vault encrypted with a one-time random password, which ansible-playbook gets from
`ssas_deploy/ansible_plugins/vault_run_password.sh` reading SSAS_RUN_VAULT_PASSWORD, set only
in ansible-playbook's environment. The caller removes the whole directory when the run ends
(`runner.apply.run_with_secrets` does, on every exit path).
"""

import json
import os
import secrets as random_secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ssas_deploy.context.build import Deployment
from ssas_deploy.profiles.models import Role
from ssas_deploy.resources import data_dir
from ssas_deploy.secrets.names import split_host_vars

RUN_VAULT_ID = "ssas-run"
# A Unix socket path stops at 108 bytes; OpenSSH adds "/" + a 10-char %C hash (Ansible's
# ControlPath) + ".XXXXXXXXXXXXXXXX" while it binds, so the directory may be at most 79.
MAX_CONTROL_DIR_LENGTH = 108 - 1 - 1 - 10 - 17
SHORT_TEMP_BASE = "/tmp"
RUN_VAULT_PASSWORD_ENV = "SSAS_RUN_VAULT_PASSWORD"
EVENTS_CALLBACK = "ssas_events"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
VAULT_PASSWORD_SCRIPT = _PACKAGE_DIR / "ansible_plugins" / "vault_run_password.sh"


@dataclass(frozen=True)
class Workspace:
    """The files of one run, all inside `root` (mode 0700).

    `secrets_vars` is vault-encrypted with `vault_password` (vault id `RUN_VAULT_ID`); `hosts`
    are the inventory's host names, in inventory order.
    """

    root: Path
    inventory: Path
    secrets_vars: Path
    events: Path
    log: Path
    vault_password: str = field(repr=False)
    hosts: tuple[str, ...] = ()
    control_dir: Path | None = None

    @property
    def ssh_control_dir(self) -> Path:
        """Where SSH ControlPersist sockets live: `root/cp`, or a short dir beside /tmp."""
        return self.control_dir or self.root / "cp"

    @property
    def output(self) -> Path:
        """ansible-playbook's stdout and stderr."""
        return self.log.with_suffix(".out")


def create_workspace(deployment: Deployment, secrets: dict[str, str],
                     extra_host_vars: dict | None = None,
                     migrate_on: str | None = None) -> Workspace:
    """The run directory for `deployment`: see `create_workspace_for_inventory`."""
    document = ansible_inventory(deployment, extra_host_vars or {}, migrate_on)
    return create_workspace_for_inventory(document, secrets)


def create_workspace_for_inventory(document: dict, secrets: dict[str, str]) -> Workspace:
    """Everything ansible-playbook needs, in a new 0700 directory under the temp dir.

    `document` is an Ansible inventory as a dict (`{"all": {"hosts": {...}, "children":
    {...}}}`); `secrets` become the `ssas_secrets` variable, written vault-encrypted. The caller
    owns the directory and must remove it (`shutil.rmtree(workspace.root)`); if writing fails
    it is removed here and the error (OSError, or OperationFailedError when ansible-core is
    missing) propagates.
    """
    root = Path(tempfile.mkdtemp(prefix="ssas-run-"))
    try:
        os.chmod(root, 0o700)
        inventory = root / "inventory.json"
        inventory.write_text(json.dumps(document, indent=1), encoding="utf-8")
        password = random_secrets.token_urlsafe(32)
        secrets_vars = root / "secrets.vault.yml"
        fd = os.open(secrets_vars, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(encrypt_vars(split_host_vars(secrets), password))
        return Workspace(root, inventory, secrets_vars, root / "events.jsonl",
                         root / "ansible.log", password, inventory_hosts(document),
                         _control_dir(root))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def remove_workspace(workspace: Workspace) -> None:
    """Remove the run dir and, when it lives elsewhere, the SSH control-socket dir."""
    shutil.rmtree(workspace.root, ignore_errors=True)
    if workspace.control_dir is not None:
        shutil.rmtree(workspace.control_dir, ignore_errors=True)


def _control_dir(root: Path) -> Path | None:
    """None (sockets in `root/cp`) unless that path is too long for a Unix socket; then a
    new 0700 dir under /tmp, which the caller removes with the workspace."""
    if len(str(root / "cp")) <= MAX_CONTROL_DIR_LENGTH:
        return None
    return Path(tempfile.mkdtemp(prefix="ssas-cp-", dir=SHORT_TEMP_BASE))


def encrypt_vars(variables: dict, password: str) -> bytes:
    """`variables` as an Ansible vars file encrypted with ansible-vault (vault id `ssas-run`).

    Returns the file's bytes, starting with `$ANSIBLE_VAULT;1.2;AES256;ssas-run`.
    """
    from ssas_deploy.secrets.password import ansible_vault

    vault = ansible_vault()
    secret = vault.VaultSecret(password.encode("utf-8"))
    plaintext = json.dumps(variables).encode("utf-8")
    return vault.VaultLib([(RUN_VAULT_ID, secret)]).encrypt(plaintext, secret,
                                                            vault_id=RUN_VAULT_ID)


def inventory_hosts(document: dict) -> tuple[str, ...]:
    """Every host name of an inventory dict, from `hosts` at any depth of `children`."""
    names: dict[str, None] = {}

    def walk(group: dict) -> None:
        names.update(dict.fromkeys(group.get("hosts") or {}))
        for child in (group.get("children") or {}).values():
            walk(child or {})

    for group in document.values():
        walk(group or {})
    return tuple(names)


def ansible_inventory(deployment: Deployment, extra_host_vars: dict,
                      migrate_on: str | None = None,
                      per_host: dict[str, dict] | None = None) -> dict:
    """YAML/JSON inventory: one group per role; each host's vars are its context dict, plus
    `extra_host_vars` (every host) and `per_host[name]` (that host only)."""
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
                            **(per_host or {}).get(host.name, {}),
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
    package_dir = _PACKAGE_DIR
    control_dir = workspace.ssh_control_dir
    control_dir.mkdir(mode=0o700, exist_ok=True)
    local_temp = workspace.root / "tmp"
    local_temp.mkdir(exist_ok=True)
    return {
        **os.environ,
        "ANSIBLE_ROLES_PATH": str(data_dir("roles")),
        "ANSIBLE_FILTER_PLUGINS": str(data_dir("filter_plugins")),
        "ANSIBLE_CALLBACK_PLUGINS": _path_list(str(package_dir / "ansible_plugins" / "callback"),
                                               os.environ.get("ANSIBLE_CALLBACK_PLUGINS", "")),
        "ANSIBLE_CALLBACKS_ENABLED": enabled_callbacks(configured_callbacks()),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_LOG_PATH": str(workspace.log),
        # Module payloads (which can carry secrets) go inside the run dir, removed after the run.
        "ANSIBLE_LOCAL_TEMP": str(local_temp),
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
        **mitogen_strategy(),
        "PYTHONPATH": _path_list(str(package_dir.parent), os.environ.get("PYTHONPATH", "")),
        "SSAS_EVENTS_FILE": str(workspace.events),
        RUN_VAULT_PASSWORD_ENV: workspace.vault_password,
    }


def mitogen_strategy() -> dict[str, str]:
    """Ansible's strategy plugin from Mitogen (`mitogen_linear`), unless the user chose one.

    Mitogen keeps one Python interpreter per host for the whole run instead of starting one
    per task: a no-op apply of the small tier went from 118-122 s to 42-45 s on this project's
    2-core machine (the same 246 tasks, 0 changed). ANSIBLE_STRATEGY set by the user (e.g.
    `linear`, Ansible's own) is kept; without the mitogen package nothing is set.
    """
    if os.environ.get("ANSIBLE_STRATEGY"):
        return {}
    try:
        import ansible_mitogen
    except ImportError:
        return {}
    plugins = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": _path_list(str(plugins),
                                                   os.environ.get("ANSIBLE_STRATEGY_PLUGINS", "")),
            "ANSIBLE_STRATEGY": "mitogen_linear"}


def configured_callbacks() -> str:
    """The callbacks the user enabled, comma-separated: ANSIBLE_CALLBACKS_ENABLED, else
    `callbacks_enabled` of the ansible.cfg ansible-playbook would read (ANSIBLE_CONFIG,
    ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg). Setting the variable for the
    run hides that file's value from Ansible, so it is carried over here (e.g.
    ansible.posix.profile_tasks). "" when neither names any or Ansible cannot read its
    configuration (ansible-playbook then reports that itself)."""
    if "ANSIBLE_CALLBACKS_ENABLED" in os.environ:
        return os.environ["ANSIBLE_CALLBACKS_ENABLED"]
    try:
        from ansible.config.manager import ConfigManager

        names = ConfigManager().get_config_value("CALLBACKS_ENABLED") or []
    except Exception:  # a broken config is ansible-playbook's to report
        return ""
    return ",".join(str(n) for n in names)


def enabled_callbacks(configured: str) -> str:
    """The user's ANSIBLE_CALLBACKS_ENABLED (comma-separated) with ssas_events appended."""
    names = [n.strip() for n in configured.split(",") if n.strip()]
    return ",".join(names if EVENTS_CALLBACK in names else [*names, EVENTS_CALLBACK])


def _path_list(first: str, rest: str) -> str:
    return os.pathsep.join(p for p in (first, rest) if p)
