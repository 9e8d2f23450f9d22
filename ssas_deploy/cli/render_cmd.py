"""`ssas-deploy render`: every config file of every host, written to a directory."""

import json
from pathlib import Path
from typing import Annotated

import typer

from ssas_deploy.cli.options import InventoryOption, ProfileOption, load_deployment
from ssas_deploy.console import print_raw, reporting


def render(
    profile: ProfileOption,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")],
    inventory: InventoryOption = None,
) -> None:
    """Write DIR/<host>/<path on host> for every file, plus DIR/manifest.json.

    Secrets are masked: the real values are only ever written on the hosts. Files of the
    whole deployment that no host gets yet (the Prometheus alert rules) go to
    DIR/_deployment/.
    """
    from ssas_deploy import monitoring
    from ssas_deploy.rendering import manifest, render_deployment, write_tree

    with reporting():
        deployment = load_deployment(profile, inventory)
        files = render_deployment(deployment)
        rules_text = monitoring.render_alert_rules(deployment)
        deployment_files = [{"path": monitoring.RENDER_PATH, "template": monitoring.TEMPLATE,
                             "installed_by": None, "install_path": monitoring.INSTALL_PATH}]
        manifest_text = json.dumps({"profile": deployment.profile.name,
                                    "files": manifest(files),
                                    "deployment_files": deployment_files}, indent=2) + "\n"

        def write(staging: Path) -> None:
            write_tree(files, staging)
            rules = staging / monitoring.RENDER_PATH
            rules.parent.mkdir(parents=True, exist_ok=True)
            rules.write_text(rules_text, encoding="utf-8")
            (staging / "manifest.json").write_text(manifest_text, encoding="utf-8")

        replace_render(out_dir, write)
        hosts = len(deployment.host_vars)
        print_raw(f"Rendered {len(files)} files for {hosts} host(s) into {out_dir}")


def replace_render(out_dir: Path, write) -> None:
    """Run `write(staging)` on a new directory beside `out_dir`, then put it in `out_dir`'s
    place: a render never mixes with an earlier one's files (a host or file the profile no
    longer has), and a failed write leaves `out_dir` as it was. `out_dir` must be new,
    empty, or an earlier render (it has manifest.json). Raises InvalidInputError naming
    --out otherwise, or when the directory cannot be written."""
    import shutil
    import tempfile

    from ssas_deploy.errors import InvalidInputError, Problem

    def refuse(message: str) -> InvalidInputError:
        return InvalidInputError([Problem(out_dir, None, "--out", message)])

    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir():
            raise refuse("is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / "manifest.json").is_file():
            raise refuse("is neither empty nor an earlier render (no manifest.json): "
                         "choose a new or empty directory")
    staging = old = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        write(staging)
        staging.chmod(0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            out_dir.rename(old / "render")
        staging.rename(out_dir)
        staging = None
    except OSError as exc:
        raise refuse(f"cannot write there: {exc.strerror or exc}") from None
    finally:
        for leftover in (staging, old):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)


def hostvars(
    profile: ProfileOption,
    host: Annotated[str, typer.Option("--host", help="Host name (e.g. web-1).")],
    inventory: InventoryOption = None,
) -> None:
    """Print one host's template variables as JSON (what the Ansible roles receive)."""
    with reporting():
        deployment = load_deployment(profile, inventory, warn=False)
        if host not in deployment.host_vars:
            from ssas_deploy.errors import InvalidInputError, Problem

            known = ", ".join(deployment.host_vars)
            raise InvalidInputError([Problem(None, None, "--host", f"no host '{host}'; "
                                                                 f"hosts: {known}")])
        print_raw(json.dumps(deployment.host_vars[host], indent=2))
