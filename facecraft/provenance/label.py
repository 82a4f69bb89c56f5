"""Labelling outputs in place: invisible watermark, signed C2PA manifest and metadata tags (and optionally
a visible label). Every step writes to a temporary file next to the output and renames it at the end.
"""

from __future__ import annotations

import math
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, PngImagePlugin

from facecraft.errors import FacecraftError
from facecraft.fileio import sha256_file
from facecraft.media.ffmpeg import remux_command
from facecraft.media.image import read_image
from facecraft.media.inputs import media_kind
from facecraft.media.video import iter_frames, probe
from facecraft.media.writer import VideoWriter
from facecraft.provenance import metadata, watermark
from facecraft.provenance.faces import DETECT_EVERY, STILL_SIDE, VIDEO_SIDE, FaceLocator
from facecraft.provenance.manifest import SOURCE_TYPES, ManifestInfo, mime_type, sign_into
from facecraft.provenance.payload import checked_content_id, format_content_id, make_payload, new_content_id
from facecraft.provenance.probe import MarkProbe
from facecraft.provenance.similarity import luma_ssim
from facecraft.provenance.store import keep_manifest
from facecraft.provenance.visible import draw_visible_label

ACTIONS = ("swap", "animate")
_RELABEL_CRF = 16  # quality of the re-encode when a finished video is labelled afterwards
KEY_ENV = "FACECRAFT_WATERMARK_KEY"
KEYED_SHARE = 0.75
"""With an organisation key, the keyed mark's share of the watermark's energy (the public one has the rest)."""
FACE_AWARE = True
"""Whether :class:`FrameLabeller` lowers the mark on faces by default (see :mod:`faces`)."""
MIN_SSIM = 0.9905
"""The SSIM (luma) a labelled frame keeps against the unlabelled one: where the mark would cost more, it is
weakened (at most to :data:`MIN_STRENGTH` of its strength). Checked every :data:`GUARD_EVERY` frames of a
size, the strength kept for the frames in between."""
MIN_STRENGTH = 0.7
GUARD_EVERY = 2 * DETECT_EVERY
"""A multiple of the face detection's cadence: a resumed swap's segments (50 frames) start on a check, so
they are labelled as an uninterrupted run is."""


def read_key(path: str | Path) -> bytes:
    """An organisation's watermark key from its file (at least 16 bytes; keep it secret)."""
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise FacecraftError(f"cannot read the watermark key {path}: {exc.strerror}") from None
    watermark.keyed_scheme(key)  # checks its length
    return key


def _key_from_env() -> bytes | None:
    path = os.environ.get(KEY_ENV)
    return read_key(path) if path else None


