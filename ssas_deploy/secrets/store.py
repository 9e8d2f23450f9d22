"""The ansible-vault encrypted secrets file kept beside an inventory.

`hosts.yaml` -> `hosts.secrets.vault.yml` in the same directory. Decrypted, it is an ordinary
Ansible vars file, so `ansible-vault view|edit` and `ansible-playbook -e @FILE
--vault-password-file ...` read it directly:

    ssas_secrets:            # name -> value, exactly the `ssas_secrets` the roles receive
      db_password: ...
    ssas_tls_key: |          # only when you imported one (multi-line PEM, kept apart)
      -----BEGIN PRIVATE KEY-----
    ssas_secrets_meta:       # name -> {created, rotated} (UTC), what `secrets list` shows
      db_password: {created: '2025-01-31T10:00:00Z', rotated: null}

Writes are atomic (temporary file in the same directory, mode 0600, fsync, rename) and
serialized with a lock on the directory, so two commands never lose each other's change.
"""

import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from ssas_deploy.errors import InvalidInputError, Problem
from ssas_deploy.secrets.names import (
    GENERATED_NAMES,
    OPTIONAL_NAMES,
    SAFE_ALPHABET,
    SPECS,
    check_name,
    generate_value,
)
from ssas_deploy.secrets.password import (
    VaultPassword,
    _first_line,
    ansible_vault,
    resolve_vault_password,
)

VAULT_SUFFIX = ".secrets.vault.yml"
HEADER = (
    "# ssas-deploy secrets. Managed by `ssas-deploy secrets`; rotate with\n"
    "# `ssas-deploy secrets rotate NAME`, then apply to push the new value everywhere.\n"
)


# The command that stores each optional (supplied) secret.
SUPPLY_VERBS = {"tls_key": "import-tls --cert CHAIN.pem --key KEY.pem",
                "smtp_password": "set-smtp-password"}


def vault_path_for(inventory: Path) -> Path:
    """`<inventory dir>/<inventory stem>.secrets.vault.yml`."""
    inventory = Path(inventory)
    return inventory.parent / f"{inventory.stem}{VAULT_SUFFIX}"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SecretRecord:
    name: str
    value: str = field(repr=False)
    created: str
    rotated: str | None = None

    @property
    def changed(self) -> str:
        """When the current value was set."""
        return self.rotated or self.created


