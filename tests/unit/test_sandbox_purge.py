"""sandbox down --purge deletes what up and apply wrote for a sandbox, and nothing else."""

from ssas_deploy.sandbox.core import INVENTORY, purge_directory, written_for


def _populate(directory):
    inventory = directory / INVENTORY
    written = [*written_for(inventory), directory / f"{INVENTORY}.before-restore-20261207"]
    for path in written:
        if path.name == "handover":
            path.mkdir()
            (path / "index.html").write_text("<p>handover</p>")
        else:
            path.write_text("x")
    return written


def test_purge_removes_every_file_up_and_apply_write_and_then_the_directory(tmp_path):
    directory = tmp_path / "sb"
    directory.mkdir()
    written = _populate(directory)
    names = {p.name for p in written}
    assert {"hosts.secrets.vault.yml", "hosts.known_hosts", "hosts.last-apply.log",
            "hosts.last-apply.json", "id_ed25519", "hosts.yaml", "handover"} <= names
    purge_directory(directory)
    assert not directory.exists()


def test_purge_keeps_a_file_of_the_users_and_so_the_directory(tmp_path):
    directory = tmp_path / "sb"
    directory.mkdir()
    _populate(directory)
    (directory / "notes.txt").write_text("mine")
    purge_directory(directory)
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]
