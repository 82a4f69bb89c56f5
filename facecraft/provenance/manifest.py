"""C2PA content credentials: build, sign and embed a manifest; read and validate one.

The manifest says the content was made by AI (IPTC digital source type), by which tool and version, with
which action (swap / animate), from which inputs (sha256), under which consent record (sha256), and which
watermark payload the pixels carry. It is signed with the identity from :mod:`facecraft.provenance.keys`;
its hard binding (a hash of the file's bytes, for MP4 the BMFF boxes) breaks when the frames are edited.
"""

from __future__ import annotations

import base64
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
AI_SOURCE_TYPES = frozenset(
    IPTC + name
    for name in (
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
    )
)
"""IPTC digital source types that declare content made (wholly or in part) by a generative algorithm."""
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
    inputs: tuple[tuple[str, str], ...]  # (file name, sha256): the media, the model's weights, ...
    content_id_hex: str  # the watermark's content id
    consent_sha256: str | None = None
    visible_label: bool = False
    replaced_content_ids: tuple[str, ...] = ()  # earlier facecraft watermarks taken out of the input's pixels
    ingredients: tuple[tuple[Path, str], ...] = ()
    """(file, relationship) of the input media: ``parentOf`` for the picture a swap edited, ``inputTo`` for
    the portrait and driving video of an animation. C2PA hashes them, and keeps their own credentials."""
    payload: int = 0  # the watermark's whole payload (the soft binding's value)

    def __post_init__(self) -> None:
        if self.action not in SOURCE_TYPES:
            raise FacecraftError(f"unknown action {self.action!r}; use one of {', '.join(SOURCE_TYPES)}")


SOFT_BINDING_ALG = "org.facecraft.watermark.v2"
"""The soft binding's algorithm name (facecraft's own; not in the C2PA soft-binding registry)."""


def _actions(info: ManifestInfo, agent: dict[str, str]) -> list[dict[str, Any]]:
    ai = {
        "digitalSourceType": SOURCE_TYPES[info.action],
        "softwareAgent": agent,
        "description": f"facecraft {info.action}",
    }
    parents = [i for i, (_, rel) in enumerate(info.ingredients) if rel == "parentOf"]
    if parents:
        # An edit of an existing picture: it was opened, then a face in it replaced.
        opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": [f"ingredient{parents[0]}"]}}
        return [opened, {"action": "c2pa.edited", **ai}]
    return [{"action": "c2pa.created", **ai}]


def manifest_json(info: ManifestInfo, title: str) -> dict[str, Any]:
    """The manifest definition handed to the C2PA builder."""
    agent = {"name": "facecraft", "version": __version__}
    payload = info.payload.to_bytes(5, "big")
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": _actions(info, agent)}},
            {
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": SOFT_BINDING_ALG,
                    "blocks": [{"scope": {}, "value": base64.b64encode(payload).decode()}],
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
                        "method": SOFT_BINDING_ALG,
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


def sign_into(source: Path, dest: Path, info: ManifestInfo, title: str) -> bytes:
    """Write ``source`` with an embedded, signed manifest to ``dest`` (both of the same format); returns the
    signed manifest store (for :mod:`store`)."""
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
        for i, (path, relationship) in enumerate(info.ingredients):
            fmt = MIME_TYPES.get(path.suffix.lower())
            if fmt is None:
                continue  # a format C2PA cannot read: it stays in the inputs list with its sha256
            with path.open("rb") as stream:
                entry = {"title": path.name, "relationship": relationship, "label": f"ingredient{i}"}
                builder.add_ingredient(entry, fmt, stream)
        with source.open("rb") as src, dest.open("w+b") as dst:
            return bytes(builder.sign(signer, mime, src, dst))
    except c2pa.C2paError as exc:
        raise FacecraftError(
            f"could not sign content credentials into {dest.name} ({exc}); check the key and certificate in "
            f"{identity.cert_path.parent}"
        ) from None


def short_source_type(uri: str) -> str:
    """``trainedAlgorithmicMedia`` for the IPTC URI (any other text as it is)."""
    return uri.rsplit("/", 1)[-1] if uri.startswith(IPTC) else uri


@dataclass(frozen=True)
class ManifestReport:
    """A manifest as found in a file. ``state``: "Valid"/"Trusted" when intact, "Invalid" when not."""

    present: bool
    state: str = ""
    valid: bool = False  # signature and hash bindings intact
    trusted: bool = False  # signed by a certificate on a configured trust list
    failures: tuple[str, ...] = ()  # C2PA failure codes (e.g. assertion.bmffHash.mismatch)
    source_types: tuple[str, ...] = ()  # every digital source type the active manifest's actions declare
    facecraft: dict[str, Any] = field(default_factory=dict)  # our assertion's data
    claim_generator: str = ""
    error: str = ""
    signer: str = ""  # the signing certificate's common name / organisation, as the manifest gives them

    @property
    def tampered(self) -> bool:
        return self.present and not self.valid

    @property
    def ai_declared(self) -> bool:
        """An action declares an AI digital source type (evidence only when :attr:`valid`)."""
        return any(t in AI_SOURCE_TYPES for t in self.source_types)

    @property
    def digital_source_type(self) -> str | None:
        """The first declared digital source type."""
        return self.source_types[0] if self.source_types else None


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
    actions = [
        a
        for label in ("c2pa.actions.v2", "c2pa.actions")
        for a in (assertions.get(label) or {}).get("actions", [])
        if isinstance(a, dict)
    ]
    source_types = tuple(
        dict.fromkeys(str(a["digitalSourceType"]) for a in actions if a.get("digitalSourceType"))
    )
    info = active.get("signature_info") or {}
    signer = ", ".join(str(info[k]) for k in ("common_name", "issuer") if info.get(k))
    generator = ", ".join(
        f"{g.get('name')} {g.get('version', '')}".strip() for g in active.get("claim_generator_info", [])
    )
    # An unknown signer (facecraft's own local certificate) is a matter of trust, not of integrity.
    broken = tuple(c for c in failures if c not in UNTRUSTED_CODES)
    valid = state in ("Valid", "Trusted") and not broken
    trusted = state == "Trusted" and not failures
    return ManifestReport(
        True,
        state,
        valid,
        trusted,
        failures,
        source_types,
        assertions.get(ASSERTION, {}),
        generator,
        signer=signer,
    )
