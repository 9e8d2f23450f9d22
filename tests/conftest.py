import os
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
