"""Every systemd unit and drop-in the project writes is sandboxed: `systemd-analyze security`
scores it at most 2.5 ("OK"), offline, on the rendered files of every built-in tier.

Our own units are scored as rendered; a drop-in is scored with the Debian 12 unit it extends
(tests/unit/debian12_units/, as the packages ship them).
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment
from ssas_deploy.systemd_sandboxing import sandboxing

TIERS = ["small", "medium", "large", "very-large"]
LIMIT = 2.5
DEBIAN_UNITS = Path(__file__).parent / "debian12_units"
UNIT_DIR = "/etc/systemd/system/"
SCORE = re.compile(r"Overall exposure level for (?P<unit>\S+): (?P<score>\d+\.\d)")


def _host_roots(tmp_path: Path, tier: str) -> dict[str, tuple[Path, set[str]]]:
    """Per host: a root directory holding its rendered units and drop-ins beside the Debian
    units, and the names of the services to score."""
    roots: dict[str, tuple[Path, set[str]]] = {}
    for item in render_deployment(build(load_profile(tier))):
        dest = item.spec.dest
        if not dest.startswith(UNIT_DIR) or not dest.endswith((".service", ".conf")):
            continue
        root, units = roots.setdefault(item.host, (tmp_path / tier / item.host, set()))
        if not root.exists():
            shutil.copytree(DEBIAN_UNITS, root / "lib/systemd/system",
                            ignore=shutil.ignore_patterns("*.md"))
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.content)
        relative = dest[len(UNIT_DIR):]
        units.add(relative.split(".d/")[0] if ".d/" in relative else relative)
    return roots


def _score(root: Path, unit: str) -> float:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", f"--root={root}", "--no-pager", unit],
        capture_output=True, text=True, check=False, timeout=60)
    match = SCORE.search(result.stdout)
    assert match, f"systemd-analyze gave no score for {unit}:\n{result.stdout}{result.stderr}"
    return float(match["score"])


@pytest.mark.parametrize("tier", TIERS)
def test_every_unit_scores_at_most_2_5(tmp_path, tier):
    roots = _host_roots(tmp_path, tier)
    scored = {}
    for host, (root, units) in roots.items():
        for unit in sorted(units):
            scored[f"{host}:{unit}"] = _score(root, unit)
    exposed = {name: score for name, score in scored.items() if score > LIMIT}
    assert not exposed, f"units scoring above {LIMIT}: {exposed}"
    # The tier's services were all found: the test cannot pass by scoring nothing.
    names = {name.split(":")[1] for name in scored}
    assert "nginx.service" in names and "ssas-gunicorn.service" in names, names
    assert any(n.startswith("postgresql@") for n in names), names


def test_the_debian_units_alone_score_worse_than_the_limit(tmp_path):
    """The drop-ins are what brings the distribution's units under the limit."""
    root = tmp_path / "plain"
    shutil.copytree(DEBIAN_UNITS, root / "lib/systemd/system",
                    ignore=shutil.ignore_patterns("*.md"))
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in ("nginx.service", "pgbouncer.service", "postgresql@15-main.service"):
        assert _score(root, unit) > LIMIT, unit


def test_sandboxing_refuses_unknown_options():
    with pytest.raises(ValueError, match="unknown sandboxing option"):
        sandboxing({"read_write_path": ["/var/lib/ssas"]})
    with pytest.raises(ValueError, match="home must be yes"):
        sandboxing({"home": "no"})


def test_a_root_service_keeps_only_the_capabilities_it_names():
    lines = sandboxing({"capabilities": ["CAP_DAC_READ_SEARCH"]}).splitlines()
    assert "CapabilityBoundingSet=CAP_DAC_READ_SEARCH" in lines
    assert "AmbientCapabilities=" in lines
    assert "CapabilityBoundingSet=" in sandboxing().splitlines()
