"""Per-op tests with known answers: alignment maths, smoothing, tracking geometry, clustering, regions."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.face.align import COVERAGES, template, transform_points, umeyama
from facecraft.face.regions import region
from facecraft.face.smooth import one_euro
from facecraft.face.track import Tracker, iou
from facecraft.faceset.cluster import cluster_embeddings
from facecraft.faceset.curate import drop_duplicates, farthest_point_order


def test_umeyama_recovers_a_similarity_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (12, 2))
    angle, scale, shift = 0.4, 1.7, np.array([13.0, -7.5])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ (scale * rot).T + shift
    m = umeyama(src, dst)
    np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-8)
    np.testing.assert_allclose(transform_points(m, src), dst, atol=1e-8)


def test_umeyama_never_reflects():
    src = np.array([[0.0, 0.0], [3.0, 0.5], [0.5, 2.0], [2.0, 3.0], [4.0, 1.0]])
    dst = src * np.array([-1.0, 1.0])  # a mirror image: the best similarity must still not reflect
    assert np.linalg.det(umeyama(src, dst)[:, :2]) > 0


def test_coverages_zoom_out_in_order():
    spans = {c: np.ptp(template(c, 256)[:, 0]) for c in COVERAGES}
    assert spans["face"] > spans["whole_face"] > spans["head"]


def test_one_euro_reduces_jitter_but_follows_motion():
    rng = np.random.default_rng(1)
    t = np.arange(100) / 25.0
    truth = np.where(t < 2, 0.0, 50.0)  # a still face, then a jump
    noisy = truth + rng.normal(0, 1.0, t.size)
    state, out = None, []
    for x, ti in zip(noisy, t, strict=True):
        y, state = one_euro(np.array([x]), ti, 100.0, state)
        out.append(y[0])
    out_a = np.array(out)
    assert np.std(np.diff(out_a[5:45])) < 0.5 * np.std(np.diff(noisy[5:45]))
    assert abs(out_a[-1] - 50.0) < 1.5


def test_iou_and_tracker_roundtrip():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    tr = Tracker(id_base=1000)
    t = tr.new_track((0, 0, 10, 10), 0)
    t.add_embedding(np.ones(128, np.float32) / np.sqrt(128), 0)
    tr.smooth_landmarks(t, np.zeros((478, 3), np.float32), 0.0)
    again = Tracker.from_json(tr.to_json())
    assert again.to_json() == tr.to_json()
    assert tr.match((1, 1, 10, 10), set()) is t
    assert tr.match((50, 50, 10, 10), set()) is None


def test_clusters_ordered_by_size():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=128), rng.normal(size=128)
    emb = np.stack([a + 0.1 * rng.normal(size=128) for _ in range(3)] + [b + 0.1 * rng.normal(size=128)] * 5)
    labels = cluster_embeddings(emb)
    assert labels[:3].tolist() == [1, 1, 1] and labels[3:].tolist() == [0] * 5


def test_farthest_point_and_duplicates():
    x = np.array([[0.0, 0.0], [0.01, 0.0], [10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    keep = drop_duplicates(x, np.array([1.0, 2.0, 1.0, 1.0, 1.0]), 0.1)
    assert keep.tolist() == [1, 2, 3, 4]  # the sharper of the two near-identical faces stays
    order = farthest_point_order(x, [0], 3)
    assert set(order) == {0, 2, 3}


def test_mesh_regions_are_closed_polygons():
    assert len(region("face_oval")) == 36
    assert len(region("left_eye")) == 16 and len(region("right_eye")) == 16
    assert set(region("left_eye")).isdisjoint(region("right_eye"))
    assert len(region("lips_inner")) == 20
    with pytest.raises(KeyError):
        region("tail")


def test_mediapipe_is_imported_without_pyplot_and_pyplot_still_works() -> None:
    """mediapipe's drawing helpers import matplotlib.pyplot (a quarter second at every start) for plots
    facecraft never draws: it stands in while mediapipe imports; whoever uses pyplot gets the real one."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from facecraft.face.regions import region\n"
        "assert len(region('face_oval')) == 36\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "from mediapipe.tasks.python.vision import drawing_utils\n"
        "assert callable(drawing_utils.plt.figure)\n"
        "import matplotlib.pyplot as plt\n"
        "assert type(plt).__name__ == 'module' and callable(plt.subplots)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
