"""``verify``: which of facecraft's labels a picture or video carries, and whether they are intact."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.media.image import read_image
from facecraft.media.inputs import media_kind
from facecraft.media.video import DecodeError, iter_frames, probe
from facecraft.provenance import watermark
from facecraft.provenance.manifest import ManifestReport, read_manifest
from facecraft.provenance.metadata import MetadataTags, read_tags
from facecraft.provenance.payload import TAG, content_id_of, format_content_id, make_payload, tag_of

VIDEO_SAMPLE_FRAMES = 16
_TAG_MAX_ERRORS = 2  # of the payload's 8 tag bits


@dataclass(frozen=True)
class WatermarkReport:
    found: bool
    score: float  # sync correlation z-score (noise stays below ~5; found from watermark.DETECTION_THRESHOLD)
    payload_hex: str
    content_id_hex: str
    tag_ok: bool
    bit_accuracy: float  # against the payload the manifest/metadata name, else against the 8 tag bits
    bit_accuracy_basis: str  # "manifest", "metadata" or "tag"
    frames: int
    earlier_content_ids: tuple[str, ...] = ()
    """Content ids of earlier facecraft watermarks the valid manifest says were taken out of the input (the
    input was itself a facecraft output); the watermark now carries only the output's own id."""


@dataclass(frozen=True)
class VerifyReport:
    path: Path
    kind: str  # "image" | "video"
    watermark: WatermarkReport
    manifest: ManifestReport
    metadata: MetadataTags

    @property
    def labelled(self) -> bool:
        """Any of the three labels was found."""
        return self.watermark.found or self.manifest.present or self.metadata.found

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "file": str(self.path),
            "kind": self.kind,
            "labelled": self.labelled,
            "watermark": asdict(self.watermark),
            "c2pa": {
                "present": m.present,
                "valid": m.valid,
                "trusted": m.trusted,
                "tampered": m.tampered,
                "state": m.state,
                "failures": list(m.failures),
                "digital_source_type": m.digital_source_type,
                "claim_generator": m.claim_generator,
                "facecraft": m.facecraft,
            },
            "metadata": asdict(self.metadata),
        }


def _sample_frames(path: Path) -> list[np.ndarray]:
    total = max(1, probe(path).frame_count)
    step = max(1, total // VIDEO_SAMPLE_FRAMES)
    frames: list[np.ndarray] = []
    try:
        for frame in iter_frames(path):
            if frame.index % step == 0:
                frames.append(frame.image)
    except DecodeError:
        pass  # use the frames before the damage
    if not frames:
        raise FacecraftError(f"{path} has no decodable video frames")
    return frames


def _watermark_report(frames: list[np.ndarray], expected: tuple[int, str] | None) -> WatermarkReport:
    det = watermark.detect(frames)
    tag_bits = watermark.payload_to_bits(TAG << 24)[:8]
    tag_errors = int(np.sum(det.bits[:8] != tag_bits))
    if expected is not None:
        truth = watermark.payload_to_bits(expected[0])
        accuracy, basis = float(np.mean(det.bits == truth)), expected[1]
    else:
        accuracy, basis = 1.0 - tag_errors / 8, "tag"
    found = det.score >= watermark.DETECTION_THRESHOLD and tag_errors <= _TAG_MAX_ERRORS
    return WatermarkReport(
        found,
        round(det.score, 2),
        f"{det.payload:08x}",
        format_content_id(content_id_of(det.payload)),
        tag_of(det.payload) == TAG,
        round(accuracy, 4),
        basis,
        det.frames,
    )


def _expected_payload(manifest: ManifestReport, tags: MetadataTags) -> tuple[int, str] | None:
    cid = (manifest.facecraft.get("watermark") or {}).get("content_id") if manifest.valid else None
    if cid:
        return make_payload(int(cid, 16)), "manifest"
    if tags.content_id_hex:
        return make_payload(int(tags.content_id_hex, 16)), "metadata"
    return None


def verify(path: str | Path) -> VerifyReport:
    """Look for facecraft's watermark, C2PA manifest and metadata tags in one image or video.

    Raises FacecraftError when the file is missing, of an unknown type, or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise FacecraftError(f"{path} does not exist")
    kind = media_kind(path)
    if kind is None:
        raise FacecraftError(f"{path} is not a video or photo (by its extension {path.suffix!r})")
    frames = _sample_frames(path) if kind == "video" else [read_image(path)]
    try:
        tags = read_tags(path, kind)
    except (OSError, av.error.FFmpegError, ValueError):
        tags = MetadataTags(False, "", None)
    manifest = read_manifest(path)
    report = _watermark_report(frames, _expected_payload(manifest, tags))
    earlier = (manifest.facecraft.get("watermark") or {}).get("replaces") if manifest.valid else None
    if earlier:
        report = replace(report, earlier_content_ids=tuple(str(c) for c in earlier))
    return VerifyReport(path, kind, report, manifest, tags)
