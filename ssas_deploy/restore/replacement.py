"""`restore --to-host`: a database host replaced by a new machine, then restored onto it.

`NAME` names a database host of the inventory (its entry already gives the new machine's
address) or `NAME=ADDRESS` (the inventory's entry is rewritten to ADDRESS, the old file
kept beside it). The new machine is provisioned by a first, limited run of the site
playbook (the replacement and the backup host, `backup_replacing_database`), pgBackRest
restores the cluster onto it, and a full apply then points every other host at it.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.errors import InvalidInputError, Problem
from ssas_deploy.profiles.yaml_source import load_yaml_mapping
from ssas_deploy.restore.plan import RestoreRefused

_ADDRESS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]*$")
# Where the inventory as it was before a rewrite is kept (beside it).
BEFORE_SUFFIX = ".before-restore"


@dataclass(frozen=True)
class Replacement:
    """One database host to replace: its inventory name and, when given, its new address."""

    name: str
    address: str | None


def parse_replacements(texts: list[str]) -> list[Replacement]:
    """`--to-host` values ('NAME' or 'NAME=ADDRESS') -> Replacements, in order.

    Raises RestoreRefused for an empty name, an address with characters no host name or IP
    address has, or a name given twice.
    """
    found: dict[str, Replacement] = {}
    for text in texts:
        name, _, address = text.partition("=")
        name, address = name.strip(), address.strip()
        if not name or ("=" in text and not _ADDRESS.fullmatch(address)):
            raise RestoreRefused(f"--to-host '{text}': expected NAME or NAME=ADDRESS (NAME a "
                                 "database host of the inventory, ADDRESS its new machine)")
        if name in found:
            raise RestoreRefused(f"--to-host names {name} twice")
        found[name] = Replacement(name, address or None)
    return list(found.values())


def check_replaceable(replacements: list[Replacement], database_hosts: list[str]) -> None:
    """RestoreRefused unless every replacement names one of `database_hosts` (the hosts of
    the backed-up stanzas)."""
    for replacement in replacements:
        if replacement.name not in database_hosts:
            raise RestoreRefused(f"--to-host {replacement.name}: not a database host of this "
                                 f"deployment (its database hosts: {', '.join(database_hosts)})")


def check_no_patroni_cluster(members: list[str]) -> None:
    """RestoreRefused when the deployment runs a Patroni cluster (`members` not empty):
    restore stops and starts Debian's postgresql@ unit and restores one server, while there
    Patroni runs PostgreSQL on every member and would have to re-clone the replicas."""
    if members:
        raise RestoreRefused(
            f"this deployment's PostgreSQL is a Patroni cluster ({', '.join(members)}), "
            "which restore does not handle yet (it restores a server Debian's unit runs). "
            "Nothing was changed. The other members keep serving when one is lost; a lost "
            "cluster needs pgBackRest's restore on one member by hand (see the README)")


def check_not_cluster_members(replacements: list[Replacement], members: list[str]) -> None:
    """RestoreRefused when a replacement names a member of the Patroni cluster (`members`):
    a lost member is rebuilt by Patroni from the leader, and a new etcd member must join the
    running DCS (`etcdctl member add`), which --to-host does not do."""
    for replacement in replacements:
        if replacement.name in members:
            raise RestoreRefused(
                f"--to-host {replacement.name}: a member of the Patroni cluster; the others "
                "keep serving, and a replacement must join its etcd and be cloned by "
                "Patroni, which restore does not do yet. Nothing was changed")


def rewritten_inventory(inventory: Path, replacements: list[Replacement]) -> str | None:
    """The inventory's text with each given address in place of its host's, or None when
    every address given is already the inventory's.

    Only the `address:` value on that host's line changes (comments and layout are kept);
    the result is parsed again and must differ from the original in those addresses only.
    Raises RestoreRefused when a host is not listed or its address cannot be located.
    """
    document = load_yaml_mapping(inventory)
    with inventory.open(encoding="utf-8", newline="") as handle:  # CRLF files stay CRLF
        lines = handle.read().splitlines(keepends=True)
    expected = _entries(document.data)
    changed = False
    for replacement in replacements:
        where = _locate(document.data, replacement.name)
        if where is None:
            raise RestoreRefused(f"{inventory}: no host named {replacement.name}")
        role, index, old = where
        if replacement.address is None or replacement.address == old:
            continue
        _, line = document.where(("hosts", role, index, "address"))
        if line is None:
            raise RestoreRefused(f"{inventory}: cannot find the address of {replacement.name}")
        pattern = re.compile(r"(address:\s*)([\"']?)" + re.escape(old) + r"\2(?=\s*[,}#\n]|$)")
        new_line, count = pattern.subn(
            lambda m, new=replacement.address: m.group(1) + _quoted(new, m.group(2)),
            lines[line - 1], count=1)
        if count != 1:
            raise RestoreRefused(f"{inventory}:{line}: cannot rewrite the address of "
                                 f"{replacement.name} in place; put {replacement.address} "
                                 "there yourself and pass --to-host "
                                 f"{replacement.name}")
        lines[line - 1] = new_line
        expected[replacement.name] = replacement.address
        changed = True
    if not changed:
        return None
    text = "".join(lines)
    _verify_rewrite(inventory, text, expected)
    return text


def _quoted(address: str, quote: str) -> str:
    """`address` as a YAML scalar: in the entry's own quotes, or in double quotes when YAML
    would read it bare as something else than a string (10, null, yes, 1e3)."""
    import yaml

    if not quote and not isinstance(yaml.safe_load(address), str):
        quote = '"'
    return f"{quote}{address}{quote}"


def _entries(data: dict) -> dict[str, str]:
    return {entry.get("name"): entry.get("address")
            for entries in (data.get("hosts") or {}).values() for entry in entries or ()
            if isinstance(entry, dict)}


def _locate(data: dict, name: str) -> tuple[str, int, str] | None:
    for role, entries in (data.get("hosts") or {}).items():
        for index, entry in enumerate(entries or ()):
            if isinstance(entry, dict) and entry.get("name") == name:
                return role, index, str(entry.get("address"))
    return None


def _verify_rewrite(inventory: Path, text: str, expected: dict[str, str]) -> None:
    probe = inventory.with_name(f".{inventory.name}.to-host-check")
    try:
        probe.write_text(text, encoding="utf-8", newline="")
        after = {name: str(address)
                 for name, address in _entries(load_yaml_mapping(probe).data).items()}
    finally:
        probe.unlink(missing_ok=True)
    if after != {name: str(address) for name, address in expected.items()}:
        raise RestoreRefused(f"{inventory}: rewriting the address changed more than the "
                             "address; edit the inventory yourself and pass --to-host NAME")


def staged_inventory(inventory: Path, text: str) -> Path:
    """Write `text` beside the inventory's real file (a symlink is followed, so the rename
    below replaces the target) as a hidden file with the inventory's mode; its path. The
    caller commits or removes it."""
    target = inventory.resolve()
    staged = target.with_name(f".{target.name}.to-host")
    staged.write_text(text, encoding="utf-8", newline="")
    staged.chmod(target.stat().st_mode & 0o777)
    return staged


def commit_inventory(inventory: Path, staged: Path, stamp: str) -> Path:
    """Keep the current inventory as `<inventory>.before-restore` (with `-<stamp>` when
    that name is taken: an earlier copy is never overwritten) and move `staged` into the
    real file's place (a rename: the inventory is never half-written); the kept copy."""
    target = inventory.resolve()
    kept = target.with_name(target.name + BEFORE_SUFFIX)
    if kept.exists():
        kept = target.with_name(f"{target.name}{BEFORE_SUFFIX}-{stamp}")
    shutil.copy2(target, kept)
    staged.replace(target)
    return kept


def as_given(error: InvalidInputError, staged: Path, inventory: Path,
             replacements: list[Replacement]) -> InvalidInputError:
    """`error` from loading the staged inventory, told about the user's inventory instead
    (the staged file is gone by the time the message is read)."""
    given = ", ".join(f"{r.name}={r.address}" for r in replacements if r.address)
    problems = [Problem(inventory if p.file == staged else p.file, p.line, p.field,
                        f"{p.message} (with --to-host {given})") for p in error.problems]
    return InvalidInputError(problems)
