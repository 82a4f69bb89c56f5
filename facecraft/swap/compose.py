"""Compositing the generated faces of one frame: mask, colour, blend — pure given the colour history.

:class:`Compositor` holds the chosen methods and the per-track running colour statistics (plain data,
saved with each checkpoint so a resumed swap continues exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from facecraft.face.regions import oval_width, region
from facecraft.swap.blend import get_blend
from facecraft.swap.blinks import blink_keep_mask
from facecraft.swap.color import ColorTransfer, get_color
from facecraft.swap.config import SwapConfig
from facecraft.swap.exemplars import ExemplarDetail
from facecraft.swap.forehead import forehead_mask
from facecraft.swap.lips import keep_closed_lips, lip_tone
from facecraft.swap.mask import get_mask
from facecraft.swap.mask.refine import EYES, MOUTH, erode_dilate, feather, keep_regions, skin_mask
from facecraft.swap.parsing import PARSE_SIZE, FaceRegions, ParsedFace
from facecraft.swap.paste import paste_face
from facecraft.swap.shading import match_shading

STATS_SIDE = 128  # colour statistics are taken on about this many pixels per side of the aligned face
DEFAULT_FEATHER = 0.06  # share of the face width softened at the mask edge when --feather is not given


@dataclass(frozen=True)
class TargetFace:
    """A face to replace: its track, the frame -> aligned affine (2, 3), the aligned crop (S, S, 3) BGR uint8
    and the aligned landmarks (478, 2) in aligned pixels (smoothed along the track in a video); ``eyes_closed``:
    how closed each eye is in this frame (see :func:`~facecraft.swap.blinks.eyes_closed`; None: from the
    landmarks); ``lip_gap``: the lips' gap in this frame (see :func:`~facecraft.swap.lips.lip_gap`; None: from the
    landmarks)."""

    track_id: int
    affine: np.ndarray
    aligned: np.ndarray
    aligned_landmarks: np.ndarray
    eyes_closed: tuple[float, float] | None = None
    lip_gap: float | None = None


class ColorTracks:
    """Running averages of the target's colour statistics, one per track.

    Only the target side is averaged: each generated face is mapped from its own statistics to the
    smoothed target ones, so the output skin takes the same slowly changing tone in every frame, whatever
    the model's frame-to-frame variations. ``weight`` is the share of the past in each update (an
    exponential moving average over frames).
    """

    def __init__(self, weight: float, state: dict[str, Any] | None = None):
        self.weight = weight
        self.stats: dict[int, np.ndarray] = {
            int(k): np.array(v, np.float64) for k, v in (state or {}).items()
        }

    def update(self, track_id: int, target: np.ndarray) -> np.ndarray:
        """Fold this frame's ``target`` statistics into the track's average and return the average."""
        old = self.stats.get(track_id)
        if old is not None and old.shape == target.shape:
            target = self.weight * old + (1 - self.weight) * target
        self.stats[track_id] = target
        return target

    def to_json(self) -> dict[str, Any]:
        return {str(k): v.tolist() for k, v in self.stats.items()}


PARSE_EVERY = 2
"""A video's faces are parsed on every this-many frames and keep their parse in between (aligned pixels
move with the face), unless the face's outline moved more than :data:`PARSE_MOTION` since. The parser was ~45 %
of the 512x512 swap's time on the 2-core CPU."""
SEEN_NONE, SEEN_FULL = 0.2, 0.5
"""Where the source person's face was seen in fewer than SEEN_NONE of their training faces (a fringe over the
forehead, hair over a brow), the model never learned to draw it and the target's own pixels stay; from
SEEN_FULL on the model's face is pasted in full (see :func:`seen_weight`)."""
PARSE_MOTION = 0.004
"""Largest mean movement of the face outline (share of the aligned size) for which a parse is kept a frame:
a fast turn changes the outline's shape in aligned pixels, and a parse a frame old showed a strip of the
target's cheek there. Every 5th frame with this gate was tried: 2.3x faster than every frame (every other
frame: 1.6x), but a hand or microphone moving over the face would keep its old place for up to 4 frames
(the gate sees only the face), and the match on the benchmark fell 95.1 -> 94.3 %."""


