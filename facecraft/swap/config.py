"""Typed settings of the swap stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.swap.blend import list_blends
from facecraft.swap.color import list_colors
from facecraft.swap.mask import list_masks

DEFAULT_MASK = "parse-learned"
"""What ``--mask auto`` uses with the face parser on: the parse mask, and below the nose only where the
model draws face too (docs/swap.md: it took away the demo's chin smudge; recognition on the held-out pair
within 1.5 points of ``parse``)."""


@dataclass(frozen=True)
class SwapConfig:
    to: str | None = None
    """Decoder (identity name) whose face is put in; None: the model's first identity."""
    track: int | None = None
    """Swap only this track id (as printed by swap; extract's ids modulo 1,000,000 match)."""
    all_faces: bool = False
    """Swap every face (otherwise the largest face of each frame, unless a reference photo or track is given)."""
    start: float = 0.0
    """Seconds into the input where the output starts."""
    end: float | None = None
    """Seconds into the input where the output ends (None: the end)."""
    mask: str = "auto"
    """parse (mesh face oval minus what the face parser says is not face on either side), landmarks (mesh
    face oval), learned (the model's mask), both (landmarks and learned), parse-learned (parse, and below the
    nose only where the model's mask draws face too: the target's jaw stays where the source's face is
    narrower); auto: parse-learned, or landmarks when the parser is turned off (FACECRAFT_NO_PARSER=1; its
    weights carry non-commercial terms)."""
    erode: float = 0.0
    """Shrink the mask by this many frame pixels."""
    dilate: float = 0.0
    """Grow the mask by this many frame pixels."""
    feather: float = -1.0
    """Soften the mask edge over this many frame pixels; -1: 6 % of the face width."""
    color: str = "rct"
    """Colour transfer: rct, lct, hist, mkl or none."""
    color_smoothing: float = 0.8
    """Weight of the past in the running average of the target's colour statistics along a track (0: none)."""
    blend: str = "alpha"
    """Blending: alpha, laplacian or poisson."""
    keep_eyes: bool = False
    """Keep the target's real eyes."""
    keep_mouth: bool = False
    """Keep the target's real mouth."""
    keep_blinks: bool = True
    """As the target's eye closes (a blink, a wink), its own eyelids show through (swap.blinks)."""
    keep_glasses: bool = True
    """Glasses the target wears stay in the output (parse mask); False: they are painted over."""
    keep_teeth: bool = True
    """The inside of the target's open mouth (teeth, tongue) stays the target's, the lips are the new face's
    (parse mask; swap.parsing.inner_mouth). False: the model draws the whole mouth."""
    keep_lips: bool = True
    """While the target's mouth is closed its own lips stay, moved to the source person's lip tone (measured
    on the model's exemplars; swap.lips): the source's habitual grin is not drawn on a closed mouth. Needs
    exemplars (a model trained before them swaps without)."""
    shading: float = 0.0
    """How much of the target's light on its skin the new face takes (its skin's brightness averaged at about an
    eighth of the face's width, swap.shading), after the colour transfer: 0 keeps the model's shading, 1 the
    target's."""
    detail: float = 1.0
    """How much of the target's own fine skin texture (the frequencies the model is too small to draw)
    is restored under the generated face, outside eyes, brows and mouth: 0 off, 1 all of it."""
    source_detail: float = 1.0
    """How much fine detail (eyelids, brows, lips, skin grain) the source person's own faces kept with the
    model lend to the generated face, warped onto the target's landmarks (swap.exemplars): 0 off, 1 all.
    Models trained before exemplars were kept have none, and swap without."""
    smooth: bool = True
    """Smooth landmarks (and so the alignment) along each track with a One-Euro filter."""
    detect_every: int = 5
    """Run the face detector every N frames; between, faces are followed by their mesh."""
    batch: int = 8
    """Faces per model call."""
    segment: int = 50
    """Frames per checkpointed output segment (an interruption loses at most this many)."""
    crf: int = 18
    """H.264 quality of the output (lower is better and larger)."""

    def __post_init__(self) -> None:
        if self.mask != "auto" and self.mask not in list_masks():
            raise FacecraftError(f"unknown --mask {self.mask!r}; choose one of {', '.join(list_masks())}")
        if self.color not in list_colors():
            raise FacecraftError(f"unknown --color {self.color!r}; choose one of {', '.join(list_colors())}")
        if self.blend not in list_blends():
            raise FacecraftError(f"unknown --blend {self.blend!r}; choose one of {', '.join(list_blends())}")
        for name in ("erode", "dilate"):
            if getattr(self, name) < 0:
                raise FacecraftError(f"--{name} must be 0 or more pixels")
        if self.feather < 0 and self.feather != -1:
            raise FacecraftError("--feather must be 0 or more pixels")
        if self.start < 0:
            raise FacecraftError("--start must be 0 or more seconds")
        if self.end is not None and self.end <= self.start:
            raise FacecraftError(f"--end ({self.end}) must be after --start ({self.start})")
        if not 0 <= self.detail <= 2:
            raise FacecraftError("--detail must be between 0 and 2")
        if not 0 <= self.shading <= 1:
            raise FacecraftError("--shading must be between 0 and 1")
        if not 0 <= self.source_detail <= 1:
            raise FacecraftError("--source-detail must be between 0 and 1")
        if not 0 <= self.color_smoothing < 1:
            raise FacecraftError("color_smoothing must be in [0, 1)")
        for name in ("detect_every", "batch", "segment"):
            if getattr(self, name) < 1:
                raise FacecraftError(f"{name} must be at least 1")
        if not 0 <= self.crf <= 51:
            raise FacecraftError("crf must be between 0 and 51")
        if self.all_faces and self.track is not None:
            raise FacecraftError("give either --all or --track, not both")

    def resolved_mask(self) -> str:
        """The mask method used: ``auto`` becomes parse-learned, or landmarks when the parser is turned off."""
        if self.mask != "auto":
            return self.mask
        from facecraft.face.parse import parser_disabled

        return "landmarks" if parser_disabled() else DEFAULT_MASK

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes the output pixels: a resumed run must match it (``auto`` as the mask it
        stands for, so a run resumed with the parser turned off, or by a version with another default,
        starts over instead of mixing masks)."""
        return {**asdict(self), "mask": self.resolved_mask()}
