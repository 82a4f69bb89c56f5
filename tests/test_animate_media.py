"""animate on real portraits and driving clips (short clips cut from ../shared/data, small outputs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig, Animation, animate, list_performances
from facecraft.animate.driving import FaceFollower, VideoDriver
from facecraft.animate.geometry import eye_opening, face_width, mouth_opening
from facecraft.animate.portrait import load_portrait
from facecraft.errors import FacecraftError
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import iter_frames, probe
from facecraft.media.writer import VideoWriter

SIZE = 256


@pytest.fixture(scope="module")
def models() -> Iterator[tuple[FaceMesher, FaceDetector]]:
    mesher = FaceMesher()
    yield mesher, FaceDetector()
    mesher.close()


def _clip(src: Path, indices: list[int], out: Path, *, audio: bool = False, fps: float = 25.0) -> Path:
    """Write the frames ``indices`` of ``src`` (in that order, repeats allowed) at SIZE x SIZE."""
    wanted = set(indices)
    frames = {
        f.index: cv2.resize(f.image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        for f in iter_frames(src)
        if f.index in wanted
    }
    kwargs = {"audio_from": src, "audio_duration": len(indices) / fps} if audio else {}
    with VideoWriter(out, SIZE, SIZE, fps, **kwargs) as writer:  # type: ignore[arg-type]
        for i in indices:
            writer.write(frames[i] if i >= 0 else np.zeros((SIZE, SIZE, 3), np.uint8))
    return out


@pytest.fixture(scope="module")
def clips(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    videos = shared_data / "videos"
    return {
        # woman: mouth closed at 0, a blink at frames 15-16; with her audio
        "blink": _clip(
            videos / "woman_glasses_talking_5s_audio.mp4", list(range(22)), d / "blink.mp4", audio=True
        ),
        # man: mouth closed at frame 0, then his widest open mouth (frames 108-125)
        "mouth": _clip(videos / "man_glasses_orange_7s_audio.mp4", [0, *range(108, 126)], d / "mouth.mp4"),
        "still": _clip(videos / "man_green_screen_3s.mp4", [0] * 12, d / "still.mp4"),
        # the face disappears (black frames) for 6 frames in the middle
        "lost": _clip(
            videos / "woman_glasses_talking_5s_audio.mp4",
            [*range(8), *[-1] * 6, *range(8, 16)],
            d / "lost.mp4",
        ),
    }


def _render(
    portrait: Path,
    driving: Path,
    models: tuple[FaceMesher, FaceDetector],
    config: AnimateConfig | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], Animation]:
    mesher, detector = models
    config = config or AnimateConfig(size=SIZE)
    pic = load_portrait(portrait, mesher, detector, crop=config.crop, size=config.size)
    driver = VideoDriver(driving, config, mesher, detector, pic.landmarks)
    anim = Animation(
        pic, config, (driver.reference.image, driver.reference.mesh.landmarks.astype(np.float64))
    )
    frames, targets = [], []
    for motion in driver.motions():
        targets.append(anim.target(motion))
        frames.append(anim.render(motion))
    return frames, targets, anim


def _meshes(frames: list[np.ndarray], models: tuple[FaceMesher, FaceDetector]) -> list[np.ndarray]:
    follow = FaceFollower(*models)
    out = []
    for f in frames:
        mesh = follow(f)
        assert mesh is not None, "the animated portrait must still show a face"
        out.append(mesh.landmarks.astype(np.float64))
    return out


def test_output_follows_driving_length_fps_and_audio(
    shared_data: Path, clips: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "anim.mp4"
    report = animate(
        shared_data / "portraits" / "einstein_photo.jpg",
        clips["blink"],
        output=out,
        config=AnimateConfig(size=SIZE),
        progress=False,
    )
    src, got = probe(clips["blink"]), probe(out)
    assert report.frames == sum(1 for _ in iter_frames(clips["blink"])) == sum(1 for _ in iter_frames(out))
    assert got.fps == pytest.approx(src.fps)
    assert got.has_audio and report.audio
    # Head and shoulders in the source's own aspect (the photo is 375 x 500: 3:4), the longer side SIZE.
    assert (got.width, got.height) == (report.width, report.height) == (192, SIZE)
    # Labelled as synthetic: a signed manifest naming the action and the inputs.
    from facecraft.provenance import verify

    manifest = verify(out).manifest
    assert manifest.present and manifest.facecraft["action"] == "animate"
    assert {i["name"] for i in manifest.facecraft["inputs"]} == {"einstein_photo.jpg", "blink.mp4"}


def test_still_driving_video_keeps_the_portrait_still(
    shared_data: Path, clips: dict[str, Path], models
) -> None:
    frames, _, anim = _render(shared_data / "portraits" / "lady_agnew_painting.jpg", clips["still"], models)
    portrait = anim.portrait.image.astype(np.float32)
    for f in frames:
        assert np.abs(f.astype(np.float32) - portrait).mean() < 1.0


def test_output_mesh_follows_the_retargeted_points(shared_data: Path, clips: dict[str, Path], models) -> None:
    frames, targets, _ = _render(shared_data / "portraits" / "mona_lisa.jpg", clips["mouth"], models)
    for lm, target in zip(_meshes(frames, models), targets, strict=True):
        err = np.linalg.norm(lm[:, :2] - target[:, :2], axis=1).mean() / face_width(target)
        assert err < 0.03, f"mesh points off their targets by {err:.3f} face widths"


def test_opening_the_driving_mouth_opens_the_portraits(
    shared_data: Path, clips: dict[str, Path], models
) -> None:
    frames, _, anim = _render(shared_data / "portraits" / "lady_agnew_painting.jpg", clips["mouth"], models)
    meshes = _meshes(frames, models)
    fw = face_width(anim.portrait.landmarks)
    assert mouth_opening(meshes[0]) / fw < 0.03
    assert max(mouth_opening(m) for m in meshes[-6:]) / fw > 0.12
    # The inside of the opened mouth is dark, not stretched lip colour.
    last = frames[-1]
    lm = meshes[-1]
    inner = cv2.fillPoly(
        np.zeros(last.shape[:2], np.uint8), [np.round(lm[[13, 14, 78, 308], :2]).astype(np.int32)], 1
    )
    face = cv2.cvtColor(last, cv2.COLOR_BGR2GRAY)
    assert face[inner > 0].mean() < 0.8 * face[int(lm[1, 1]), int(lm[1, 0])]


def test_a_blink_closes_the_portraits_eyes(shared_data: Path, clips: dict[str, Path], models) -> None:
    frames, targets, _ = _render(shared_data / "portraits" / "einstein_photo.jpg", clips["blink"], models)
    meshes = _meshes(frames, models)
    open_now = eye_opening(meshes[0])
    closed = min(eye_opening(m) for m in meshes[14:18])
    assert min(eye_opening(t) for t in targets[14:18]) < 0.1
    assert closed < 0.8 * open_now, f"eyes {closed:.3f} at the blink vs {open_now:.3f} open"


def test_lost_face_holds_then_eases_back(shared_data: Path, clips: dict[str, Path], models) -> None:
    frames, targets, _ = _render(shared_data / "portraits" / "einstein_photo.jpg", clips["lost"], models)
    assert len(frames) == 22
    # While the face is gone the last pose is held exactly.
    for t in targets[8:14]:
        np.testing.assert_allclose(t, targets[7], atol=1e-9)
    # Coming back, the first step is no bigger than the usual frame-to-frame motion would allow.
    fw = face_width(targets[0])
    assert np.linalg.norm(targets[14] - targets[13], axis=1).mean() / fw < 0.05


@pytest.mark.parametrize("name", list_performances())
def test_each_performance_renders(shared_data: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.mp4"
    report = animate(
        shared_data / "portraits" / "mona_lisa.jpg",
        performance=name,
        output=out,
        seconds=0.8,
        config=AnimateConfig(size=192, crop="face"),
        progress=False,
    )
    assert report.frames == 20 and probe(out).frame_count == 20
    frames = [f.image for f in iter_frames(out)]
    assert max(np.abs(f.astype(int) - frames[0]).mean() for f in frames) > 0.3, "the performance must move"


def test_bad_portraits(shared_data: Path, tmp_path: Path, models) -> None:
    mesher, detector = models
    with pytest.raises(FacecraftError, match="no face found"):
        load_portrait(shared_data / "images" / "no_face_dogs.jpg", mesher, detector)
    with pytest.raises(FacecraftError, match=r"2 faces found .*--face N"):
        load_portrait(shared_data / "images" / "obama_biden_two_faces.jpg", mesher, detector)
    second = load_portrait(
        shared_data / "images" / "obama_biden_two_faces.jpg", mesher, detector, face=1, size=128
    )
    assert max(second.image.shape[:2]) == 128  # the source's landscape aspect is kept


@pytest.mark.parametrize("kind", ["gray", "rgba", "tiny"])
def test_unusual_portraits_work(shared_data: Path, tmp_path: Path, models, kind: str) -> None:
    img = cv2.imread(str(shared_data / "portraits" / "einstein_photo.jpg"))
    path = tmp_path / f"{kind}.png"
    if kind == "gray":
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    elif kind == "rgba":
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_BGR2BGRA))
    else:
        cv2.imwrite(str(path), cv2.resize(img, (96, 128), interpolation=cv2.INTER_AREA))
    pic = load_portrait(path, *models, size=SIZE)
    assert max(pic.image.shape[:2]) == SIZE and pic.landmarks.shape == (478, 3)


def test_cli_animate_and_evaluate_reenact(
    shared_data: Path, clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from facecraft.cli.main import main

    out = tmp_path / "cli.mp4"
    portrait = str(shared_data / "portraits" / "lady_agnew_painting.jpg")
    code = main(
        [
            "-q",
            "animate",
            portrait,
            "--performance",
            "nod",
            "--seconds",
            "0.4",
            "--size",
            "128",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and probe(out).frame_count == 10
    assert main(["-q", "animate", portrait, str(clips["still"]), "--performance", "nod", "-o", str(out)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["-q", "evaluate", "--reenact", str(clips["still"]), "--max-frames", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # a still video reenacts itself almost exactly (more in tests/test_animate_reenact.py)
    assert result["frames"] == 3 and result["metrics"]["face_ssim"]["animated"] > 0.9


def test_extreme_settings_clamp_instead_of_tearing(shared_data: Path, clips: dict[str, Path], models) -> None:
    from facecraft.animate.geometry import rotation_vector
    from facecraft.animate.motion import head_transform

    config = AnimateConfig(size=SIZE, pose_scale=3.0, expression_scale=2.5)
    frames, targets, anim = _render(
        shared_data / "portraits" / "mona_lisa.jpg", clips["mouth"], models, config
    )
    for target in targets:
        turn = np.degrees(np.linalg.norm(rotation_vector(head_transform(anim.portrait.landmarks, target)[1])))
        assert turn <= config.max_rotation_deg + 0.5
    assert all(np.isfinite(f).all() for f in frames)
    _meshes(frames, models)  # still a face in every frame


def test_absolute_mode_takes_the_driving_shape(shared_data: Path, clips: dict[str, Path], models) -> None:
    relative = _render(shared_data / "portraits" / "einstein_photo.jpg", clips["still"], models)[1]
    config = AnimateConfig(size=SIZE, relative=False)
    absolute = _render(shared_data / "portraits" / "einstein_photo.jpg", clips["still"], models, config)[1]
    fw = face_width(relative[0])
    # Relative: a still driver leaves the portrait as it is; absolute: it takes on the driver's face shape.
    assert np.linalg.norm(relative[0] - absolute[0], axis=1).mean() / fw > 0.01
    assert np.linalg.norm(absolute[-1] - absolute[0], axis=1).mean() / fw < 0.01