class Compositor:
    """Turns (target face, generated face, learned mask) into pixels of the output frame."""

    def __init__(
        self,
        config: SwapConfig,
        color_state: dict[str, Any] | None = None,
        regions: FaceRegions | None = None,
        device: str = "cpu",
        exemplars: ExemplarDetail | None = None,
        seen: np.ndarray | None = None,
        forehead: np.ndarray | None = None,
    ):
        """``device``: where the face parser runs (the
        model's device: on a GPU it is no longer the per-frame bottleneck). ``exemplars``: the source
        person's faces that lend their fine detail (swap.exemplars); None: none. ``seen``: where the source's
        face was seen in training (:attr:`ExemplarBank.seen`); None: everywhere. ``forehead``: where the
        source's forehead was bare skin above the face oval (swap.forehead.source_forehead); None: the parse
        mask stops at the oval."""
        self.config = config
        self.seen = seen
        self._seen_at: dict[int, np.ndarray] = {}
        self.forehead = forehead
        self._forehead_at: dict[int, np.ndarray] = {}
        self.color: ColorTransfer = get_color(config.color)
        self.blender = get_blend(config.blend)
        self.mask_method = get_mask(config.resolved_mask())
        self.colors = ColorTracks(config.color_smoothing, color_state)
        self.regions = regions
        self.exemplars = exemplars
        self._parses: dict[int, tuple[int, ParsedFace, np.ndarray]] = {}  # track -> (index, parse, landmarks)
        self.lip_tone: np.ndarray | None = None
        if config.keep_lips and exemplars is not None:
            bank = exemplars.bank
            skins = [skin_mask(lm, bank.size) for lm in bank.landmarks]
            self.lip_tone = lip_tone(bank.images, bank.landmarks, skins)
        if self.mask_method.needs_parser and regions is None:
            self.regions = load_regions(config, device)

    def face_mask(
        self, target: TargetFace, learned: np.ndarray | None, parsed: ParsedFace | None = None
    ) -> np.ndarray:
        """The (S, S) float32 mask in 0..1 of one face, in aligned pixels."""
        cfg = self.config
        size = target.aligned.shape[0]
        lm = target.aligned_landmarks
        # The learned mask is not folded into the parse mask: tried on a 500-step lite model, for a target
        # who wears glasses the model copied her glasses into its mask and her own eyes stayed.
        parsed_face = parsed.face if parsed is not None else None
        mask = self.mask_method.make(lm, learned, size, parsed_face)
        if parsed_face is not None and self.mask_method.needs_parser and self.forehead is not None:
            mask = np.maximum(mask, forehead_mask(lm, self._source_forehead(size), parsed_face))
        kept = (EYES if cfg.keep_eyes else ()) + (MOUTH if cfg.keep_mouth else ())
        mask = keep_regions(mask, lm, kept)
        scale = float(np.sqrt(abs(np.linalg.det(target.affine[:, :2]))))  # aligned px per frame px
        mask = erode_dilate(mask, (cfg.dilate - cfg.erode) * scale)
        width = oval_width(lm)
        feather_px = DEFAULT_FEATHER * width if cfg.feather < 0 else cfg.feather * scale
        mask = feather(mask, feather_px)
        if parsed_face is not None and self.mask_method.needs_parser:
            # Hair strands and glasses frames over the face keep their own crisp edges: the feathering is for
            # the seam at the face outline, not for them.
            mask = mask * np.clip(parsed_face, 0.0, 1.0)
        if self.seen is not None:
            mask = mask * self._seen_weight(size)
        if cfg.keep_blinks and not cfg.keep_eyes:
            mask = mask * (1.0 - blink_keep_mask(lm, size, target.eyes_closed))
        return mask

    def _seen_weight(self, size: int) -> np.ndarray:
        if size not in self._seen_at:
            assert self.seen is not None
            self._seen_at[size] = seen_weight(self.seen, size)
        return self._seen_at[size]

    def _source_forehead(self, size: int) -> np.ndarray:
        if size not in self._forehead_at:
            assert self.forehead is not None
            self._forehead_at[size] = cv2.resize(self.forehead, (size, size), interpolation=cv2.INTER_AREA)
        return self._forehead_at[size]

    def recolour(self, target: TargetFace, generated: np.ndarray, skin: np.ndarray) -> np.ndarray:
        """``generated`` (S, S, 3) BGR uint8 with the tone of the target's skin (``skin``: the target's
        landmark skin mask), smoothed along its track."""
        size = target.aligned.shape[0]
        stride = max(1, size // STATS_SIDE)  # statistics need thousands of pixels, not all of them
        source = self.color.measure(generated, skin, stride)
        dest = self.color.measure(target.aligned, skin, stride)
        if source is None or dest is None:
            return generated
        dest = self.colors.update(target.track_id, dest)
        return self.color.transfer(generated, source, dest)

    def composite(
        self,
        frame: np.ndarray,
        targets: list[TargetFace],
        generated: np.ndarray,
        learned: np.ndarray,
        index: int | None = None,
        parses: list[ParsedFace] | None = None,
    ) -> np.ndarray:
        """A copy of ``frame`` with each target replaced by its ``generated`` face (N, S, S, 3) under a mask
        built from ``learned`` (N, S, S). Faces are pasted in order; pixels outside every mask are unchanged.
        ``index``: the frame's index in its video (the parser then reads each track every
        :data:`PARSE_EVERY` frames); None for a photo. ``parses``: :meth:`parse`'s answer for this frame when
        it was computed ahead (a video's parse stage); None: parsed here when the mask needs it."""
        out = frame.copy()
        parsed: list[ParsedFace | None] = [None] * len(targets)
        if parses is not None:
            parsed = list(parses)
        elif self.regions is not None and targets:
            parsed = list(self._parsed(frame, targets, index))
        for i, target in enumerate(targets):
            skin = skin_mask(target.aligned_landmarks, target.aligned.shape[0])
            face = self.recolour(target, generated[i], skin)
            if self.config.shading > 0:
                width = oval_width(target.aligned_landmarks)
                face = match_shading(face, target.aligned, skin, width, self.config.shading)
            if self.exemplars is not None:
                face = self.exemplars.apply(target.track_id, face, target.aligned_landmarks)
            if self.lip_tone is not None:
                face = keep_closed_lips(
                    face, target.aligned, target.aligned_landmarks, skin, self.lip_tone, target.lip_gap
                )
            mask = self.face_mask(target, learned[i], parsed[i])
            detail = None
            if self.config.detail > 0:
                detail = (self.detail_mask(target, parsed[i]), self.config.detail)
            paste_face(out, face, mask, target.affine, self.blender, detail)
        return out

    def parse(self, frame: np.ndarray, targets: list[TargetFace], index: int) -> list[ParsedFace] | None:
        """The parser's maps of a video frame's targets, for :meth:`composite`'s ``parses`` (a pipeline runs
        this a stage ahead, in frame order, for every frame it composites); None when the mask needs none."""
        if self.regions is None or not targets:
            return None
        return self._parsed(frame, targets, index)

    def _parsed(self, frame: np.ndarray, targets: list[TargetFace], index: int | None) -> list[ParsedFace]:
        """The parser's maps of each target. In a video a track is parsed on frames whose index is a multiple of
        :data:`PARSE_EVERY` and keeps that parse (in aligned pixels, which follow the face) for the frames
        between; a track seen first, or after a gap, is parsed at once. The schedule depends only on frame
        indices (and a segment's first frame is always parsed), so a resumed swap parses the same frames."""
        size = targets[0].aligned.shape[0]
        out: list[ParsedFace | None] = [None] * len(targets)
        todo = []
        oval = list(region("face_oval"))
        for i, t in enumerate(targets):
            kept = self._parses.get(t.track_id)
            if (
                index is not None
                and index % PARSE_EVERY
                and index % self.config.segment  # a segment's first frame: as a resumed swap sees it
                and kept is not None
                and kept[0] == index - 1
                and float(np.abs(t.aligned_landmarks[oval] - kept[2][oval]).mean()) <= PARSE_MOTION * size
            ):
                out[i] = kept[1]
            else:
                todo.append(i)
        if todo:
            assert self.regions is not None
            fresh = self.regions.parse(frame, [targets[i].affine for i in todo], size)
            for i, p in zip(todo, fresh, strict=True):
                out[i] = p
        done = [p for p in out if p is not None]
        if index is not None:
            # A kept parse keeps the landmarks it was made with: the outline is compared with those.
            fresh_ids = {targets[i].track_id for i in todo}
            self._parses = {
                t.track_id: (
                    index,
                    p,
                    t.aligned_landmarks if t.track_id in fresh_ids else self._parses[t.track_id][2],
                )
                for t, p in zip(targets, done, strict=True)
            }
        return done

    def detail_mask(self, target: TargetFace, parsed: ParsedFace | None) -> np.ndarray:
        """(S, S) float32 0..1: where the target's own fine texture is restored (skin away from eyes, brows
        and mouth): the parser's skin, or the landmark skin mask softened when the parser is off."""
        if parsed is not None:
            return parsed.skin
        size = target.aligned.shape[0]
        skin = skin_mask(target.aligned_landmarks, size).astype(np.float32) / 255.0
        return cv2.GaussianBlur(skin, (0, 0), max(1.0, size / 64))


def seen_weight(seen: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32 0..1 from a seen map (uint8, 255 = face in every training face): 0 below
    :data:`SEEN_NONE`, 1 from :data:`SEEN_FULL`, softened over ~S/64 pixels."""
    share = cv2.resize(seen.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_AREA)
    weight = np.clip((share - SEEN_NONE) / (SEEN_FULL - SEEN_NONE), 0.0, 1.0)
    return np.asarray(cv2.GaussianBlur(weight, (0, 0), max(1.0, size / 64)), np.float32)


def load_regions(config: SwapConfig, device: str = "cpu") -> FaceRegions:
    """The face parser for the parse mask; a clear error when it is turned off or its file is missing."""
    from facecraft.errors import FacecraftError
    from facecraft.face.parse import FaceParser, parser_disabled

    if parser_disabled():
        raise FacecraftError(
            "--mask parse needs the face parser, which FACECRAFT_NO_PARSER turns off; "
            "use --mask landmarks or unset FACECRAFT_NO_PARSER"
        )
    return FaceRegions(
        FaceParser.load(device=device, size=PARSE_SIZE),
        keep_glasses=config.keep_glasses,
        keep_teeth=config.keep_teeth,
    )
