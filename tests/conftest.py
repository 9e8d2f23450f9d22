import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("SSAS_DEPLOY_WIDTH", "200")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def write_profile(tmp_path):
    """Write a profile YAML into a temp dir and return its path."""

    def _write(text: str, name: str = "custom.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def inventory(tmp_path):
    """An inventory file with no hosts (for commands that only keep files beside it); test
    modules that need hosts define their own."""
    path = tmp_path / "hosts.yaml"
    path.write_text("# inventory\n", encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
