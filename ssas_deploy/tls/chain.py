"""Judging a supplied certificate chain and private key (the `cryptography` library).

A chain file holds the server's certificate first, then each intermediate, each certificate
followed by the one that issued it (the root may end it or be left out). The key must be the
leaf's, unencrypted (nginx starts unattended). Errors are `Problem`s naming the file and the
block; nothing here stores anything.
"""

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from ssas_deploy.errors import InvalidInputError, Problem
from ssas_deploy.tls.pem import PemBlock, pem_blocks, read_pem_text

# `apply` and `import-tls` warn when a certificate of the chain expires within this time.
EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class Chain:
    """A parsed chain: `certificates` leaf first, `blocks` the PEM block each came from,
    `path` the file it was read from (named in messages)."""

    path: Path
    certificates: tuple[x509.Certificate, ...]
    blocks: tuple[PemBlock, ...]

    @property
    def leaf(self) -> x509.Certificate:
        return self.certificates[0]

    @property
    def pem(self) -> str:
        """Every certificate re-encoded as PEM, leaf first: what nginx's ssl_certificate
        file holds (text between the blocks of the original file is dropped)."""
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii")
                       for c in self.certificates)


@dataclass(frozen=True)
class PrivateKey:
    """A parsed, unencrypted private key; `pem` is its PKCS#8 PEM (never shown)."""

    path: Path
    key: object
    pem: str

    def __repr__(self) -> str:
        return f"PrivateKey({self.path})"


