"""The sandbox's SSH key pair: ed25519, OpenSSH format, private key 0600."""

import os
from pathlib import Path

PRIVATE_KEY = "id_ed25519"


def ensure_keypair(directory: Path) -> tuple[Path, str, bool]:
    """Return (private key path, public key line, created now); reuse an existing pair."""
    private = directory / PRIVATE_KEY
    public = directory / f"{PRIVATE_KEY}.pub"
    if private.is_file() and public.is_file():
        os.chmod(private, 0o600)
        return private, public.read_text(encoding="utf-8").strip(), False

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public_line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode() + f" ssas-sandbox@{directory.name}"
    private.unlink(missing_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_bytes)
    public.write_text(public_line + "\n", encoding="utf-8")
    return private, public_line, True