@dataclass
class FrameLabeller:
    """Labels frames while a stage writes them: watermark (and visible label) with one content id.

    Pass its ``content_id`` to :func:`label_video` so that the finished file is not decoded again.
    """

    visible_label: bool = False
    content_id: int = field(default_factory=new_content_id)
    config: watermark.WatermarkConfig = field(default_factory=watermark.WatermarkConfig)
    replace_existing: bool = True
    """When the frames already carry a facecraft watermark (the input was an earlier facecraft output), find
    it in the first frames of each size and take it out as the new one goes in (see
    :class:`watermark.MarkProbe`), so that the output's watermark reads as its own content id."""
    key: bytes | None = field(default_factory=_key_from_env, repr=False)
    """An organisation's secret (``$FACECRAFT_WATERMARK_KEY`` names its file): a second, keyed mark goes in
    with the public one, with :data:`KEYED_SHARE` of the energy (the same total change of the pixels)."""
    face_aware: bool = FACE_AWARE
    """Lower the mark inside an ellipse around each face to :data:`watermark.FACE_SHARE` (the rest of the
    frame raised to the same RMS change), faces found by YuNet every few frames (:mod:`faces`)."""
    face_side: int = VIDEO_SIDE
    """The long side frames are shrunk to for face detection (stills: :data:`faces.STILL_SIDE`)."""
    ssim_guard: bool = True
    """Weaken the mark where it would lower a frame's SSIM below :data:`MIN_SSIM` (see there)."""
    _probes: dict[tuple[int, int], MarkProbe] = field(default_factory=dict, init=False, repr=False)
    _strength: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict, init=False, repr=False)
    _last: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _faces: FaceLocator | None = field(default=None, init=False, repr=False)

    @property
    def replaced_content_ids(self) -> list[int]:
        """Content ids of the earlier facecraft watermarks found in the frames (and taken out)."""
        ids: set[int] = set()
        for p in self._probes.values():
            if p.found is not None:
                cid = (
                    checked_content_id(p.found.payload)
                    if p.found.scheme == watermark.PUBLIC
                    else p.found.payload & 0xFFFFFF
                )
                ids.add(int(cid or 0))
        return sorted(ids - {self.content_id})

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """A labelled copy of one BGR uint8 (H, W, 3) frame."""
        old = None
        if self.replace_existing:
            h, w = frame.shape[:2]
            probe = self._probes.get((w, h))
            if probe is None:
                configs = (self.config, watermark.WatermarkConfig(), watermark.IMAGE_CONFIG)
                probe = self._probes[(w, h)] = MarkProbe(w, h, configs)
            old = probe.update(frame)
        faces: tuple[watermark.FaceBox, ...] = ()
        if self.face_aware:
            if self._faces is None:
                self._faces = FaceLocator(side=self.face_side)
            faces = self._faces.boxes(frame)
        if self.visible_label:
            frame = draw_visible_label(frame)
        if not self.ssim_guard or old is not None:  # taking an earlier mark out changes more than this one
            return self._embed(frame, old, faces, 1.0)
        h, w = frame.shape[:2]
        count, strength = self._strength.get((w, h), (0, 1.0))
        previous = self._last.get((w, h))
        held = previous is not None and np.array_equal(previous, frame)  # a repeated frame stays identical
        self._last[(w, h)] = frame.copy()
        if count % GUARD_EVERY or held:
            self._strength[(w, h)] = (count + 1, strength)
            return self._embed(frame, old, faces, strength)
        marked = self._embed(frame, old, faces, 1.0)
        strength = 1.0
        score = luma_ssim(frame, marked)
        if score < MIN_SSIM:
            # SSIM's loss grows with the square of the change: aim a little above the floor.
            strength = max(MIN_STRENGTH, math.sqrt((1.0 - MIN_SSIM - 2e-4) / max(1.0 - score, 1e-9)))
            marked = self._embed(frame, old, faces, strength)
        self._strength[(w, h)] = (count + 1, strength)
        return marked

    def _embed(
        self,
        frame: np.ndarray,
        old: watermark.ExistingMark | None,
        faces: tuple[watermark.FaceBox, ...],
        strength: float,
    ) -> np.ndarray:
        payload = make_payload(self.content_id)
        a = self.config.amplitude * strength
        if self.key is None:
            config = replace(self.config, amplitude=max(0.5, a))
            return watermark.embed(frame, payload, config, replaces=old, faces=faces)
        public = replace(self.config, amplitude=max(0.5, a * math.sqrt(1 - KEYED_SHARE)))
        keyed = replace(self.config, amplitude=max(0.5, a * math.sqrt(KEYED_SHARE)))
        frame = watermark.embed(frame, payload, public, replaces=old, faces=faces)
        return watermark.embed(frame, payload, keyed, scheme=watermark.keyed_scheme(self.key), faces=faces)


def _manifest_info(
    action: str,
    inputs: list[Path],
    consent: Path | None,
    visible: bool,
    cid: int,
    replaced: Sequence[int] = (),
) -> ManifestInfo:
    if action not in ACTIONS:
        raise FacecraftError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    for p in [*inputs, *([consent] if consent else [])]:
        if not Path(p).is_file():
            raise FacecraftError(f"{p} does not exist; inputs and the consent record must be readable files")
    media = [Path(p) for p in inputs if media_kind(Path(p))]
    relationship = "parentOf" if action == "swap" else "inputTo"
    return ManifestInfo(
        action,
        tuple((Path(p).name, sha256_file(Path(p))) for p in inputs),
        format_content_id(cid),
        sha256_file(Path(consent)) if consent else None,
        visible,
        tuple(format_content_id(r) for r in sorted(set(replaced)) if r != cid),
        tuple(
            (p, relationship if i == 0 or action != "swap" else "componentOf") for i, p in enumerate(media)
        ),
        make_payload(cid),
    )


def _temp(path: Path, step: str) -> Path:
    return path.with_name(f".{path.stem}.{step}{path.suffix}")


def _sign_and_replace(unsigned: Path, path: Path, info: ManifestInfo) -> None:
    """Sign ``unsigned`` into ``path`` and keep the manifest in the stores (by content id)."""
    signed = _temp(path, "signed")
    try:
        manifest = sign_into(unsigned, signed, info, path.name)
        os.replace(signed, path)
    finally:
        signed.unlink(missing_ok=True)
        if unsigned != path:
            unsigned.unlink(missing_ok=True)
    summary = {
        "title": path.name,
        "action": info.action,
        "digital_source_type": SOURCE_TYPES[info.action],
        "content_id": info.content_id_hex,
        "inputs": [{"name": n, "sha256": h} for n, h in info.inputs],
        "consent_sha256": info.consent_sha256,
        "output_sha256": sha256_file(path),
    }
    keep_manifest(info.content_id_hex, manifest, summary)


