"""Render every file of every host from templates/, exactly as Ansible's template module would."""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ssas_deploy.context.build import Deployment
from ssas_deploy.errors import OperationFailedError
from ssas_deploy.files import ManagedFile, files_for_host
from ssas_deploy.jinja_filters import FILTERS
from ssas_deploy.resources import data_dir
from ssas_deploy.secrets.names import SSAS_SECRETS_NAMES

MASK = "********"
# The keys of `ssas_secrets` the templates read: secrets.names is the one list.
SECRET_NAMES = SSAS_SECRETS_NAMES


@dataclass(frozen=True)
class RenderedFile:
    host: str
    spec: ManagedFile
    content: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (keyed by each template's source checksum)."""
    directory = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ssas-deploy"
    try:
        (directory / "jinja").mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(directory / "jinja"))


def environment() -> jinja2.Environment:
    """Ansible's template module settings: trim_blocks, keep newline, strict undefined."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(FILTERS)
    return env


def masked_secrets() -> dict[str, str]:
    return dict.fromkeys(SECRET_NAMES, MASK)


def render_deployment(
    deployment: Deployment, secrets: dict[str, str] | None = None
) -> list[RenderedFile]:
    env = environment()
    secret_values = secrets or masked_secrets()
    rendered = []
    for host, host_vars in deployment.host_vars.items():
        for spec in files_for_host(host_vars):
            variables = {**host_vars, **spec.extra_vars, "ssas_secrets": secret_values}
            try:
                content = env.get_template(spec.template).render(variables)
            except jinja2.UndefinedError as exc:
                raise OperationFailedError(
                    f"template {spec.template} for {host}: missing configuration value: {exc}"
                ) from None
            rendered.append(RenderedFile(host, spec, content))
    return rendered


def write_tree(files: list[RenderedFile], out: Path) -> None:
    """DIR/<host>/<absolute path on that host>, with the modes the host will have."""
    made: set[Path] = set()  # directories made (or found) already: one mkdir each
    for item in files:
        target = out / item.host / item.spec.dest.lstrip("/")
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_text(item.content, encoding="utf-8")
        target.chmod(int(item.spec.mode, 8))


def manifest(files: list[RenderedFile]) -> list[dict]:
    return [
        {
            "host": item.host,
            "path": item.spec.dest,
            "template": item.spec.template,
            "owner": item.spec.owner,
            "group": item.spec.group,
            "mode": item.spec.mode,
            "sha256": item.sha256,
            "service": item.spec.service,
            "on_change": item.spec.action,
            "secret": item.spec.secret,
        }
        for item in files
    ]
