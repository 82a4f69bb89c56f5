"""The head layer's background plate (pure: a drawn scene, no models)."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.animate.layers import build_layer

WALL = (40, 150, 230)
CLOTHES = (90, 110, 40)


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An orange wall over green clothes (their top edge at row 120), a head and its neck reaching down
    into the clothes."""
    h = w = 200
    image = np.zeros((h, w, 3), np.uint8)
    image[:] = WALL
    image[120:] = CLOTHES
    head = np.zeros((h, w), np.uint8)
    cv2.ellipse(head, (100, 75), (38, 50), 0, 0, 360, 1, -1)
    face = head > 0
    cv2.rectangle(head, (82, 100), (118, 150), 1, -1)
    image[head > 0] = (120, 160, 210)
    alpha = cv2.GaussianBlur(head.astype(np.float32), (0, 0), 1.5)
    backdrop = (head == 0) & (np.arange(h)[:, None] < 120)
    return image, alpha, face, backdrop


def test_behind_the_neck_the_plate_is_wall_above_the_shoulders_and_clothes_below() -> None:
    """One fill from everything around the hole painted a blur of wall and sweater behind the neck (a pale
    band over the clothes when the head moved away); the clothes' top edge carries on behind it."""
    image, alpha, face, backdrop = _scene()
    plate = build_layer(image, alpha, face, backdrop).plate
    for y in (60, 100, 110):
        assert np.abs(plate[y, 100] - WALL).max() < 10, y
    for y in (128, 140, 148):
        assert np.abs(plate[y, 100] - CLOTHES).max() < 10, y
    # Where nothing moves, the layer over the plate is the portrait.
    layer = build_layer(image, alpha, face, backdrop)
    a = layer.alpha[..., None]
    composite = layer.layer[..., :3] + (1 - a) * layer.plate
    assert np.abs(composite - image).max() < 1e-3
