"""Typed settings of the animate stage."""

from __future__ import annotations

from dataclasses import dataclass

from facecraft.animate.retarget import RetargetSettings
from facecraft.errors import FacecraftError

CROPS = ("face", "portrait", "full")


@dataclass(frozen=True)
class AnimateConfig:
    relative: bool = True
    """Transfer motion relative to the driving video's first frame (the portrait keeps its face shape);
    False: the portrait takes on the driving face's expression shape frame by frame."""
    expression_scale: float = 1.0
    """Multiplier on expression motion (mouth, brows, lids, gaze)."""
    pose_scale: float = 1.0
    """Multiplier on head rotation, shift and zoom."""
    crop: str = "portrait"
    """Output framing: face (tight square), portrait (head and shoulders, in the source's aspect) or full."""
    size: int = 512
    """Longer side of the output video, in pixels (even)."""
    renderer: str = "geometric"
    """Which renderer turns motion into frames (see facecraft.animate.renderers.list_renderers())."""
    smooth: bool = True
    """Smooth the driving mesh over time (One-Euro filter) so the head does not wobble."""
    field_scale: float = 0.5
    """Resolution of the warp field relative to the output (the image itself is always sampled at full size)."""
    max_rotation_deg: float = 30.0
    """Clamp head rotation relative to the portrait's pose, in degrees."""
    ease_seconds: float = 0.4
    """After the driving face is lost and found again, ease from the held pose over this long."""
    reference_frame: int | None = None
    """Driving frame the motion is measured against; None: the most neutral closed-mouth face near the start."""
    absolute_mouth: bool = True
    """Map the driver's mouth opening in absolute terms: the portrait's own lip gap at rest is replaced by the
    reference's (closed), so a portrait shown mid-word closes its mouth when the driver does."""
    layers: bool = True
    """Head-and-shoulders layer over a filled background plate (face parser); False: one warp of the image."""
    mouth_from_driving: bool = True
    """Fill an opening mouth with the driving frame's mouth interior (teeth, tongue); False draws one, as
    for performances. Self-reenactment evaluation turns it off: there the driving frame is the answer."""
    shading: bool = True
    """Carry the driver's expression shading (creases of a smile, a frown, raised brows) onto the portrait's
    skin as a ratio image (facecraft.animate.shading); only with a driving video."""
    mirror_fill: bool = True
    """A cheek a head turn stretches (the foreshortened side of a three-quarter face) takes its fine texture
    from the mirrored cheek instead of showing streaks (facecraft.animate.mirror)."""

    def __post_init__(self) -> None:
        if self.crop not in CROPS:
            raise FacecraftError(f"unknown --crop {self.crop!r}; choose one of {', '.join(CROPS)}")
        if not 64 <= self.size <= 2048:
            raise FacecraftError(f"--size must be between 64 and 2048 pixels, got {self.size}")
        for name in ("expression_scale", "pose_scale"):
            value = getattr(self, name)
            if not 0.0 <= value <= 3.0:
                raise FacecraftError(f"--{name.replace('_', '-')} must be between 0 and 3, got {value}")
        if not 0.1 <= self.field_scale <= 1.0:
            raise FacecraftError(f"field_scale must be between 0.1 and 1, got {self.field_scale}")
        if not 0.0 < self.max_rotation_deg <= 60.0:
            raise FacecraftError(f"max_rotation_deg must be in (0, 60], got {self.max_rotation_deg}")
        if self.ease_seconds < 0:
            raise FacecraftError("ease_seconds must be 0 or more")
        if self.reference_frame is not None and self.reference_frame < 0:
            raise FacecraftError(f"--reference-frame must be 0 or more, got {self.reference_frame}")

    def retarget_settings(self) -> RetargetSettings:
        return RetargetSettings(
            expression_scale=self.expression_scale,
            pose_scale=self.pose_scale,
            max_rotation_deg=self.max_rotation_deg,
        )