class SecretStore:
    """The secrets of one inventory.

    The vault password is resolved on first need (see `password.resolve_vault_password`)
    unless one is given; a new vault asks for it twice at the prompt.
    """

    def __init__(
        self,
        inventory: Path,
        password: VaultPassword | None = None,
        *,
        password_file: Path | None = None,
        warn: Callable[[str], None] | None = None,
    ):
        self.inventory = Path(inventory)
        self.path = vault_path_for(self.inventory)
        self._password = password
        self._password_file = password_file
        if warn is None:
            from ssas_deploy.console import display_warning as warn
        self._warn = warn

    def exists(self) -> bool:
        return self.path.exists()

    # -- reading ---------------------------------------------------------------------------

    def records(self) -> dict[str, SecretRecord]:
        """Every stored secret (empty when there is no vault yet; no password needed then)."""
        if not self.exists():
            return {}
        return self._read()

    def load_or_create(self, names: Iterable[str] = GENERATED_NAMES,
                       if_set: Iterable[str] = ()) -> dict[str, str]:
        """The values of `names`, generating (and saving) the missing ones first, plus those
        of the optional secrets `if_set` that are in the vault."""
        names = tuple(names)
        for name in names:
            check_name(name, GENERATED_NAMES + OPTIONAL_NAMES)
        self._require_inventory()
        self._ensure_password()
        with self._locked():
            records = self._read() if self.exists() else {}
            missing = [n for n in names if n not in records and n in GENERATED_NAMES]
            if missing:
                stamp = now()
                for name in missing:
                    records[name] = SecretRecord(name, generate_value(name), stamp)
                self._write(records)
        absent = [n for n in names if n not in records]
        if absent:  # only optional secrets can be absent: nobody imported one
            raise InvalidInputError([Problem(self.path, None, absent[0],
                                             "not in the vault (it is never generated; "
                                             "import it first)")])
        present = [n for n in if_set if n in records]
        return {name: records[name].value for name in (*names, *present)}

    # -- changing --------------------------------------------------------------------------

    def rotate(self, name: str) -> SecretRecord:
        """A new random value for one generated secret; every other value stays as it was."""
        check_name(name, GENERATED_NAMES + OPTIONAL_NAMES)
        if name in OPTIONAL_NAMES:
            raise InvalidInputError([Problem(None, None, "secret",
                                             f"{name} is supplied by you, not generated: "
                                             "store the new one with "
                                             f"`ssas-deploy secrets {SUPPLY_VERBS[name]}`")])
        if not SPECS[name].rotatable:
            raise InvalidInputError([Problem(None, None, "secret",
                                             f"{name} cannot be rotated: the existing backups "
                                             "are encrypted with it and would become "
                                             "unreadable")])
        self._require_inventory()
        if not self.exists():
            raise InvalidInputError([Problem(self.path, None, "",
                                             "no secrets vault yet, so nothing to rotate; "
                                             "secrets are generated on first use "
                                             "(`ssas-deploy secrets init`)")])
        self._ensure_password()
        with self._locked():
            records = self._read()
            stamp = now()
            old = records.get(name)
            value = generate_value(name)
            while old is not None and value == old.value:  # pragma: no cover (2^-256)
                value = generate_value(name)
            record = (SecretRecord(name, value, old.created, stamp) if old
                      else SecretRecord(name, value, stamp))
            records[name] = record
            self._write(records)
        return record

    def import_tls_key(self, pem: str) -> SecretRecord:
        """Keep a TLS private key you supply (PEM) in the vault; replaces an earlier one."""
        if "PRIVATE KEY-----" not in pem:
            raise InvalidInputError([Problem(None, None, "tls_key",
                                             "not a PEM private key (no 'PRIVATE KEY' block)")])
        return self._keep_supplied("tls_key", pem if pem.endswith("\n") else pem + "\n")

    def set_smtp_password(self, password: str) -> SecretRecord:
        """Keep the SMTP relay's password (one line of printable ASCII: Python's SMTP client
        sends no other) in the vault; replaces an earlier one. InvalidInputError otherwise."""
        if password != password.strip():
            raise InvalidInputError([Problem(None, None, "smtp_password", (
                "starts or ends with a space: most likely a copy-and-paste slip; nothing "
                "was stored"))])
        if not password or not all(" " <= c <= "~" for c in password):
            raise InvalidInputError([Problem(None, None, "smtp_password", (
                "give one non-empty line of printable ASCII (Django's SMTP client, Python's "
                "smtplib, logs in with ASCII only)"))])
        return self._keep_supplied("smtp_password", password)

    def _keep_supplied(self, name: str, text: str) -> SecretRecord:
        self._require_inventory()
        self._ensure_password()
        with self._locked():
            records = self._read() if self.exists() else {}
            old = records.get(name)
            stamp = now()
            record = (SecretRecord(name, text, old.created, stamp) if old
                      else SecretRecord(name, text, stamp))
            records[name] = record
            self._write(records)
        return record

    # -- internals -------------------------------------------------------------------------

    def _require_inventory(self) -> None:
        if not self.inventory.is_file():
            raise InvalidInputError([Problem(self.inventory, None, "",
                                             "inventory not found (the secrets vault is kept "
                                             "beside it)")])

    def _ensure_password(self) -> VaultPassword:
        if self._password is None:
            self._password = resolve_vault_password(self._password_file,
                                                    creating=not self.exists(), warn=self._warn)
        return self._password

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _secret(self):
        vault = ansible_vault()
        return vault.VaultSecret(self._ensure_password().value)

    def _read(self) -> dict[str, SecretRecord]:
        self._fix_mode()
        data = self.path.read_bytes()
        vault = ansible_vault()
        if not vault.is_encrypted(data):
            raise self._bad("is not an ansible-vault encrypted file; refusing to read or "
                            "overwrite it (encrypt it with `ansible-vault encrypt` or move it "
                            "away)")
        lib = vault.VaultLib([("default", self._secret())])
        try:
            plaintext = lib.decrypt(data)
        except vault.AnsibleVaultFormatError as exc:
            raise self._bad(f"the vault file is damaged ({_first_line(exc)}); restore it "
                            "from a backup") from None
        except vault.AnsibleVaultError:
            source = self._password.source if self._password else "?"
            raise self._bad(f"wrong vault password (from {source}): it does not decrypt this "
                            "file (or the file was modified)") from None
        return self._parse(plaintext)

    def _parse(self, plaintext: bytes) -> dict[str, SecretRecord]:
        try:
            doc = yaml.safe_load(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            # Never echo the YAML error's snippet: it would show decrypted content.
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise self._bad(f"decrypts, but its YAML is invalid{where}") from None
        if not isinstance(doc, dict):
            raise self._bad("decrypts, but has no `ssas_secrets` mapping")
        values = doc.get("ssas_secrets")
        meta = doc.get("ssas_secrets_meta") or {}
        if not isinstance(values, dict) or not isinstance(meta, dict):
            raise self._bad("decrypts, but has no `ssas_secrets` mapping")
        values = dict(values)
        if doc.get("ssas_tls_key"):
            values["tls_key"] = doc["ssas_tls_key"]
        records = {}
        for name, value in values.items():
            if not isinstance(name, str) or not isinstance(value, str) or not value:
                raise self._bad(f"decrypts, but ssas_secrets.{name} is not a non-empty string")
            if name != "tls_key" and ("\n" in value or "\r" in value):
                raise self._bad(f"decrypts, but ssas_secrets.{name} contains a newline")
            info = meta.get(name) if isinstance(meta.get(name), dict) else {}
            records[name] = SecretRecord(name, value, str(info.get("created") or "unknown"),
                                         str(info["rotated"]) if info.get("rotated") else None)
        return records

    def _payload(self, records: dict[str, SecretRecord]) -> str:
        ordered = sorted(records.values(), key=_order)
        doc: dict = {"ssas_secrets": {r.name: r.value for r in ordered if r.name != "tls_key"}}
        if "tls_key" in records:
            doc["ssas_tls_key"] = records["tls_key"].value
        doc["ssas_secrets_meta"] = {r.name: {"created": r.created, "rotated": r.rotated}
                                    for r in ordered}
        return HEADER + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False,
                                       width=1000)

    def _write(self, records: dict[str, SecretRecord]) -> None:
        for record in records.values():
            if record.name in GENERATED_NAMES and not set(record.value) <= SAFE_ALPHABET:
                self._warn(f"{self.path}: {record.name} has characters outside "
                           "[A-Za-z0-9_-]; rotate it if a service refuses it")
        vault = ansible_vault()
        data = vault.VaultLib().encrypt(self._payload(records), secret=self._secret())
        target = self.path.resolve() if self.path.is_symlink() else self.path
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _fix_mode(self) -> None:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            try:
                self.path.chmod(0o600)
            except OSError:
                self._warn(f"{self.path}: the secrets vault is readable by other users "
                           f"(mode {mode:04o}); `chmod 600` it")
            else:
                self._warn(f"{self.path}: the secrets vault was readable by other users "
                           f"(mode {mode:04o}); changed to 0600")

    def _bad(self, message: str) -> InvalidInputError:
        return InvalidInputError([Problem(self.path, None, "", message)])


def _order(record: SecretRecord) -> tuple[int, str]:
    known = GENERATED_NAMES + OPTIONAL_NAMES
    return (known.index(record.name), "") if record.name in known else (len(known), record.name)
