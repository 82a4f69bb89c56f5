"""Looking after the signing identity: show which certificate signs, re-issue the local signer from the
kept local CA, and install an organisation's certificate and key (``facecraft keys``).

Every check on a user's files raises FacecraftError with one line that says what is wrong.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.provenance import keys


@dataclass(frozen=True)
class SignerInfo:
    """What signs content credentials now."""

    cert_path: Path
    key_path: Path
    source: str  # "environment" | "config folder"
    subject: str
    issuer: str
    serial_hex: str
    not_before: dt.datetime
    not_after: dt.datetime
    chain_length: int
    local: bool  # issued by facecraft's local CA in the config folder
    can_reissue: bool  # the local CA's key is there

    @property
    def expired(self) -> bool:
        return self.not_after < dt.datetime.now(dt.UTC)


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise FacecraftError(f"{what} {path} does not exist")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FacecraftError(f"cannot read {what} {path}: {exc.strerror}") from None


def load_chain(path: Path) -> list[Any]:
    """The PEM certificates in ``path``, signing certificate first."""
    from cryptography import x509

    try:
        chain = x509.load_pem_x509_certificates(_read(path, "the certificate file"))
    except ValueError:
        raise FacecraftError(f"{path} is not a PEM certificate chain (-----BEGIN CERTIFICATE-----)") from None
    return chain


def load_key(path: Path) -> Any:
    """The P-256 private key in ``path`` (PEM, unencrypted)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(_read(path, "the key file"), password=None)
    except (ValueError, TypeError):
        raise FacecraftError(f"{path} is not an unencrypted PEM private key (PKCS#8 or EC)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise FacecraftError(f"{path} is not a P-256 (ES256) key; C2PA signing here needs one")
    return key


def _same_key(cert: Any, key: Any) -> bool:
    from cryptography.hazmat.primitives import serialization

    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(cert.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki))


def _local_ca() -> tuple[Path, Path]:
    folder = keys.config_dir()
    return folder / keys.CA_CERT_FILE, folder / keys.CA_KEY_FILE


def _issued_by(cert: Any, ca: Any) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def current_signer() -> SignerInfo | None:
    """The signing identity in use, or None when none exists yet (one is made on the first labelled output)."""
    cert_path, key_path, from_env = keys.signer_paths()
    if not from_env and not cert_path.exists() and not key_path.exists():
        return None
    chain = load_chain(cert_path)
    if not _same_key(chain[0], load_key(key_path)):
        raise FacecraftError(f"the key {key_path} does not belong to the certificate {cert_path}")
    ca_cert_path, ca_key_path = _local_ca()
    local = ca_cert_path.is_file() and _issued_by(chain[0], load_chain(ca_cert_path)[0])
    leaf = chain[0]
    return SignerInfo(
        cert_path,
        key_path,
        "environment" if from_env else "config folder",
        leaf.subject.rfc4514_string(),
        leaf.issuer.rfc4514_string(),
        f"{leaf.serial_number:x}",
        leaf.not_valid_before_utc,
        leaf.not_valid_after_utc,
        len(chain),
        local,
        local and not from_env and ca_key_path.is_file(),
    )


def reissue(keep_key: bool = False) -> SignerInfo:
    """A new signing certificate from the kept local CA (and a new key unless ``keep_key``); creates a
    whole local identity when there is none. Refuses an organisation's signer: its CA is not here."""
    from cryptography.hazmat.primitives.asymmetric import ec

    cert_path, key_path, from_env = keys.signer_paths()
    if from_env:
        raise FacecraftError(
            "the signer is set by FACECRAFT_SIGNER_CERT / FACECRAFT_SIGNER_KEY; re-issue it with the CA "
            "that issued it, or unset them to use the local one"
        )
    ca_cert_path, ca_key_path = _local_ca()
    if not cert_path.exists() and not key_path.exists() and not ca_key_path.exists():
        keys.make_config_dir()
        keys.create_local_identity(cert_path, key_path)
        return _must(current_signer())
    if not ca_key_path.is_file():
        raise FacecraftError(
            f"no local CA key ({ca_key_path}): this identity was made before the CA was kept, or is an "
            f"organisation's; move {cert_path.name} and {key_path.name} away to make a new local identity"
        )
    ca_cert, ca_key = load_chain(ca_cert_path)[0], load_key(ca_key_path)
    if not _same_key(ca_cert, ca_key):
        raise FacecraftError(f"the CA key {ca_key_path} does not belong to {ca_cert_path}")
    if cert_path.exists() and not _issued_by(load_chain(cert_path)[0], ca_cert):
        raise FacecraftError(
            f"{cert_path} was not issued by the local CA (an organisation's?); move it and "
            f"{key_path.name} away first to go back to the local signer"
        )
    key = load_key(key_path) if keep_key else ec.generate_private_key(ec.SECP256R1())
    keys.write_signer(cert_path, key_path, keys.issue_signer(ca_key, ca_cert, key), ca_cert, key)
    return _must(current_signer())


def use_org(cert_file: Path, key_file: Path) -> SignerInfo:
    """Check an organisation's certificate chain and key and copy them into the config folder as the signer
    (the local CA stays, so ``reissue`` can go back after the org files are moved away)."""
    from cryptography import x509

    chain, key = load_chain(cert_file), load_key(key_file)
    leaf = chain[0]
    if not _same_key(leaf, key):
        raise FacecraftError(f"the key {key_file} does not belong to the first certificate in {cert_file}")
    if leaf.subject == leaf.issuer:
        raise FacecraftError(
            f"{cert_file} starts with a self-signed certificate; C2PA validators reject those: "
            "use a certificate issued by a CA, followed by its chain"
        )
    now = dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise FacecraftError(
            f"the certificate in {cert_file} is not valid now (valid until {leaf.not_valid_after_utc:%Y-%m-%d})"
        )
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.digital_signature:
        raise FacecraftError(
            f"the certificate in {cert_file} does not allow digitalSignature; it cannot sign"
        )
    for child, parent in itertools.pairwise(chain):
        if not _issued_by(child, parent):
            raise FacecraftError(f"{cert_file}: each certificate must be followed by its issuer (PEM order)")
    folder = keys.make_config_dir()
    cert_path, key_path = folder / keys.CERT_FILE, folder / keys.KEY_FILE
    for p in (cert_path, key_path):  # the local signer is kept beside, not lost
        if p.exists():
            shutil.copy2(p, p.with_name(p.name + ".local"))
    keys.write_pem(key_path, _read(key_file, "the key file"), 0o600)
    keys.write_pem(cert_path, _read(cert_file, "the certificate file"), 0o644)
    return _must(current_signer())


def _must(info: SignerInfo | None) -> SignerInfo:
    if info is None:  # only when the files vanished under us
        raise FacecraftError(f"no signing identity in {keys.config_dir()}")
    return info
