"""The extract stage on real media from ../shared/data."""

from __future__ import annotations

import shutil
import sqlite3

import cv2
import numpy as np
import pytest

from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.extract import ExtractConfig, extract
from facecraft.face.identity import PAIR_MATCH, cosine
from facecraft.faceset import Faceset
from facecraft.faceset.schema import SCHEMA_VERSION


@pytest.fixture(scope="session")
def photos_faceset(shared_data, tmp_path_factory):
    """Every photo of data/images (the dog photo included) in one faceset."""
    out = tmp_path_factory.mktemp("photos") / "fs"
    report = extract([shared_data / "images"], out, ExtractConfig(size=128), progress=False)
    return out, report


@pytest.fixture(scope="session")
def video_faceset(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("video") / "fs"
    video = shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"
    report = extract([video], out, ExtractConfig(size=128), progress=False)
    return out, report


def _faces_by_photo(root):
    with Faceset.open(root) as fs:
        faces = fs.faces()
    by: dict[str, list] = {}
    for f in faces:
        by.setdefault(f.source_path.rsplit("/", 1)[-1], []).append(f)
    return by


def test_faces_found_in_every_photo_but_the_dogs(photos_faceset):
    root, report = photos_faceset
    by = _faces_by_photo(root)
    assert "no_face_dogs.jpg" not in by
    assert any("no face found" in w and "no_face_dogs" in w for w in report.warnings)
    for name in (
        "obama_1_portrait.jpg",
        "obama_2_podium.jpg",
        "obama_3_pressroom.jpg",
        "obama_4_small_320x240.jpg",
        "biden_1_standing.jpg",
        "biden_2_portrait.jpg",
    ):
        assert len(by.get(name, [])) == 1, name
    assert len(by["obama_biden_two_faces.jpg"]) == 2


def test_faceset_rows_hold_what_later_stages_need(photos_faceset):
    root, _ = photos_faceset
    with Faceset.open(root) as fs:
        face = fs.faces()[0]
        image = fs.load_image(face)
        assert image.shape == (128, 128, 3)
        assert face.landmarks.shape == (478, 3) and face.aligned_landmarks.shape == (478, 2)
        assert face.blendshapes.shape == (52,) and face.embedding.shape == (128,)
        # The stored affine maps frame landmarks onto the stored aligned landmarks.
        mapped = face.landmarks[:, :2] @ face.affine[:, :2].T + face.affine[:, 2]
        np.testing.assert_allclose(mapped, face.aligned_landmarks, atol=1e-2)
        # ... and warping the source frame with it reproduces the aligned image.
        frame = cv2.imread(face.source_path)
        again = cv2.warpAffine(
            frame, face.affine, (128, 128), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
        )
        assert np.abs(again.astype(int) - image.astype(int)).mean() < 2.0
        assert fs.settings["size"] == 128 and fs.get_meta("software").startswith("facecraft")


def test_identity_groups_obama_apart_from_biden(photos_faceset):
    root, _ = photos_faceset
    by = _faces_by_photo(root)
    obama = {by[n][0].cluster_id for n in by if n.startswith("obama_") and "two" not in n}
    biden = {by[n][0].cluster_id for n in by if n.startswith("biden_")}
    assert len(obama) == 1 and len(biden) == 1 and obama != biden
    pair = {f.cluster_id for f in by["obama_biden_two_faces.jpg"]}
    assert pair == obama | biden


def test_identity_reference_keeps_only_that_person(shared_data, tmp_path):
    images = shared_data / "images"
    out = tmp_path / "fs"
    extract(
        [images / "obama_biden_two_faces.jpg"],
        out,
        ExtractConfig(size=96),
        identity=images / "obama_1_portrait.jpg",
        progress=False,
    )
    with Faceset.open(out) as fs:
        faces = fs.faces()
    assert len(faces) == 1
    ref = extract([images / "obama_1_portrait.jpg"], tmp_path / "ref", ExtractConfig(size=96), progress=False)
    with Faceset.open(ref.faceset) as fs:
        obama = fs.faces()[0].embedding
    assert float(cosine(faces[0].embedding, obama)[0, 0]) > PAIR_MATCH


def test_alignment_is_stable_under_rotation_scale_and_shift(shared_data, tmp_path):
    image = cv2.imread(str(shared_data / "images" / "obama_1_portrait.jpg"))
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 12.0, 0.8)
    m[:, 2] += (25.0, -15.0)
    moved = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    cv2.imwrite(str(tmp_path / "b.png"), moved)
    extract(
        [tmp_path / "a.png", tmp_path / "b.png"], tmp_path / "fs", ExtractConfig(size=256), progress=False
    )
    with Faceset.open(tmp_path / "fs") as fs:
        a, b = fs.faces()
    err = np.linalg.norm(a.aligned_landmarks - b.aligned_landmarks, axis=1)
    assert np.median(err) < 2.0 and np.percentile(err, 90) < 4.0


