"""The target's light on the new face: its skin's local brightness, at a scale coarser than any feature.

Colour transfer (:mod:`facecraft.swap.color`) matches the statistics of the whole skin, so the new face has
the target's mean tone but keeps the light it was drawn in: a source filmed under a hard side light, put
into a flat-lit clip, stays a darker mask with shaded temples and cheeks beside the target's pale neck and
forehead. Here the generated face's skin brightness (Lab L), averaged over a Gaussian of about an eighth of
the face's width, is moved to the target's averaged the same way. The averages are taken over skin only
(normalised convolution: eyes, brows, lips, glints on glasses and strands of hair over the skin are left
out), so features stay the new face's: a brow keeps its darkness relative to the skin around it, and
chroma stays the colour transfer's. Off by default (``--shading``): the source's own shading is part of what
a recogniser reads, and on the shared clips the source was recognised in 5-8 points fewer frames with it
(docs/swap.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.imaging import masked_average

SHADING_SCALE = 0.12
"""Sigma of the brightness average, as a share of the face's width (about an eye's width across)."""
OUTLIER_MAD = 3.0
"""Skin pixels further than this many median absolute deviations from the skin's median colour (glints on
glasses, hair strands, shadows of a hand) are left out of the averages."""
MIN_DENSITY = 0.3
"""Share of skin under the Gaussian from which the local average is trusted in full (less: in proportion)."""


def skin_weight(lab: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(S, S) float32 in {0, 1}: ``skin`` (uint8 mask) without pixels far from the skin's median Lab colour."""
    inside = skin > 0
    if inside.sum() < 16:
        return np.zeros(skin.shape, np.float32)
    median = np.median(lab[inside], axis=0)
    # chroma counts double: a glint or a strand differs from skin more in colour than skin does in light
    dist = np.sqrt((((lab - median) ** 2) * np.array([1.0, 2.0, 2.0], np.float32)).sum(-1))
    mad = float(np.median(dist[inside])) + 1e-3
    return (inside & (dist < OUTLIER_MAD * mad)).astype(np.float32)


def match_shading(
    face: np.ndarray, target: np.ndarray, skin: np.ndarray, face_width: float, amount: float = 1.0
) -> np.ndarray:
    """``face`` (S, S, 3 BGR uint8, aligned like ``target``) with its skin's local brightness moved to
    ``target``'s by ``amount`` (0: unchanged, 1: all of it). ``skin``: (S, S) uint8 mask of the skin both
    are measured on; ``face_width``: the face's width in aligned pixels (sets the scale)."""
    if amount <= 0:
        return face
    sigma = max(1.0, SHADING_SCALE * face_width)
    lab_t = cv2.cvtColor(target, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab_f = cv2.cvtColor(face, cv2.COLOR_BGR2LAB).astype(np.float32)
    w_t, w_f = skin_weight(lab_t, skin), skin_weight(lab_f, skin)
    if not w_t.any() or not w_f.any():
        return face
    mean_t, dens_t = masked_average(lab_t[..., 0], w_t, sigma)
    mean_f, dens_f = masked_average(lab_f[..., 0], w_f, sigma)
    # trusted where both faces have skin nearby; it fades out beyond the skin (the mask's soft edge)
    trust = np.clip(np.minimum(dens_t, dens_f) / MIN_DENSITY, 0.0, 1.0)
    lab_f[..., 0] += np.float32(amount) * trust * (mean_t - mean_f)
    return cv2.cvtColor(np.clip(np.rint(lab_f), 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
