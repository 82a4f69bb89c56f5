"""C2PA content credentials: build, sign and embed a manifest; read and validate one.

The manifest says the content was made by AI (IPTC digital source type), by which tool and version, with
which action (swap / animate), from which inputs (sha256), under which consent record (sha256), and which
watermark payload the pixels carry. It is signed with the identity from :mod:`facecraft.provenance.keys`;
its hard binding (a hash of the file's bytes, for MP4 the BMFF boxes) breaks when the frames are edited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.provenance.keys import signing_identity
from facecraft.version import __version__

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_TYPES = {
    "swap": IPTC + "compositeWithTrainedAlgorithmicMedia",  # a real picture with an AI-made face in it
    "animate": IPTC + "trainedAlgorithmicMedia",  # every frame generated
}
ASSERTION = "org.facecraft.provenance"
UNTRUSTED_CODES = frozenset({"signingCredential.untrusted"})
MIME_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


def mime_type(path: Path) -> str:
    try:
        return MIME_TYPES[path.suffix.lower()]
    except KeyError:
        raise FacecraftError(
            f"cannot embed content credentials in {path.name}: use one of {', '.join(sorted(MIME_TYPES))}"
        ) from None


@dataclass(frozen=True)
class ManifestInfo:
    """What the manifest records about one output."""

    action: str  # "swap" | "animate"
    inputs: tuple[tuple[str, str], ...]  # (file name, sha256)
    content_id_hex: str  # the watermark's content id
    consent_sha256: str | None = None
    visible_label: bool = False
    replaced_content_ids: tuple[str, ...] = ()  # earlier facecraft watermarks taken out of the input's pixels

    def __post_init__(self) -> None:
        if self.action not in SOURCE_TYPES:
            raise FacecraftError(f"unknown action {self.action!r}; use one of {', '.join(SOURCE_TYPES)}")


def manifest_json(info: ManifestInfo, title: str) -> dict[str, Any]:
    """The manifest definition handed to the C2PA builder."""
    agent = {"name": "facecraft", "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": SOURCE_TYPES[info.action],
                            "softwareAgent": agent,
                            "description": f"facecraft {info.action}",
                        }
                    ]
                },
            },
            {
                "label": ASSERTION,
                "data": {
                    "ai_generated": True,
                    "action": info.action,
                    "inputs": [{"name": n, "sha256": h} for n, h in info.inputs],
                    "consent_sha256": info.consent_sha256,
                    "watermark": {
                        "method": "facecraft-ss-v1",
                        "content_id": info.content_id_hex,
                        **(
                            {"replaces": list(info.replaced_content_ids)} if info.replaced_content_ids else {}
                        ),
                    },
                    "visible_label": info.visible_label,
                },
            },
        ],
    }


def sign_into(source: Path, dest: Path, info: ManifestInfo, title: str) -> None:
    """Write ``source`` with an embedded, signed manifest to ``dest`` (both of the same format)."""
    import c2pa

    identity = signing_identity()
    mime = mime_type(dest)
    try:
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(
                c2pa.C2paSigningAlg.ES256, identity.cert_chain_pem, identity.private_key_pem, None
            )
        )
        builder = c2pa.Builder(json.dumps(manifest_json(info, title)))
        with source.open("rb") as src, dest.open("w+b") as dst:
            builder.sign(signer, mime, src, dst)
    except c2pa.C2paError as exc:
        raise FacecraftError(
            f"could not sign content credentials into {dest.name} ({exc}); check the key and certificate in "
            f"{identity.cert_path.parent}"
        ) from None


@dataclass(frozen=True)
class ManifestReport:
    """A manifest as found in a file. ``state``: "Valid"/"Trusted" when intact, "Invalid" when not."""

    present: bool
    state: str = ""
    valid: bool = False  # signature and hash bindings intact
    trusted: bool = False  # signed by a certificate on a configured trust list
    failures: tuple[str, ...] = ()  # C2PA failure codes (e.g. assertion.bmffHash.mismatch)
    digital_source_type: str | None = None
    facecraft: dict[str, Any] = field(default_factory=dict)  # our assertion's data
    claim_generator: str = ""
    error: str = ""

    @property
    def tampered(self) -> bool:
        return self.present and not self.valid


def _failure_codes(results: dict[str, Any] | None) -> tuple[str, ...]:
    if not results:
        return ()
    codes: list[str] = []
    for part in ("activeManifest", *results.keys()):
        node = results.get(part)
        if isinstance(node, dict):
            codes += [f["code"] for f in node.get("failure", []) if isinstance(f, dict) and "code" in f]
    return tuple(dict.fromkeys(codes))


def read_manifest(path: Path) -> ManifestReport:
    """Read and validate the active C2PA manifest of ``path``; ``present=False`` when there is none."""
    import c2pa

    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        return ManifestReport(False)
    try:
        with path.open("rb") as f, c2pa.Reader(mime, f) as reader:
            state = reader.get_validation_state() or ""
            failures = _failure_codes(reader.get_validation_results())
            active = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "not found" in text.lower() or "JumbfNotFound" in text:
            return ManifestReport(False)
        # A manifest whose structure or bindings are broken cannot even be opened: that is tampering.
        return ManifestReport(True, "Invalid", False, False, (type(exc).__name__,), error=text)
    assertions = {a.get("label"): a.get("data", {}) for a in active.get("assertions", [])}
    actions = assertions.get("c2pa.actions.v2", {}).get("actions", [])
    source_type = next((a.get("digitalSourceType") for a in actions if a.get("digitalSourceType")), None)
    generator = ", ".join(
        f"{g.get('name')} {g.get('version', '')}".strip() for g in active.get("claim_generator_info", [])
    )
    # An unknown signer (facecraft's own local certificate) is a matter of trust, not of integrity.
    broken = tuple(c for c in failures if c not in UNTRUSTED_CODES)
    valid = state in ("Valid", "Trusted") and not broken
    trusted = state == "Trusted" and not failures
    return ManifestReport(
        True, state, valid, trusted, failures, source_type, assertions.get(ASSERTION, {}), generator
    )
