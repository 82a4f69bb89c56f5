"""``verify``: is a picture or video labelled as AI-generated, and by what evidence.

The verdict rests on evidence only (docs/responsible-use.md):

- AI_GENERATED (exit 0): facecraft's watermark with a content id whose check bits match, or a valid C2PA
  manifest (signature and bindings intact) whose actions declare an AI digital source type;
- INCONCLUSIVE (exit 3): a facecraft mark whose id cannot be read (only its sync is certain) or that is in
  the older format without check bits, or a manifest that declares AI but is broken or tampered with;
- NO_EVIDENCE (exit 1): none of that. A manifest that declares a camera capture, or metadata text that
  mentions AI (either way), is reported as what it is and does not change the verdict.
"""

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
from facecraft.provenance.detect import PALETTE_BLUR_WIDE, Detection, detect, undither
from facecraft.provenance.manifest import ManifestReport, read_manifest, short_source_type
from facecraft.provenance.metadata import MetadataTags, read_tags
from facecraft.provenance.payload import format_content_id
from facecraft.provenance.store import StoredManifest, find_manifest

VIDEO_SAMPLE_FRAMES = 16
AI_GENERATED, NO_EVIDENCE, INCONCLUSIVE = "AI-generated", "no evidence of AI generation", "inconclusive"
EXIT_CODES = {AI_GENERATED: 0, NO_EVIDENCE: 1, INCONCLUSIVE: 3}
"""verify's exit code per verdict; 2 is a file that cannot be read (or another user error)."""


@dataclass(frozen=True)
class WatermarkReport:
    found: bool  # a facecraft mark whose content id's check bits match
    mark: bool  # a facecraft mark is there, its id confirmed or not
    score: float  # sync correlation z-score (see detect.ID_THRESHOLD and detect.SYNC_THRESHOLD)
    content_id_hex: str | None  # the confirmed id
    unconfirmed_id_hex: str | None  # an id in the older format, which has no check bits
    format: str  # the pattern family: facecraft-ss-v2, facecraft-ss-v1 (older outputs) or facecraft-keyed-v2
    geometry: str  # how the picture was found changed: mirrored, turned, rotated, squashed
    frames: int
    payload_hex: str = ""  # the confirmed payload (id and check bits), "" unless found
    matches_manifest: bool | None = None  # the confirmed id is the one the valid manifest names
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
    keyed: WatermarkReport | None = None  # the organisation's keyed mark, when verify was given its key
    stored: StoredManifest | None = None  # credentials recovered from a manifest store by watermark id

    @property
    def verdict(self) -> str:
        marks = [w for w in (self.watermark, self.keyed) if w is not None]
        m = self.manifest
        if any(w.found for w in marks) or (m.valid and m.ai_declared):
            return AI_GENERATED
        if any(w.mark for w in marks) or (m.tampered and m.ai_declared):
            return INCONCLUSIVE
        return NO_EVIDENCE

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def labelled(self) -> bool:
        """The evidence says AI-generated (see :attr:`verdict`)."""
        return self.verdict == AI_GENERATED

    def reasons(self) -> list[str]:
        """One line per piece of evidence, for and against, in plain words."""
        out: list[str] = []
        for w in (self.watermark, self.keyed):
            if w is None:
                continue
            who = "organisation's keyed" if w.format.startswith("facecraft-keyed") else "facecraft"
            if w.found:
                out.append(f"{who} watermark with content id {w.content_id_hex} (check bits match)")
            elif w.mark and w.unconfirmed_id_hex:
                out.append(
                    f"{who} watermark in the older format, id {w.unconfirmed_id_hex} unconfirmed (no check bits)"
                )
            elif w.mark:
                out.append(f"a {who} watermark of unknown id (its sync is certain, its payload unreadable)")
        m = self.manifest
        if m.present and m.valid:
            source = ", ".join(short_source_type(s) for s in m.source_types) or "no digital source type"
            out.append(f"content credentials: {source}, signed by {m.signer or 'an unnamed signer'}")
        elif m.present:
            claim = " (it claims AI generation)" if m.ai_declared else ""
            out.append(f"content credentials present but broken or tampered with{claim}: not evidence")
        if self.stored is not None:
            out.append(f"credentials recovered from {self.stored.path} by the watermark's content id")
        if self.metadata.found:
            kind = "a facecraft tag" if self.metadata.content_id_hex else "text that mentions AI"
            out.append(f"metadata has {kind}: {self.metadata.text[:80]!r}; metadata is not evidence")
        return out

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "file": str(self.path),
            "kind": self.kind,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "reasons": self.reasons(),
            "labelled": self.labelled,
            "watermark": asdict(self.watermark),
            "keyed_watermark": asdict(self.keyed) if self.keyed else None,
            "c2pa": {
                "present": m.present,
                "valid": m.valid,
                "trusted": m.trusted,
                "tampered": m.tampered,
                "state": m.state,
                "failures": list(m.failures),
                "digital_source_type": m.digital_source_type,  # the first (kept for older readers)
                "digital_source_types": list(m.source_types),
                "ai_declared": m.ai_declared,
                "signer": m.signer,
                "claim_generator": m.claim_generator,
                "facecraft": m.facecraft,
            },
            "stored_manifest": self.stored.to_json() if self.stored else None,
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


def _public_mark(frames: list[np.ndarray], palette: bool) -> Detection:
    """The public mark in ``frames``. A palette file's (GIF's) frames are smoothed first (its dither hides
    the mark, see detect.undither), and smoothed more for a second look when the first read no id."""
    if not palette:
        return detect(frames)
    first = detect([undither(f) for f in frames])
    if first.content_id is not None:
        return first
    second = detect([undither(f, PALETTE_BLUR_WIDE) for f in frames])
    return second if second.content_id is not None else first


def watermark_report(det: Detection) -> WatermarkReport:
    return WatermarkReport(
        det.found,
        det.mark,
        round(det.score, 2),
        format_content_id(det.content_id) if det.content_id is not None else None,
        format_content_id(det.legacy_id) if det.legacy_id is not None and det.mark else None,
        det.scheme,
        det.geometry,
        det.frames,
        f"{det.payload:010x}" if det.found else "",
    )


def verify(
    path: str | Path,
    key: bytes | None = None,
    stores: tuple[Path, ...] | None = None,
) -> VerifyReport:
    """Look for facecraft's watermark, C2PA credentials and metadata tags in one image or video.

    ``key``: an organisation's watermark key (its keyed mark is looked for too). ``stores``: manifest stores
    to recover credentials from by the watermark's id when the file carries none (default: the local one
    and ``$FACECRAFT_MANIFEST_STORE``). Raises FacecraftError when the file is missing, of an unknown type
    or unreadable.
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
    palette = path.suffix.lower() == ".gif"
    report = watermark_report(_public_mark(frames, palette))
    keyed = None
    if key:
        smoothed = [undither(f) for f in frames] if palette else frames
        keyed = watermark_report(detect(smoothed, scheme=watermark.keyed_scheme(key)))
    data = (manifest.facecraft.get("watermark") or {}) if manifest.valid else {}
    if report.found and data.get("content_id"):
        report = replace(report, matches_manifest=data["content_id"] == report.content_id_hex)
    if data.get("replaces"):
        report = replace(report, earlier_content_ids=tuple(str(c) for c in data["replaces"]))
    stored = None
    if not manifest.present:
        for w in (report, keyed):
            if w is not None and w.found and w.content_id_hex and stored is None:
                stored = find_manifest(w.content_id_hex, stores)
    return VerifyReport(path, kind, report, manifest, tags, keyed, stored)
