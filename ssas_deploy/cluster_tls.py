"""TLS between the PostgreSQL cluster's members (etcd peers and clients, Patroni's REST API),
derived from one vault secret: `cluster_ca_seed`, 32 random bytes.

The seed is the private key of an Ed25519 CA. Each member's key is an ECDSA P-256 key derived
from the seed and the member's name (HKDF-SHA256, RFC 5869), and its certificate is signed by
the CA. Ed25519 signatures are deterministic (RFC 8032) and every field below is fixed, so the
same seed always yields the same bytes: `apply` writes the files like any other, a second
`apply` changes nothing, `plan` sees drift, and no key is ever generated on a host or stored
in a second place. Rotating the seed (`secrets rotate cluster_ca_seed`) re-issues them all.

Each certificate names the member's address (an IP or a DNS SAN) and 127.0.0.1, so clients
verify the host they asked for. Validity: fixed, 2026-01-01 to 2046-01-01 (UTC).
"""

import base64
import hashlib
import ipaddress
from datetime import UTC, datetime

VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2046, 1, 1, tzinfo=UTC)
# Order of the P-256 group (SEC 2, 2.4.2): a derived scalar must lie in [1, N - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _seed_bytes(seed: str) -> bytes:
    """The 32 bytes of a `cluster_ca_seed` value (URL-safe base64 without padding, 43
    characters, as `secrets.token_urlsafe(32)` makes it). Raises ValueError for anything
    else: a character outside the alphabet or another length is never silently dropped or
    cut, so two different values never give the same CA."""
    import binascii

    try:
        raw = base64.b64decode(seed + "=" * (-len(seed) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        raise ValueError("cluster_ca_seed must be URL-safe base64 of 32 bytes") from None
    if len(raw) != 32:
        raise ValueError(f"cluster_ca_seed must hold 32 bytes, not {len(raw)}")
    return raw


def _ca_key(seed: str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(_seed_bytes(seed))


def _serial(*parts: bytes) -> int:
    """A positive 127-bit serial number fixed by its inputs (RFC 5280 allows up to 20 octets)."""
    return int.from_bytes(hashlib.sha256(b"\0".join(parts)).digest()[:16], "big") >> 1 or 1


def _pem(certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.public_bytes(Encoding.PEM).decode("ascii")


def ca_certificate(seed: str) -> str:
    """The cluster CA's self-signed certificate (PEM) for `seed`; the same text every time.

    Raises ValueError for a seed that is not URL-safe base64 of 32 bytes or more.
    """
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = _ca_key(seed)
    public = key.public_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SSAS PostgreSQL cluster CA")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(_serial(b"ca", public.public_bytes_raw()))
        .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return _pem(builder.sign(key, None))


def _member_key(seed: str, member: str):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    okm = HKDF(algorithm=SHA256(), length=48, salt=b"ssas-cluster-tls",
               info=f"member:{member}".encode()).derive(_seed_bytes(seed))
    # 48 bytes reduced mod (n - 1), plus 1: uniform enough in [1, n - 1] (FIPS 186-4, B.4.1).
    scalar = int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def member_key(seed: str, member: str) -> str:
    """The member's private key (PKCS#8 PEM, unencrypted: etcd and Patroni start unattended).

    Raises ValueError for a bad seed."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    return _member_key(seed, member).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")


def member_certificate(seed: str, member: str, address: str) -> str:
    """The member's certificate (PEM) signed by the cluster CA, for server and client use
    (etcd peers authenticate each other with it, Patroni authenticates to etcd with it).

    Subject alternative names: `address` (IP or DNS name), `member` when it is a DNS name,
    and 127.0.0.1 (local clients: patronictl, etcdctl). Raises ValueError for a bad seed.
    """
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca = _ca_key(seed)
    key = _member_key(seed, member).public_key()
    names: list[x509.GeneralName] = []
    for value in dict.fromkeys([address, member, "127.0.0.1"]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            names.append(x509.DNSName(value))
    ca_public = ca.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, member)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                   "SSAS PostgreSQL cluster CA")]))
        .public_key(key)
        .serial_number(_serial(b"member", member.encode(), address.encode(),
                               ca_public.public_bytes_raw()))
        .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public),
                       critical=False)
    )
    return _pem(builder.sign(ca, None))
