"""Colour-transfer methods: known answers on synthetic pixels, statistics over the mask only."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.errors import FacecraftError
from facecraft.swap.color import get_color, list_colors
from facecraft.swap.compose import ColorTracks

RNG = np.random.default_rng(7)


def _gaussian_image(mean: list[float], cov: np.ndarray, size: int = 96) -> np.ndarray:
    pix = RNG.multivariate_normal(mean, cov, size=size * size)
    return np.clip(np.rint(pix), 0, 255).astype(np.uint8).reshape(size, size, 3)


SOURCE = _gaussian_image([90, 120, 170], np.array([[120, 40, 10], [40, 150, 30], [10, 30, 90]]))
TARGET = _gaussian_image([140, 110, 100], np.array([[60, -10, 5], [-10, 200, 50], [5, 50, 110]]))
FULL = np.full(SOURCE.shape[:2], 255, np.uint8)


def _mean_cov(image: np.ndarray, mask: np.ndarray = FULL) -> tuple[np.ndarray, np.ndarray]:
    p = image[mask > 0].astype(np.float64)
    return p.mean(0), np.cov(p, rowvar=False)


def test_every_method_is_registered() -> None:
    assert set(list_colors()) == {"rct", "lct", "hist", "mkl", "none"}
    with pytest.raises(FacecraftError, match="unknown colour method"):
        get_color("nope")


@pytest.mark.parametrize("name", ["rct", "lct", "hist", "mkl"])
def test_moves_masked_statistics_toward_target(name: str) -> None:
    out = get_color(name).match(SOURCE, FULL, TARGET, FULL)
    (m0, c0), (m1, c1), (mt, ct) = _mean_cov(SOURCE), _mean_cov(out), _mean_cov(TARGET)
    assert np.linalg.norm(m1 - mt) < 0.1 * np.linalg.norm(m0 - mt)
    if name != "rct":  # rct matches spread in LAB, not BGR: see test_rct_matches_lab_mean_and_std
        assert np.linalg.norm(np.diag(c1) - np.diag(ct)) < 0.35 * np.linalg.norm(np.diag(c0) - np.diag(ct))


def test_rct_matches_lightness_and_mean_colour() -> None:
    """L's mean and spread become the target's, and the mean a and b nearly (colour is moved as chroma per
    lightness, see test_rct_gives_shadows_the_targets_hue)."""
    out = get_color("rct").match(SOURCE, FULL, TARGET, FULL)
    lab = lambda im: cv2.cvtColor(im.astype(np.float32) / 255, cv2.COLOR_BGR2LAB).reshape(-1, 3)  # noqa: E731
    assert np.allclose(lab(out)[:, 0].mean(), lab(TARGET)[:, 0].mean(), atol=1.0)
    assert np.allclose(lab(out)[:, 0].std(), lab(TARGET)[:, 0].std(), rtol=0.1)
    assert np.allclose(lab(out)[:, 1:].mean(0), lab(TARGET)[:, 1:].mean(0), atol=2.0)
    before = np.abs(lab(SOURCE)[:, 1:].mean(0) - lab(TARGET)[:, 1:].mean(0))
    assert (before > 8).all()  # the colour did have far to go


def _lab_face(skin: tuple[float, float, float], socket: tuple[float, float, float]) -> np.ndarray:
    """A 64 px face in CIE LAB (L 0..100): skin with some grain, a dark socket band across it."""
    rng = np.random.default_rng(5)
    lab = np.array(skin, np.float32) + rng.normal(0, (4, 1.5, 2), (64, 64, 3)).astype(np.float32)
    lab[20:26, 10:54] = socket
    bgr = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    return np.clip(np.rint(bgr * 255), 0, 255).astype(np.uint8)


def test_rct_gives_shadows_the_targets_hue() -> None:
    """A brown face taken to a pale face's tone: its skin's b falls by the whole difference, its dark eye
    sockets keep a warm hue (b > 2) and change less. With the same shift added to every pixel the sockets
    lost as much yellow as the skin and turned blue-grey on a pale face (b < 0)."""
    brown = _lab_face((50, 15, 25), socket=(25, 8, 10))
    pale = _lab_face((75, 12, 12), socket=(60, 10, 10))
    skin = np.full((64, 64), 255, np.uint8)
    skin[18:28] = 0
    out = get_color("rct").match(brown, skin, pale, skin)

    def b(image: np.ndarray, rows: slice) -> float:
        lab = cv2.cvtColor(image[rows, 12:52].astype(np.float32) / 255, cv2.COLOR_BGR2LAB)
        return float(lab[..., 2].mean())

    sockets, cheeks = slice(20, 26), slice(40, 60)
    skin_shift = b(out, cheeks) - b(brown, cheeks)
    assert skin_shift < -10
    assert b(out, sockets) > 2
    assert abs(b(out, sockets) - b(brown, sockets)) < 0.8 * abs(skin_shift)


def test_rct_leaves_a_grey_source_grey_in_its_shadows() -> None:
    """A black-and-white source (the demo's portrait: a faint pink cast) on a warm face: the shadows take the
    warm face's hue at their lightness, not the source's own pink (the demo's eye rims turned red)."""
    grey = _lab_face((60, 4, 3), socket=(20, 4, 3))
    warm = _lab_face((70, 10, 18), socket=(40, 8, 14))
    skin = np.full((64, 64), 255, np.uint8)
    skin[18:28] = 0
    out = get_color("rct").match(grey, skin, warm, skin)
    lab = cv2.cvtColor(out[20:26, 12:52].astype(np.float32) / 255, cv2.COLOR_BGR2LAB).reshape(-1, 3)
    a, b = lab[:, 1].mean(), lab[:, 2].mean()
    assert b > a  # yellowish like the warm face's skin (b 18 over a 10), not pink (a over b)


@pytest.mark.parametrize("name", ["lct", "mkl"])
def test_linear_methods_match_full_covariance(name: str) -> None:
    out = get_color(name).match(SOURCE, FULL, TARGET, FULL)
    (m1, c1), (mt, ct) = _mean_cov(out), _mean_cov(TARGET)
    assert np.allclose(m1, mt, atol=0.7)
    assert np.allclose(c1, ct, atol=0.06 * np.abs(ct).max())  # off-diagonal terms too


def test_mkl_moves_colours_less_than_lct() -> None:
    """Monge-Kantorovich is the least-displacement map between the two Gaussians."""
    lct = get_color("lct").match(SOURCE, FULL, TARGET, FULL).astype(np.float64)
    mkl = get_color("mkl").match(SOURCE, FULL, TARGET, FULL).astype(np.float64)
    src = SOURCE.astype(np.float64)
    assert ((mkl - src) ** 2).sum() <= ((lct - src) ** 2).sum() * 1.001


def test_hist_matches_channel_quantiles() -> None:
    out = get_color("hist").match(SOURCE, FULL, TARGET, FULL)
    qs = [5, 25, 50, 75, 95]
    for c in range(3):
        assert np.allclose(np.percentile(out[..., c], qs), np.percentile(TARGET[..., c], qs), atol=2.5)


def test_none_keeps_colours() -> None:
    assert np.array_equal(get_color("none").match(SOURCE, FULL, TARGET, FULL), SOURCE)


@pytest.mark.parametrize("name", ["rct", "lct", "hist", "mkl"])
def test_statistics_come_from_masked_pixels_only(name: str) -> None:
    """Pixels outside either mask (hair, background) must not change the answer."""
    mask = np.zeros(FULL.shape, np.uint8)
    mask[16:80, 16:80] = 255
    noisy_source, noisy_target = SOURCE.copy(), TARGET.copy()
    noisy_source[mask == 0] = 255
    noisy_target[mask == 0] = 0
    method = get_color(name)
    clean = method.match(SOURCE, mask, TARGET, mask)
    noisy = method.match(noisy_source, mask, noisy_target, mask)
    assert np.array_equal(clean[mask > 0], noisy[mask > 0])


def test_too_few_pixels_leaves_face_unchanged() -> None:
    empty = np.zeros(FULL.shape, np.uint8)
    assert np.array_equal(get_color("rct").match(SOURCE, empty, TARGET, FULL), SOURCE)


def test_color_tracks_average_over_time_and_round_trip() -> None:
    tracks = ColorTracks(weight=0.75)
    a, b = np.array([0.0, 0.0]), np.array([8.0, 4.0])
    tracks.update(3, a)
    assert np.allclose(tracks.update(3, b), [2.0, 1.0])
    assert np.allclose(tracks.update(4, b), b)  # another track has its own average
    again = ColorTracks(0.75, tracks.to_json())
    assert np.array_equal(again.update(3, b), tracks.update(3, b))


@pytest.mark.parametrize("name", ["rct", "lct", "mkl", "hist"])
def test_a_flickering_model_gives_a_steady_tone(name: str) -> None:
    """Each generated face is mapped from its own statistics, so per-frame tone jumps of the model vanish."""
    method, tracks = get_color(name), ColorTracks(weight=0.8)
    target_stats = method.measure(TARGET, FULL)
    assert target_stats is not None
    means = []
    for gain in (0.7, 1.2, 0.8, 1.3, 0.9):
        face = np.clip(SOURCE.astype(np.float64) * gain, 0, 255).astype(np.uint8)
        out = method.transfer(face, method.measure(face, FULL), tracks.update(0, target_stats))
        means.append(out.reshape(-1, 3).mean(0))
    # input means swing by ~60 grey levels; rct's colour (chroma per lightness) is not linear in a gain: 3.2
    assert np.ptp(np.array(means), axis=0).max() < 4.0