def test_video_gives_one_face_per_frame_on_one_track(video_faceset):
    root, report = video_faceset
    assert report.frames_processed == 122
    with Faceset.open(root) as fs:
        assert fs.count() >= 0.95 * 122
        assert len(np.unique(fs.array("track_id"))) == 1
        assert len(np.unique(fs.array("cluster_id"))) == 1
        frames = fs.array("frame_index")
        assert len(np.unique(frames)) == len(frames)
        assert np.all(np.diff(fs.array("timestamp")) > 0)
        assert (fs.root / "faces" / fs.faces()[-1].image).is_file()


def test_rerun_skips_finished_work(video_faceset, shared_data):
    root, _ = video_faceset
    with Faceset.open(root) as fs:
        before = fs.count()
    again = extract(
        [shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"],
        root,
        ExtractConfig(size=128),
        progress=False,
    )
    assert again.frames_processed == 0 and again.faces_total == before


def test_rerun_with_other_settings_is_refused(video_faceset, shared_data):
    root, _ = video_faceset
    with pytest.raises(FacecraftError, match="other settings"):
        extract(
            [shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"],
            root,
            ExtractConfig(size=64),
            progress=False,
        )


def test_faceset_info_preview_merge_and_curate_cli(video_faceset, photos_faceset, tmp_path, capsys):
    root, _ = video_faceset
    assert main(["faceset", "info", str(root), "--json"]) == 0
    assert '"faces": ' in capsys.readouterr().out
    assert main(["faceset", "preview", str(root), "-o", str(tmp_path / "sheet.png")]) == 0
    sheet = cv2.imread(str(tmp_path / "sheet.png"))
    assert sheet is not None and sheet.shape[1] == 8 * 128
    assert main(["faceset", "curate", str(root), "--keep", "20", "-o", str(tmp_path / "cur")]) == 0
    with Faceset.open(tmp_path / "cur") as fs:
        assert fs.count() == 20
    # Same person twice merges; a different person is refused with one line.
    assert main(["faceset", "merge", str(root), str(tmp_path / "cur"), "-o", str(tmp_path / "merged")]) == 0
    with Faceset.open(tmp_path / "merged") as fs:
        assert fs.count() == len(Faceset.open(root).faces())
    photos, _ = photos_faceset
    capsys.readouterr()
    assert main(["faceset", "merge", str(root), str(photos), "-o", str(tmp_path / "m2")]) == 2
    err = capsys.readouterr().err
    assert "different" in err or "differ" in err
    assert "Traceback" not in err


def test_newer_schema_is_refused(video_faceset, tmp_path):
    root, _ = video_faceset
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    with sqlite3.connect(copy / "faceset.db") as conn:
        conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(FacecraftError, match="newer"):
        Faceset.open(copy)


def _file(name: str, data: bytes):
    def make(folder):
        (folder / name).write_bytes(data)
        return folder / name

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.mp4", "does not exist"),
        (_file("notes.txt", b"x"), "not a video or photo"),
        (_file("empty.mp4", b""), "empty"),
        (_file("fake.mp4", b"not a video" * 100), "not a readable video"),
        (_file("broken.jpg", b"\xff\xd8garbage"), "no faces found"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys, make, message):
    path = make(tmp_path)
    code = main(["-q", "extract", str(path), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_photo_without_a_face_is_a_clear_error(shared_data, tmp_path, capsys):
    code = main(
        ["-q", "extract", str(shared_data / "images" / "no_face_dogs.jpg"), "-o", str(tmp_path / "o")]
    )
    assert code == 2
    assert "no faces found in no_face_dogs.jpg" in capsys.readouterr().err


def test_truncated_video_keeps_the_faces_before_the_damage(shared_data, tmp_path):
    # Cut a video's bytes in the middle of its frame data (index kept in front by re-muxing first).
    import subprocess

    from facecraft.media.ffmpeg import ffmpeg_exe

    src = shared_data / "videos" / "man_green_screen_3s.mp4"
    front = tmp_path / "front.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            str(src),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(front),
        ],
        check=True,
    )
    data = front.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    report = extract([cut], tmp_path / "fs", ExtractConfig(size=64, every=3), progress=False)
    assert 0 < report.faces_total < 78 // 3 + 1


def test_full_disk_while_writing_is_one_clear_error_and_keeps_committed_faces(
    shared_data, tmp_path, monkeypatch
):
    import errno
    import os

    video = shared_data / "videos" / "man_green_screen_3s.mp4"
    real_replace = os.replace
    calls = {"n": 0}

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] > 30:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    config = ExtractConfig(size=64, commit_every=10)
    with pytest.raises(FacecraftError, match="disk is full"):
        extract([video], tmp_path / "fs", config, progress=False)
    with Faceset.open(tmp_path / "fs") as fs:
        kept = fs.count()
        assert kept > 0
        for f in fs.faces():
            assert fs.image_path(f).is_file()
    monkeypatch.setattr(os, "replace", real_replace)
    report = extract([video], tmp_path / "fs", config, progress=False)
    assert report.faces_total >= 0.95 * 78


def test_curate_keeps_the_count_and_never_narrows_pose_coverage(video_faceset, tmp_path):
    from facecraft.faceset.curate import CurateConfig, curate
    from facecraft.faceset.info import pose_coverage

    root, _ = video_faceset
    with Faceset.open(root) as fs:
        yaw, pitch = fs.array("yaw"), fs.array("pitch")
    result = curate(root, CurateConfig(keep=12), tmp_path / "cur")
    uniform = np.linspace(0, len(yaw) - 1, 12).round().astype(int)
    assert result["after"]["faces"] == 12
    assert result["after"]["pose_cells"] >= pose_coverage(yaw[uniform], pitch[uniform])
    spread = np.ptp(yaw[uniform]) + np.ptp(pitch[uniform])
    after = result["after"]
    assert np.ptp(after["yaw_range"]) + np.ptp(after["pitch_range"]) >= spread - 1e-6


def test_kill_9_mid_extraction_then_resume_matches_an_uninterrupted_run(shared_data, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    video = shared_data / "videos" / "obama_speaking_8s.mp4"
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "facecraft", "-q", "extract", str(video), "-o", str(killed), "--size", "96"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            # read-only: opening the path must not create the database before extract does
            with sqlite3.connect(f"file:{killed / 'faceset.db'}?mode=ro", uri=True, timeout=0.1) as conn:
                done = conn.execute("SELECT COUNT(*) FROM frames_done").fetchone()[0]
        except sqlite3.Error:
            continue
        if done >= 50:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be interrupted"
    with Faceset.open(killed) as fs:
        assert not fs.source_complete(str(video))
        assert 0 < fs.count() < 259
    resumed = subprocess.run(cmd, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    extract([video], tmp_path / "whole", ExtractConfig(size=96), progress=False)
    with Faceset.open(killed) as a, Faceset.open(tmp_path / "whole") as b:
        fa, fb = a.faces(), b.faces()
        assert [f.frame_index for f in fa] == [f.frame_index for f in fb]
        assert [f.track_id for f in fa] == [f.track_id for f in fb]
        np.testing.assert_allclose(
            np.stack([f.landmarks for f in fa]), np.stack([f.landmarks for f in fb]), atol=1e-3
        )
        assert len(list((a.root / "faces").glob("*.png"))) == len(fa)


def test_a_database_whose_creation_never_finished_is_created_again(tmp_path):
    """A 0-byte faceset.db (creation killed before the schema, or another program opening the path first)
    blocked every later run ("not a readable faceset database"); the database is now built under another
    name and moved into place, and an empty one counts as absent."""
    from facecraft.faceset.store import DB_NAME, Faceset

    root = tmp_path / "fs"
    root.mkdir()
    (root / DB_NAME).touch()
    with Faceset.create(root, {"size": 96}) as fs:
        assert fs.settings["size"] == 96 and fs.count() == 0
    assert not (root / f"{DB_NAME}.new").exists()
    with Faceset.create(root, {"size": 96}) as fs:  # and it reopens as the same faceset
        assert fs.count() == 0
