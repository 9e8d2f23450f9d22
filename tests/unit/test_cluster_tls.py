"""The PostgreSQL cluster's TLS material, derived from the vault's cluster_ca_seed."""

import ipaddress
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from ssas_deploy.cluster_tls import ca_certificate, member_certificate, member_key
from ssas_deploy.jinja_filters import cluster_member_key
from ssas_deploy.secrets.names import MASK


@pytest.fixture
def seed():
    return secrets.token_urlsafe(32)  # what the vault generates


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others(seed):
    assert ca_certificate(seed) == ca_certificate(seed)
    assert member_key(seed, "db-1") == member_key(seed, "db-1")
    assert member_certificate(seed, "db-1", "10.0.1.20") == \
        member_certificate(seed, "db-1", "10.0.1.20")
    other = secrets.token_urlsafe(32)
    assert ca_certificate(other) != ca_certificate(seed)
    assert member_key(seed, "db-2") != member_key(seed, "db-1")


def test_a_member_certificate_is_signed_by_the_ca_for_its_key_and_names(seed):
    ca = x509.load_pem_x509_certificate(ca_certificate(seed).encode())
    cert = x509.load_pem_x509_certificate(member_certificate(seed, "db-1", "10.0.1.20").encode())
    cert.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key = load_pem_private_key(member_key(seed, "db-1").encode(), None)
    assert key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == \
        cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("10.0.1.20"), ipaddress.ip_address("127.0.0.1")}
    assert names.get_values_for_type(x509.DNSName) == ["db-1"]
    named = x509.load_pem_x509_certificate(member_certificate(seed, "db-1", "db-1.school.lan")
                                           .encode())
    assert named.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName) == ["db-1.school.lan", "db-1"]


def test_another_seeds_ca_does_not_vouch_for_the_member(seed):
    from cryptography.exceptions import InvalidSignature

    other = x509.load_pem_x509_certificate(ca_certificate(secrets.token_urlsafe(32)).encode())
    cert = x509.load_pem_x509_certificate(member_certificate(seed, "db-1", "10.0.1.20").encode())
    with pytest.raises(InvalidSignature):
        cert.verify_directly_issued_by(other)


def test_a_short_seed_is_refused_and_the_mask_renders_as_the_mask():
    with pytest.raises(ValueError, match="32 bytes"):
        ca_certificate(secrets.token_urlsafe(16))
    with pytest.raises(ValueError, match="32 bytes"):
        ca_certificate(secrets.token_urlsafe(33))  # never cut to 32
    good = secrets.token_urlsafe(32)
    with pytest.raises(ValueError, match="base64"):
        ca_certificate(good[:20] + "!" + good[21:])  # never a character dropped
    assert cluster_member_key(MASK, "db-1") == MASK
