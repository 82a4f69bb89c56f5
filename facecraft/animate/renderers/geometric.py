"""The default renderer: a dense mesh-guided warp of the portrait plus a synthesised mouth interior.

No learned weights: the motion field comes from the retargeted mesh (see facecraft.animate.warp),
the pixels all come from the portrait, except inside a mouth opened wider than in the portrait.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.animate import gaze, layers, lids, mirror, mouth, shading, warp
from facecraft.animate.config import AnimateConfig
from facecraft.animate.geometry import face_width
from facecraft.animate.portrait import Portrait
from facecraft.animate.renderers.base import FrameRequest, Renderer, register
from facecraft.face import regions


@register("geometric")
class GeometricRenderer(Renderer):
    def __init__(
        self, portrait: Portrait, config: AnimateConfig, reference: tuple[np.ndarray, np.ndarray] | None
    ):
        super().__init__(portrait, config, reference)
        h, w = portrait.image.shape[:2]
        parsed = portrait.head
        if parsed is None and config.layers:
            parsed = layers.parse_head(portrait.image, portrait.landmarks)
        self.head: layers.HeadLayer | None = None
        neck_length = 0.8
        neck_mask = None
        self.eyes: lids.EyeOpenings | None = None
        self.eyeballs: np.ndarray | None = None  # the parser's eyeballs (H, W) 0..1, for the gaze
        if config.layers and parsed is not None:
            face = np.zeros((h, w), np.uint8)
            cv2.fillPoly(
                face, [np.round(regions.polygon(portrait.landmarks, "face_oval")).astype(np.int32)], 1
            )
            alpha, backdrop, neck, eyes = parsed
            self.head = layers.build_layer(portrait.image, alpha, face > 0, backdrop)
            self.eyes = lids.EyeOpenings.prepare(portrait.image, portrait.landmarks, eyes)
            self.eyeballs = eyes.astype(np.float32)
            neck_length = layers.neck_length(neck, portrait.landmarks)
            neck_mask = neck
        self.layout = warp.build_layout(
            portrait.landmarks, (w, h), config.field_scale, self.head is not None, neck_length, neck_mask
        )
        self.mirror = (
            mirror.MirrorMaps.prepare(portrait.landmarks, self.layout.triangles)
            if config.mirror_fill
            else None
        )
        self.lip_colour = _region_colour(portrait.image, portrait.landmarks, "lips_outer")
        self.skin_colour = _region_colour(portrait.image, portrait.landmarks, "face_oval")
        self.match = (
            mouth.colour_match(reference[0], reference[1], portrait.image, portrait.landmarks)
            if reference is not None
            else None
        )
        # Expression shading needs the parser's view of the driver's bare skin: without it a driver's glasses
        # frames and fringe would print onto the portrait, so it is off with --no-head-layer or no parser.
        self.shading: shading.ExpressionShading | None = None
        parser = layers.load_parser() if config.shading and config.layers and reference is not None else None
        if parser is not None and reference is not None:
            self.shading = shading.ExpressionShading.prepare(
                reference,
                layers.skin_map(reference[0], reference[1], parser),
                portrait.landmarks,
                self.layout.triangles,
                self.layout.size[0] / self.layout.field_size[0],
            )

    def maps(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, warp.FaceCover]:
        """The backward maps (output pixel -> portrait pixel) and face cover for the ``target`` mesh."""
        lm = self.portrait.landmarks
        # The mesh carries the irises with the eyes' outlines; the gaze slides them inside the opening.
        carried = gaze.carried_irises(lm, target)
        map_x, map_y, cover = warp.backward_map_and_cover(self.layout, lm, carried)
        map_x, map_y = gaze.shift_irises(map_x, map_y, target, carried, self.eyeballs)
        return map_x, map_y, cover

    def render(self, request: FrameRequest) -> np.ndarray:
        lm = self.portrait.landmarks
        map_x, map_y, cover = self.maps(request.target)
        if self.head is not None:
            reach = float(np.abs(request.target[:, :2] - lm[:, :2]).max()) * 1.5
            frame = layers.composite(self.head, map_x, map_y, reach)
        else:
            frame = warp.warp_image(self.portrait.image, map_x, map_y)
        if self.mirror is not None:
            frame = mirror.fill_stretched(
                frame,
                self.portrait.image,
                cover,
                self.mirror,
                request.target,
                self.layout.size[0] / self.layout.field_size[0],
                face_width(np.asarray(request.target, np.float64)),
            )
        if self.eyes is not None:
            frame = lids.close_lids(frame, self.eyes, map_x, map_y, request.target)
        motion = request.motion
        if self.shading is not None and motion.image is not None and motion.landmarks is not None:
            # --expression-scale scales the creases with the motion (0: none, 2: twice as deep).
            frame = self.shading.apply(
                frame, cover, motion.image, motion.landmarks, self.config.expression_scale
            )
        driving = None
        if (
            self.config.mouth_from_driving
            and self.match is not None
            and motion.image is not None
            and motion.landmarks is not None
        ):
            driving = (motion.image, motion.landmarks, self.match)
        return mouth.paint_interior(frame, lm, request.target, self.lip_colour, self.skin_colour, driving)


def _region_colour(image: np.ndarray, landmarks: np.ndarray, name: str) -> np.ndarray:
    """Median BGR colour (3,) inside a mesh region."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(regions.polygon(landmarks, name)).astype(np.int32)], 255)
    if name == "lips_outer":
        cv2.fillPoly(mask, [np.round(regions.polygon(landmarks, "lips_inner")).astype(np.int32)], 0)
    pixels = image.reshape(-1, 3)[mask.ravel() > 0]
    if len(pixels) == 0:
        return np.array([60.0, 60.0, 140.0]) if name == "lips_outer" else np.array([150.0, 170.0, 200.0])
    return np.median(pixels, axis=0).astype(np.float64)