def label_video(
    path: Path,
    action: str,
    inputs: list[Path],
    consent: Path | None = None,
    visible_label: bool = False,
    content_id: int | None = None,
    replaced: Sequence[int] = (),
) -> None:
    """Label an MP4 in place.

    Without ``content_id`` the video is decoded, watermarked (and visibly labelled) frame by frame and
    re-encoded at CRF 16 with its audio. With the ``content_id`` of a :class:`FrameLabeller` that already
    labelled the frames, only the metadata tags and the manifest are added (a stream copy, no re-encode).
    ``replaced``: the labeller's :attr:`FrameLabeller.replaced_content_ids` (recorded in the manifest).
    """
    path = Path(path)
    mime_type(path)  # fail early on a container we cannot sign
    cid = new_content_id() if content_id is None else content_id
    _manifest_info(action, [Path(p) for p in inputs], consent, visible_label, cid)  # check the request
    tags = metadata.video_tags(action, format_content_id(cid))
    unsigned = _temp(path, "labelled")
    if content_id is None:
        src = probe(path)
        labeller = FrameLabeller(visible_label, cid)
        writer = VideoWriter(
            unsigned,
            src.width,
            src.height,
            src.fps,
            crf=_RELABEL_CRF,
            audio_from=path if src.has_audio else None,
            metadata=tags,
        )
        with writer:
            for frame in iter_frames(path):
                writer.write(labeller.apply(frame.image))
        replaced = labeller.replaced_content_ids
    else:
        proc = subprocess.run(remux_command(path, unsigned, tags), capture_output=True, text=True)
        if proc.returncode != 0:
            unsigned.unlink(missing_ok=True)
            raise FacecraftError(f"ffmpeg could not add metadata to {path}: {proc.stderr.strip()[-300:]}")
    info = _manifest_info(action, [Path(p) for p in inputs], consent, visible_label, cid, replaced)
    _sign_and_replace(unsigned, path, info)


def _write_image(image: np.ndarray, dest: Path, fmt_ext: str, action: str, cid_hex: str) -> None:
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    if fmt_ext == ".png":
        chunks = PngImagePlugin.PngInfo()
        for key, value in metadata.png_text_chunks(action, cid_hex).items():
            chunks.add_text(key, value)
        chunks.add_itxt("XML:com.adobe.xmp", metadata.xmp_packet(SOURCE_TYPES[action]))
        rgb.save(dest, format="PNG", pnginfo=chunks)
    elif fmt_ext in (".jpg", ".jpeg"):
        rgb.save(
            dest,
            format="JPEG",
            quality=95,
            comment=metadata.tag_text(action, cid_hex).encode(),
            xmp=metadata.xmp_packet(SOURCE_TYPES[action]).encode(),
        )
    else:
        raise FacecraftError(f"cannot label {dest.suffix} images; write the output as .png or .jpg")


def label_image(
    path: Path,
    action: str,
    inputs: list[Path],
    consent: Path | None = None,
    visible_label: bool = False,
    content_id: int | None = None,
    replaced: Sequence[int] = (),
) -> None:
    """Label a PNG or JPEG in place (the pixels are watermarked and the file is re-written).

    ``content_id``: set when the pixels were already labelled by a :class:`FrameLabeller` (and ``replaced``
    its :attr:`FrameLabeller.replaced_content_ids`).
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".png", ".jpg", ".jpeg"):
        raise FacecraftError(f"cannot label {path.suffix} images; write the output as .png or .jpg")
    cid = new_content_id() if content_id is None else content_id
    _manifest_info(action, [Path(p) for p in inputs], consent, visible_label, cid)  # check the request
    image = read_image(path)
    if content_id is None:
        labeller = FrameLabeller(visible_label, cid, watermark.IMAGE_CONFIG, face_side=STILL_SIDE)
        image = labeller.apply(image)
        replaced = labeller.replaced_content_ids
    info = _manifest_info(action, [Path(p) for p in inputs], consent, visible_label, cid, replaced)
    unsigned = _temp(path, "labelled")
    _write_image(image, unsigned, ext, action, format_content_id(cid))
    _sign_and_replace(unsigned, path, info)


def label_file(
    path: Path,
    action: str,
    inputs: list[Path],
    consent: Path | None = None,
    visible_label: bool = False,
    content_id: int | None = None,
    replaced: Sequence[int] = (),
) -> None:
    """:func:`label_video` or :func:`label_image`, by the file's extension."""
    path = Path(path)
    if mime_type(path).startswith("video/"):
        label_video(path, action, inputs, consent, visible_label, content_id, replaced)
    else:
        label_image(path, action, inputs, consent, visible_label, content_id, replaced)