def load_chain(path: Path, text: str | None = None) -> Chain:
    """The certificates of `path` (or of `text` read from it), leaf first as given.

    InvalidInputError naming the file and block when the file is not PEM, holds a block that
    is not a CERTIFICATE, or a certificate that does not parse.
    """
    path = Path(path)
    blocks = pem_blocks(path, read_pem_text(path) if text is None else text)
    certificates = []
    for block in blocks:
        if block.label != "CERTIFICATE":
            hint = (" (the key goes in --key; the chain is stored in clear)"
                    if block.label.endswith("PRIVATE KEY") else "")
            raise _bad(path, f"{block.where} is a {block.label}, not a CERTIFICATE{hint}",
                       block.line)
        try:
            certificates.append(x509.load_pem_x509_certificate(block.text.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise _bad(path, f"{block.where}: not a valid certificate ({_first_line(exc)})",
                       block.line) from None
    return Chain(path, tuple(certificates), tuple(blocks))


def load_private_key(path: Path, text: str | None = None) -> PrivateKey:
    """The one unencrypted private key of `path` (or of `text` read from it); other blocks,
    e.g. EC PARAMETERS, are ignored.

    InvalidInputError naming the file (and block) when it holds no key or several, the key
    is encrypted, or it does not parse. Messages never quote the key.
    """
    path = Path(path)
    blocks = pem_blocks(path, read_pem_text(path) if text is None else text)
    keys = [b for b in blocks if b.label.endswith("PRIVATE KEY")]
    if not keys:
        labels = ", ".join(sorted({b.label for b in blocks}))
        hint = " (is it the chain? that goes in --cert)" if "CERTIFICATE" in labels else ""
        raise _bad(path, f"no PRIVATE KEY block, only {labels}{hint}")
    if len(keys) > 1:
        raise _bad(path, f"{len(keys)} private keys ({', '.join(k.where for k in keys)}); "
                         "give the file with the certificate's key only", keys[1].line)
    block = keys[0]
    encrypted = ("nginx starts unattended, so it needs the key unencrypted: "
                 "`openssl pkey -in KEY -out KEY.plain` asks for the passphrase once")
    if block.label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in block.text:
        raise _bad(path, f"{block.where}: the key is encrypted; {encrypted}", block.line)
    try:
        key = serialization.load_pem_private_key(block.text.encode("ascii"), password=None)
    except TypeError:  # encrypted in a way the label did not tell
        raise _bad(path, f"{block.where}: the key is encrypted; {encrypted}",
                   block.line) from None
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        # cryptography's message could quote key material: never shown.
        raise _bad(path, f"{block.where}: not a valid private key", block.line) from None
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    return PrivateKey(path, key, pem)


def check_chain(chain: Chain, server_names: tuple[str, ...] = (),
                now: datetime | None = None) -> list[str]:
    """Raise InvalidInputError listing every problem of `chain`; return its warnings.

    Problems: a certificate expired or not yet valid, a certificate not issued (name and
    signature) by the one after it, an issuer that is not a CA, a server name in
    `server_names` that the leaf does not cover (subjectAltName; browsers ignore the common
    name). Warnings: a certificate expiring within EXPIRY_WARNING (30 days), a lone leaf
    whose issuer is not in the file.
    """
    now = now or datetime.now(UTC)
    problems: list[Problem] = []
    warnings: list[str] = []
    for cert, block in zip(chain.certificates, chain.blocks, strict=True):
        what = f"{block.where}, {describe(cert)}"
        if cert.not_valid_after_utc <= now:
            problems.append(_problem(chain.path, f"{what}: expired on "
                                     f"{_date(cert.not_valid_after_utc)}", block.line))
        elif cert.not_valid_before_utc > now:
            problems.append(_problem(chain.path, f"{what}: not valid before "
                                     f"{_date(cert.not_valid_before_utc)} (a wrong clock "
                                     "here or at the CA?)", block.line))
        elif cert.not_valid_after_utc - now <= EXPIRY_WARNING:
            days = (cert.not_valid_after_utc - now).days
            warnings.append(f"{chain.path}: {what} expires on "
                            f"{_date(cert.not_valid_after_utc)} (in {days} day(s)): renew it "
                            "and import the new one")
    order = _order_problems(chain)
    problems += order
    if not order:  # out of order, the first certificate may not be the server's
        problems += [_problem(chain.path, message, chain.blocks[0].line)
                     for message in name_problems(chain.leaf, server_names)]
    if problems:
        raise InvalidInputError(problems)
    leaf = chain.leaf
    if len(chain.certificates) == 1 and leaf.issuer != leaf.subject:
        warnings.append(f"{chain.path}: only the server's certificate, no intermediates: "
                        f"fine if its issuer ({leaf.issuer.rfc4514_string()}) is a root the "
                        "school's devices trust; if your CA gave you a 'fullchain' or "
                        "'ca-bundle' file, import that instead")
    return warnings


def check_key(chain: Chain, key: PrivateKey) -> None:
    """InvalidInputError naming both files unless `key` is the private key of the leaf."""
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if chain.leaf.public_key().public_bytes(*spki) != key.key.public_key().public_bytes(*spki):
        raise _bad(key.path, f"this key does not belong to the certificate in {chain.path} "
                             f"({describe(chain.leaf)}): its public keys differ")


def name_problems(leaf: x509.Certificate, server_names: tuple[str, ...]) -> list[str]:
    """One message per name of `server_names` the certificate does not cover (DNS names,
    with a wildcard for one left-most label; IP addresses)."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    dns = [n.lower() for n in san.get_values_for_type(x509.DNSName)] if san else []
    ips = san.get_values_for_type(x509.IPAddress) if san else []
    problems = []
    for name in server_names:
        if not _covers(name, dns, ips):
            listed = ", ".join([*dns, *map(str, ips)]) or "none (no subjectAltName)"
            problems.append(f"the certificate does not cover the server name '{name}' "
                            f"(profile site.server_name); its names: {listed}")
    return problems


def describe(cert: x509.Certificate) -> str:
    """'CN=www.school.example' or the whole subject when it has no common name."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return f"CN={names[0].value}" if names else (cert.subject.rfc4514_string() or "no subject")


def _covers(name: str, dns: list[str], ips: list) -> bool:
    try:
        return ipaddress.ip_address(name) in ips
    except ValueError:
        pass
    name = name.lower().rstrip(".")
    if name in dns:
        return True
    label, _, rest = name.partition(".")
    return bool(label) and "*" not in label and rest != "" and f"*.{rest}" in dns


def _order_problems(chain: Chain) -> list[Problem]:
    certs, blocks = chain.certificates, chain.blocks
    problems = []
    for i in range(len(certs) - 1):
        subject, issuer = certs[i], certs[i + 1]
        if not _issued_by(subject, issuer):
            problems.append(_problem(chain.path, (
                f"{blocks[i].where}, {describe(subject)}, is not issued by the next "
                f"certificate ({blocks[i + 1].where}, {describe(issuer)}): the file must "
                f"hold the server's certificate first, then each issuer in turn"
                f"{_suggested_order(chain)}"), blocks[i].line))
            break
        if not _is_ca(issuer):
            problems.append(_problem(chain.path, f"{blocks[i + 1].where}, {describe(issuer)}, "
                                     "issues another certificate but is not a CA",
                                     blocks[i + 1].line))
    return problems


def _issued_by(subject: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        subject.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _suggested_order(chain: Chain) -> str:
    """' (in this file: blocks 3, 1, 2)' when some order of the same certificates is a
    chain, else ''."""
    certs = list(range(len(chain.certificates)))
    issuers = {i: [j for j in certs if j != i and
                   _issued_by(chain.certificates[i], chain.certificates[j])] for i in certs}
    issues_another = {j for i in certs for j in issuers[i]}
    leaves = [i for i in certs if i not in issues_another]
    if len(leaves) != 1:
        return ""
    order = [leaves[0]]
    while issuers[order[-1]] and len(order) < len(certs):
        order.append(issuers[order[-1]][0])
    if len(order) != len(certs) or len(set(order)) != len(order):
        return ""
    return f" (in this file: blocks {', '.join(str(i + 1) for i in order)})"


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _problem(path: Path, message: str, line: int | None = None) -> Problem:
    return Problem(Path(path), line, "", message)


def _bad(path: Path, message: str, line: int | None = None) -> InvalidInputError:
    return InvalidInputError([_problem(path, message, line)])
