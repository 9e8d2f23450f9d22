"""sandbox down --purge deletes what up and apply wrote for a sandbox, and nothing else."""

from ssas_deploy.sandbox.core import INVENTORY, purge_directory, written_for

KEPT_BY_RESTORE = (f"{INVENTORY}.before-restore", f"{INVENTORY}.before-restore-20261207093000")


def _populate(directory):
    (directory / "handover").mkdir()
    for name in KEPT_BY_RESTORE:
        (directory / name).write_text("x")
    written = written_for(directory / INVENTORY)
    for path in written:
        path.write_text("x")
    return written


def test_purge_removes_every_file_up_and_apply_write_and_then_the_directory(tmp_path):
    directory = tmp_path / "sb"
    directory.mkdir()
    written = _populate(directory)
    names = {p.name for p in written}
    assert {"hosts.secrets.vault.yml", "hosts.known_hosts", "hosts.last-apply.log",
            "hosts.last-apply.json", "hosts.last-restore.json", "id_ed25519", "hosts.yaml",
            "handover.md", "handover.html", ".hosts.yaml.to-host", *KEPT_BY_RESTORE} <= names
    purge_directory(directory)
    assert not directory.exists()


def test_purge_keeps_the_users_files_and_so_their_folders(tmp_path):
    directory = tmp_path / "sb"
    directory.mkdir()
    _populate(directory)
    (directory / "notes.txt").write_text("mine")
    (directory / f"{INVENTORY}.before-restore-my-notes").write_text("mine")
    (directory / "handover" / "signed-by-principal.pdf").write_text("mine")
    purge_directory(directory)
    assert sorted(str(p.relative_to(directory)) for p in directory.rglob("*")) == [
        "handover", "handover/signed-by-principal.pdf", "hosts.yaml.before-restore-my-notes",
        "notes.txt"]


def test_a_linked_handover_folder_is_not_emptied(tmp_path):
    elsewhere = tmp_path / "reports"
    elsewhere.mkdir()
    (elsewhere / "handover.md").write_text("the user's copy")
    directory = tmp_path / "sb"
    directory.mkdir()
    (directory / "handover").symlink_to(elsewhere)
    (directory / INVENTORY).write_text("x")
    purge_directory(directory)
    assert (elsewhere / "handover.md").read_text() == "the user's copy"
