import pytest


@pytest.fixture(autouse=True)
def no_password_in_environment(monkeypatch):
    """A vault password in the runner's environment would hide the prompts and errors the
    tests expect; each test sets its own."""
    monkeypatch.delenv("SSAS_VAULT_PASSWORD", raising=False)
    monkeypatch.delenv("SSAS_VAULT_PASSWORD_FILE", raising=False)


@pytest.fixture
def inventory(tmp_path):
    """One web host and a backup host (TEST-NET addresses: nothing answers there)."""
    path = tmp_path / "hosts.yaml"
    path.write_text("ssh: {user: root}\nhosts:\n  web:\n    - {name: web-1, address: 192.0.2.10}\n"
                    "  backup:\n    - {name: nas-1, address: 192.0.2.11}\n")
    return path
