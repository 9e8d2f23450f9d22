import pytest


@pytest.fixture(autouse=True)
def no_password_in_environment(monkeypatch):
    """A vault password in the runner's environment would hide the prompts and errors the
    tests expect; each test sets its own."""
    monkeypatch.delenv("SSAS_VAULT_PASSWORD", raising=False)
    monkeypatch.delenv("SSAS_VAULT_PASSWORD_FILE", raising=False)
