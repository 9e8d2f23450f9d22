"""Real certificates for tests: a root CA, an intermediate and a server certificate, built with
`cryptography` (EC P-256 keys: fast), written as PEM files."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVER_NAME = "ssas.school.internal"  # the built-in profiles' site.server_name


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool,
                names: tuple[str, ...] = (), not_before: datetime | None = None,
                not_after: datetime | None = None) -> x509.Certificate:
    """A certificate for `key` named `subject`, signed by `issuer_key` as `issuer`."""
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - timedelta(days=1))
               .not_valid_after(not_after or now + timedelta(days=200))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@dataclass
class Pki:
    """A root, an intermediate it signed, and a server certificate the intermediate signed."""

    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: object
    intermediate_key: object

    def write(self, directory: Path, *certs: x509.Certificate, key=None) -> tuple[Path, Path]:
        """chain.pem (`certs`, default leaf then intermediate) and key.pem (the leaf's)."""
        chain = directory / "chain.pem"
        chain.write_text(pem(*(certs or (self.leaf, self.intermediate))))
        key_file = directory / "key.pem"
        key_file.write_text(key_pem(key or self.leaf_key))
        return chain, key_file

    def leaf_for(self, names=(SERVER_NAME,), **dates) -> tuple[x509.Certificate, object]:
        """Another server certificate from the same intermediate, and its key."""
        key = new_key()
        return certificate(names[0] if names else "no-name", key, "SSAS Test Intermediate",
                           self.intermediate_key, ca=False, names=names, **dates), key


def build_pki(names: tuple[str, ...] = (SERVER_NAME,)) -> Pki:
    root_key, intermediate_key, leaf_key = new_key(), new_key(), new_key()
    root = certificate("SSAS Test Root", root_key, "SSAS Test Root", root_key, ca=True)
    intermediate = certificate("SSAS Test Intermediate", intermediate_key, "SSAS Test Root",
                               root_key, ca=True)
    leaf = certificate(names[0], leaf_key, "SSAS Test Intermediate", intermediate_key,
                       ca=False, names=names)
    return Pki(root, intermediate, leaf, leaf_key, intermediate_key)
