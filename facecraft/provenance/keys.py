"""The signing identity for content credentials: a key and certificate chain kept in the user's config folder.

On first use facecraft creates a small local CA and an ES256 signing certificate issued by it (C2PA
validators reject a self-signed end-entity certificate). An organisation can use its own identity by
putting ``signer.pem`` (the signing certificate followed by its chain, PEM) and ``signer.key`` (its
PKCS#8 PEM private key, P-256) into the folder, or by pointing FACECRAFT_SIGNER_CERT / FACECRAFT_SIGNER_KEY
at them. The folder is ``$FACECRAFT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/facecraft``, else
``~/.config/facecraft``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import FacecraftError

CERT_FILE = "signer.pem"
KEY_FILE = "signer.key"
CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.pem"
_VALID_DAYS = 3650


@dataclass(frozen=True)
class SigningIdentity:
    cert_chain_pem: bytes  # signing certificate first, then its issuers
    private_key_pem: bytes
    cert_path: Path
    created: bool  # True when this call created it


def config_dir() -> Path:
    """facecraft's per-user config folder (not created here)."""
    if override := os.environ.get("FACECRAFT_CONFIG_DIR"):
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "facecraft"


def _write_private(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _create_identity(cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    user = os.environ.get("USER") or "local user"

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facecraft (local, unverified)"),
            ]
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"facecraft local CA ({user})")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(f"facecraft signer ({user})"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ca_key_pem = ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(key_path.with_name(CA_KEY_FILE), ca_key_pem, 0o600)  # to re-issue the signer later
    _write_private(cert_path.with_name(CA_CERT_FILE), ca.public_bytes(pem), 0o644)
    _write_private(key_path, key_pem, 0o600)
    _write_private(cert_path, chain, 0o644)


def signing_identity() -> SigningIdentity:
    """The key and certificate chain to sign manifests with, creating a local one on first use."""
    env_cert, env_key = os.environ.get("FACECRAFT_SIGNER_CERT"), os.environ.get("FACECRAFT_SIGNER_KEY")
    if bool(env_cert) != bool(env_key):
        raise FacecraftError("set both FACECRAFT_SIGNER_CERT and FACECRAFT_SIGNER_KEY, or neither")
    created = False
    if env_cert and env_key:
        cert_path, key_path = Path(env_cert), Path(env_key)
    else:
        folder = config_dir()
        cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
        if not cert_path.is_file() and not key_path.is_file():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FacecraftError(
                    f"cannot create the config folder {folder} for the signing key: {exc.strerror}; "
                    "set FACECRAFT_CONFIG_DIR to a writable folder"
                ) from None
            _create_identity(cert_path, key_path)
            created = True
    for p in (cert_path, key_path):
        if not p.is_file():
            raise FacecraftError(f"the signing file {p} is missing; provide both {CERT_FILE} and {KEY_FILE}")
    return SigningIdentity(cert_path.read_bytes(), key_path.read_bytes(), cert_path, created)
