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
from typing import Any

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


def write_pem(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _name(common: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facecraft (local, unverified)"),
        ]
    )


def _user() -> str:
    return os.environ.get("USER") or "local user"


def issue_signer(ca_key: Any, ca_cert: Any, key: Any) -> Any:
    """An ES256 signing certificate for ``key`` issued by the local CA (``cryptography`` objects), valid
    for ten years from five minutes ago."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(f"facecraft signer ({_user()})"))
        .issuer_name(ca_cert.subject)
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


def write_signer(cert_path: Path, key_path: Path, leaf: Any, ca_cert: Any, key: Any) -> None:
    """Write the signing key (mode 600) and the chain ``leaf + ca_cert`` (PEM), each atomically."""
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_pem(key_path, key_pem, 0o600)
    write_pem(cert_path, leaf.public_bytes(pem) + ca_cert.public_bytes(pem), 0o644)


def create_local_identity(cert_path: Path, key_path: Path) -> None:
    """A new local CA (its key kept beside the signer, to re-issue later) and a signer issued by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"facecraft local CA ({_user()})")
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
    pem = serialization.Encoding.PEM
    ca_key_pem = ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_pem(key_path.with_name(CA_KEY_FILE), ca_key_pem, 0o600)  # to re-issue the signer later
    write_pem(cert_path.with_name(CA_CERT_FILE), ca.public_bytes(pem), 0o644)
    write_signer(cert_path, key_path, issue_signer(ca_key, ca, key), ca, key)


def signer_paths() -> tuple[Path, Path, bool]:
    """Where the signing certificate chain and key are: ``(cert, key, from_env)``; ``from_env`` is True when
    FACECRAFT_SIGNER_CERT / FACECRAFT_SIGNER_KEY name them. The files may not exist yet."""
    env_cert, env_key = os.environ.get("FACECRAFT_SIGNER_CERT"), os.environ.get("FACECRAFT_SIGNER_KEY")
    if bool(env_cert) != bool(env_key):
        raise FacecraftError("set both FACECRAFT_SIGNER_CERT and FACECRAFT_SIGNER_KEY, or neither")
    if env_cert and env_key:
        return Path(env_cert), Path(env_key), True
    return config_dir() / CERT_FILE, config_dir() / KEY_FILE, False


def make_config_dir() -> Path:
    folder = config_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FacecraftError(
            f"cannot create the config folder {folder} for the signing key: {exc.strerror}; "
            "set FACECRAFT_CONFIG_DIR to a writable folder"
        ) from None
    return folder


def signing_identity() -> SigningIdentity:
    """The key and certificate chain to sign manifests with, creating a local one on first use."""
    cert_path, key_path, from_env = signer_paths()
    created = False
    if not from_env and not cert_path.is_file() and not key_path.is_file():
        make_config_dir()
        create_local_identity(cert_path, key_path)
        created = True
    for p in (cert_path, key_path):
        if not p.is_file():
            raise FacecraftError(f"the signing file {p} is missing; provide both {CERT_FILE} and {KEY_FILE}")
    return SigningIdentity(cert_path.read_bytes(), key_path.read_bytes(), cert_path, created)
