"""The studio's API through an ASGI test client: access token, origin and host checks, path escapes, uploads,
every job kind on tiny real inputs, cancel, and resume after a restart of the studio."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from facecraft.errors import FacecraftError
from facecraft.media.video import probe
from facecraft.provenance import explain, verify
from facecraft.studio import create_app, specs
from facecraft.studio.db import JobStore
from facecraft.studio.progress import last_progress, loss_curve
from facecraft.studio.project import PathEscape, Project
from facecraft.studio.uploads import sniff
from facecraft.studio.worker import Worker

with warnings.catch_warnings():  # starlette suggests httpx2; httpx 0.28 is what is pinned and works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "test-token-0123456789"
HEADERS = {"x-facecraft-token": TOKEN}
COOKIE = "facecraft_studio_7860"
CLIP_A, CLIP_B = "woman_glasses_talking_5s_audio.mp4", "man_green_screen_3s.mp4"


def _client(root: Path, **kw: Any) -> TestClient:
    app = create_app(root, token=TOKEN, extra_hosts=frozenset({"testserver"}), **kw)
    client = TestClient(app)
    client.cookies.set(COOKIE, TOKEN)
    client.headers.update(HEADERS)
    return client


def _job(client: httpx.Client, kind: str, **params: Any) -> dict[str, Any]:
    r = client.post("/api/jobs", json={"kind": kind, "params": params})
    assert r.status_code == 201, r.text
    return r.json()


def _wait(
    client: TestClient, job_id: int, until: tuple[str, ...] = ("done", "failed", "cancelled")
) -> dict[str, Any]:
    end = time.monotonic() + 600
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in until:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['state']}: {job['log'][-2000:]}")


def _done(client: httpx.Client, job_id: int) -> dict[str, Any]:
    job = _wait(client, job_id)
    assert job["state"] == "done", f"{job['error']}\n{job['log'][-3000:]}"
    return job


def _wait_steps(client: httpx.Client, job_id: int, steps: int) -> None:
    """Wait until a running train job has done at least ``steps`` steps (read from its progress)."""
    end = time.monotonic() + 300
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        m = re.search(r"train: (\d+)", job["detail"])
        if job["state"] == "running" and m and int(m.group(1)) >= steps:
            return
        assert job["state"] in ("queued", "running"), job["log"]
        time.sleep(0.2)
    raise AssertionError("training did not progress")


@pytest.fixture(scope="module")
def studio(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """A studio on a new project with two uploaded clips, extracted into two facesets."""
    root = tmp_path_factory.mktemp("studio") / "project"
    with _client(root, limits={"consent": 4096}) as client:
        for clip in (CLIP_A, CLIP_B):
            r = client.put(
                f"/api/upload/media?name={clip}", content=(shared_data / "videos" / clip).read_bytes()
            )
            assert r.status_code == 201, r.text
            assert r.json()["faces"] == 1 and r.json()["kind"] == "video"
        a = _job(client, "extract", inputs=[f"media/{CLIP_A}"], name="a", size=64, every=4)
        b = _job(client, "extract", inputs=[f"media/{CLIP_B}"], name="b", size=64, every=4)
        _done(client, a["id"])
        _done(client, b["id"])
        yield client, root


@pytest.fixture(scope="module")
def model(studio: tuple[TestClient, Path]) -> str:
    client, _ = studio
    job = _job(
        client,
        "train",
        a="a",
        b="b",
        name="m",
        model="lite",
        steps=4,
        batch=4,
        preview_every=2,
        validate_every=2,
        save_every=2,
    )
    _done(client, job["id"])
    return "m"


@pytest.fixture(scope="module")
def consent(studio: tuple[TestClient, Path]) -> str:
    client, _ = studio
    r = client.post(
        "/api/consent",
        json={"text": "Shared test media; used only to test facecraft studio.", "name": "test"},
    )
    assert r.status_code == 201, r.text
    return r.json()["path"]


# ---- access --------------------------------------------------------------------------------------
def test_health_is_open_and_everything_else_needs_the_token(studio: tuple[TestClient, Path]) -> None:
    client, _ = studio
    bare = TestClient(client.app)
    assert bare.get("/api/health").json() == {"status": "ok"}
    assert bare.get("/api/state").status_code == 401
    assert bare.get("/api/state", headers=HEADERS).status_code == 401  # header without cookie
    bare.cookies.set(COOKIE, TOKEN)
    assert bare.get("/api/state").status_code == 401  # cookie without header
    assert bare.get("/api/state", headers={"x-facecraft-token": "wrong"}).status_code == 401
    assert bare.get("/api/state", headers=HEADERS).status_code == 200
    stranger = TestClient(client.app)
    assert stranger.get("/media").status_code == 401
    assert stranger.get(f"/files/media/{CLIP_A}").status_code == 401
    assert stranger.post("/api/jobs", json={"kind": "verify", "params": {}}).status_code == 401
    r = stranger.get(f"/swap?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/swap"
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE}={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert stranger.get("/swap").status_code == 200  # the cookie now opens the pages


def test_foreign_origin_and_unknown_host_are_refused(studio: tuple[TestClient, Path]) -> None:
    client, _ = studio
    assert client.get("/api/state", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/consent", headers={"origin": "null"}, json={"text": "x" * 30}).status_code == 403
    assert client.get("/api/state", headers={"origin": "http://testserver"}).status_code == 200
    assert client.get("/api/health", headers={"host": "evil.example"}).status_code == 400  # DNS rebinding


def test_paths_that_leave_the_project_are_refused(studio: tuple[TestClient, Path], tmp_path: Path) -> None:
    client, root = studio
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (root / "media" / "link").symlink_to(tmp_path, target_is_directory=True)
    (root / "outputs" / "leak.mp4").symlink_to(secret)
    try:
        for path in (
            "/files/%2e%2e/%2e%2e/secret.txt",
            "/files/media/%2e%2e/%2e%2e/secret.txt",
            "/files/media/link/secret.txt",
            "/files/outputs/leak.mp4",
            f"/files/{secret}",
            "/files/studio.sqlite",
        ):
            assert client.get(path).status_code == 404, path
        assert client.get(f"/files/media/{CLIP_A}").status_code == 200
        r = client.post("/api/jobs", json={"kind": "verify", "params": {"file": "outputs/leak.mp4"}})
        assert r.status_code == 404 and "outside" in r.json()["error"]
        r = client.post(
            "/api/jobs", json={"kind": "extract", "params": {"inputs": ["../../x.mp4"], "name": "x"}}
        )
        assert r.status_code == 404
        r = client.post("/api/jobs", json={"kind": "curate", "params": {"faceset": "../a"}})
        assert r.status_code == 400
        assert "leak.mp4" not in json.dumps(client.get("/api/state").json()["outputs"])
    finally:
        (root / "media" / "link").unlink()
        (root / "outputs" / "leak.mp4").unlink()
    project = Project.open(root)
    with pytest.raises(PathEscape):
        project.resolve("/etc/passwd")


def test_uploads_are_type_checked_size_limited_and_never_overwrite(
    studio: tuple[TestClient, Path], shared_data: Path
) -> None:
    client, root = studio
    jpeg = (shared_data / "images" / "obama_4_small_320x240.jpg").read_bytes()
    r = client.put("/api/upload/media?name=photo.mp4", content=jpeg)
    assert r.status_code == 415 and "image" in r.json()["error"]
    r = client.put("/api/upload/media?name=notes.jpg", content=b"just some text, not a photo at all" * 4)
    assert r.status_code == 415
    r = client.put("/api/upload/consent?name=big.txt", content=b"a" * 5000)
    assert r.status_code == 413
    r = client.put("/api/upload/models?name=x.jpg", content=jpeg)
    assert r.status_code == 400
    first = client.put("/api/upload/media?name=../../portrait.jpg", content=jpeg).json()
    second = client.put("/api/upload/media?name=portrait.jpg", content=jpeg).json()
    assert first["path"] == "media/portrait.jpg" and second["path"] == "media/portrait-2.jpg"
    assert (root / "media" / "portrait.jpg").read_bytes() == jpeg and first["faces"] == 1
    assert not list((root / "media").glob(".upload-*")) and not (root.parent / "portrait.jpg").exists()


def test_the_train_form_offers_every_architecture_of_the_model_registry() -> None:
    from facecraft.train.config import DEFAULT_MODEL
    from facecraft.train.models import list_architectures

    assert sorted(specs.MODELS) == sorted(list_architectures())
    assert specs.MODELS[0] == DEFAULT_MODEL  # the form's first choice is the default


def test_sniff_reads_the_content() -> None:
    assert sniff(b"\x00\x00\x00\x20ftypisom" + bytes(52)) == "video"
    assert sniff(b"\x00\x00\x00\x20ftypM4A " + bytes(52)) == "audio"
    assert sniff(b"\x89PNG\r\n\x1a\n" + bytes(56)) == "image"
    assert sniff(b"%PDF-1.7\n" + bytes(8)) == "pdf"
    assert sniff(b"\x7fELF\x02\x01\x01" + bytes(57)) is None


# ---- jobs ----------------------------------------------------------------------------------------
def test_extract_made_facesets_that_the_pages_can_show(studio: tuple[TestClient, Path]) -> None:
    client, _ = studio
    state = client.get("/api/state").json()
    assert {f["name"] for f in state["facesets"]} == {"a", "b"}
    detail = client.get("/api/facesets/a").json()
    assert detail["total"] > 5 and detail["info"]["pose"]["coverage_cells"] >= 1
    assert client.get("/files/" + detail["faces"][0]["image"]).headers["content-type"] == "image/png"


def test_train_writes_preview_metrics_and_loss(studio: tuple[TestClient, Path], model: str) -> None:
    client, _ = studio
    info = client.get(f"/api/models/{model}").json()
    assert info["model"]["identities"] == ["A", "B"] and info["model"]["preview"]
    assert [r["step"] for r in info["metrics"]][-1] == 4
    assert client.get("/files/" + info["model"]["preview"]).status_code == 200


def test_swap_needs_consent_then_evaluate_and_verify_it(
    studio: tuple[TestClient, Path], model: str, consent: str
) -> None:
    client, root = studio
    r = client.post(
        "/api/jobs", json={"kind": "swap", "params": {"video": f"media/{CLIP_B}", "model": model}}
    )
    assert r.status_code == 400 and "consent" in r.json()["error"]
    bad = {"video": f"media/{CLIP_B}", "model": model, "consent": consent, "options": {"mask": "nope"}}
    assert client.post("/api/jobs", json={"kind": "swap", "params": bad}).status_code == 400
    swap = _job(
        client,
        "swap",
        video=f"media/{CLIP_B}",
        model=model,
        to="A",
        consent=consent,
        options={"color": "rct"},
    )
    done = _done(client, swap["id"])
    output = done["params"]["output"]
    assert (root / output).is_file() and "wrote outputs/" in done["result"]
    listed = next(o for o in client.get("/api/state").json()["outputs"] if o["path"] == output)
    assert listed["preview"] and listed["kind"] == "video"
    ev = _done(
        client,
        _job(client, "evaluate", original=f"media/{CLIP_B}", swapped=output, source="a", every=10)["id"],
    )
    report = json.loads((root / ev["params"]["output"]).read_text())
    assert report["summary"]["frames"] > 0
    ver = _done(client, _job(client, "verify", file=output)["id"])
    verdict = json.loads((root / ver["params"]["output"]).read_text())
    assert verdict["verdict"] == "AI-generated" and verdict["exit_code"] == 0
    assert verdict["reasons"][0].startswith("facecraft watermark with content id")
    assert ver["result"] == f"exit 0: {verdict['exit_meaning']}"  # the CLI's last line
    assert verdict["summary"].splitlines()[1:] == explain.summary(verify(root / output)).splitlines()[1:]


def test_animate_and_curate_jobs(studio: tuple[TestClient, Path], consent: str, shared_data: Path) -> None:
    client, root = studio
    portrait = client.put(
        "/api/upload/media?name=mona.jpg", content=(shared_data / "portraits" / "mona_lisa.jpg").read_bytes()
    )
    job = _job(
        client,
        "animate",
        portrait=portrait.json()["path"],
        driving=f"media/{CLIP_B}",
        consent=consent,
        options={"size": 128},
    )
    done = _done(client, job["id"])
    assert (root / done["params"]["output"]).stat().st_size > 1000
    curate = _done(client, _job(client, "curate", faceset="b")["id"])
    assert curate["result"]


@pytest.fixture(scope="module")
def speaker(studio: tuple[TestClient, Path], shared_data: Path) -> str:
    client, _ = studio
    r = client.put(
        "/api/upload/media?name=agnew.jpg",
        content=(shared_data / "portraits" / "lady_agnew_painting.jpg").read_bytes(),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["path"])


def test_a_portrait_speaks_a_sound_file_or_a_text(
    studio: tuple[TestClient, Path], consent: str, speaker: str
) -> None:
    """Motion from speech alone: the job is ``animate PORTRAIT --audio FILE`` (the output lasts as long as
    the speech); a text is voiced by the machine's engine where one is installed."""
    client, root = studio
    job = _job(
        client, "animate", portrait=speaker, audio=f"media/{CLIP_A}", consent=consent, options={"size": 128}
    )
    assert "--performance" not in job["argv"] and "--audio" in job["argv"], job["argv"]
    out = probe(root / _done(client, job["id"])["params"]["output"])
    assert out.has_audio and abs(out.duration - probe(root / "media" / CLIP_A).duration) < 0.2
    if specs.tts_available():
        said = _job(
            client, "animate", portrait=speaker, say="-Hello there.", consent=consent, options={"size": 96}
        )
        assert "--say=-Hello there." in said["argv"]
        assert probe(root / _done(client, said["id"])["params"]["output"]).duration > 0.5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"say": "Hi", "audio": f"media/{CLIP_A}"}, "a text to say is the whole motion"),
        ({"say": "x" * 2001}, "at most 2000 characters"),
        ({"say": "Hi", "voice": "en; rm -rf"}, "voice must be"),
        ({"say": "   "}, "type the text"),
        ({}, "choose a driving video, a built-in performance, a sound file to speak or a text to say"),
    ],
)
def test_animate_speech_forms_are_checked_before_queueing(
    studio: tuple[TestClient, Path], consent: str, speaker: str, params: dict[str, Any], message: str
) -> None:
    client, _ = studio
    r = client.post(
        "/api/jobs", json={"kind": "animate", "params": {"portrait": speaker, "consent": consent, **params}}
    )
    assert r.status_code == 400 and message in r.json()["error"], r.text


def test_the_studio_knows_the_engines_and_limit_of_say() -> None:
    from facecraft.animate import say

    assert specs.TTS_ENGINES == say.ENGINES and specs.SAY_MAX_CHARS == say.MAX_CHARS


def test_a_failing_job_shows_the_cli_one_line_error(studio: tuple[TestClient, Path], model: str) -> None:
    client, _ = studio
    # the model exists as 'lite': resuming it as another architecture is refused by the verb
    job = _job(client, "train", a="a", b="b", name=model, model="standard", steps=2)
    failed = _wait(client, job["id"])
    assert failed["state"] == "failed"
    assert failed["error"].startswith("facecraft train: error:") and "Traceback" not in failed["log"]


def test_cancel_and_resume_a_training(studio: tuple[TestClient, Path]) -> None:
    client, root = studio
    job = _job(
        client,
        "train",
        a="a",
        b="b",
        name="long",
        model="lite",
        steps=10_000,
        batch=2,
        validate_every=1000,
        preview_every=1000,
    )
    _wait_steps(client, job["id"], 2)
    client.post(f"/api/jobs/{job['id']}/cancel")
    cancelled = _wait(client, job["id"])
    assert cancelled["state"] == "cancelled"
    saved = sorted((root / "models" / "long" / "checkpoints").glob("step-*"))
    assert saved, "Ctrl-C saves a checkpoint"
    assert client.post(f"/api/jobs/{job['id']}/retry").json()["state"] in ("queued", "running")
    _wait_steps(client, job["id"], int(saved[-1].name.split("-")[1]) + 1)
    client.post(f"/api/jobs/{job['id']}/cancel")
    again = _wait(client, job["id"])
    assert again["state"] == "cancelled" and again["runs"] == 2
    assert sorted((root / "models" / "long" / "checkpoints").glob("step-*"))[-1].name > saved[-1].name


def test_a_restart_of_the_studio_resumes_the_running_job(
    studio: tuple[TestClient, Path], tmp_path: Path
) -> None:
    _, first_root = studio
    root = tmp_path / "project"
    Project.open(root)
    for name in ("a", "b"):
        shutil.copytree(first_root / "facesets" / name, root / "facesets" / name)
    with _client(root) as client:
        job = _job(
            client,
            "train",
            a="a",
            b="b",
            name="r",
            model="lite",
            steps=8,
            batch=2,
            validate_every=1000,
            preview_every=1000,
        )
        _wait_steps(client, job["id"], 2)
    # the studio stopped: the job saved and waits in the queue
    stopped = JobStore(root / "studio.sqlite").get(job["id"])
    assert stopped is not None and stopped.state == "queued"
    with _client(root) as client:
        done = _done(client, job["id"])
    m = re.search(r"step (\d+) \((\d+) this run", done["result"])
    assert m and int(m.group(1)) == 8 and int(m.group(2)) < 8, done["result"]
    assert done["runs"] == 2 and "stopped with the studio" in done["log"]


def test_one_studio_per_project(studio: tuple[TestClient, Path]) -> None:
    _, root = studio
    other = create_app(root, token=TOKEN)
    with pytest.raises(FacecraftError, match="open in another studio"):
        other.state.studio.worker.lock()


def test_jobs_left_running_by_a_dead_studio_go_back_to_the_queue(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "p")
    store = JobStore(project.db_path)
    job_id = store.add("verify", {}, "verify x", ["verify", "x.png"])
    store.claim_next()
    store.set(job_id, pid=os.getpid())  # a live pid that is not a studio runner: must not be signalled
    Worker(project, store).recover()
    job = store.get(job_id)
    assert job is not None and job.state == "queued" and job.pid is None


def test_a_job_is_queued_with_its_command_line(tmp_path: Path) -> None:
    """A worker may claim a job the instant it is queued: its command line must already be there."""
    store = JobStore(Project.open(tmp_path / "p").db_path)
    store.add("swap", {"video": "media/a.mp4"}, "swap a.mp4", ["swap", "a.mp4", "-m", "m"])
    claimed = store.claim_next()
    assert claimed is not None and claimed.state == "running"
    assert claimed.argv == ["swap", "a.mp4", "-m", "m"]


def test_event_stream_sends_the_job_list(studio: tuple[TestClient, Path]) -> None:
    client, _ = studio
    with client.stream("GET", "/api/events?max_events=1") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert text.startswith("event: jobs\ndata: ")
    data = json.loads(text.split("data: ", 1)[1])
    assert {j["kind"] for j in data["jobs"]} >= {"extract"}


def test_progress_is_read_from_tqdm_bars() -> None:
    log = "\rtrain:  40%|####      | 8/20 [00:02<00:03,  3.10step/s, loss=0.1234, img/s=12]\rtrain: 9step [00:03, 3.0step/s, loss=0.1100]"
    p = last_progress(log)
    assert p is not None and (p.done, p.total, p.fraction) == (9, None, -1.0)
    assert loss_curve(log) == [(8, 0.1234), (9, 0.11)]
    bar = last_progress("extract:  50%|#####     | 5/10 [00:01<00:01, 4.50frame/s]")
    assert bar is not None and bar.fraction == 0.5 and "ETA 00:01" in bar.text()


@pytest.mark.slow
def test_a_killed_studio_leaves_a_saved_job_that_the_next_start_resumes(
    studio: tuple[TestClient, Path], tmp_path: Path
) -> None:
    """SIGKILL the real ``facecraft studio`` process mid-training: its job saves and stops by itself, and
    the next studio on the project finishes it from the checkpoint."""
    import socket
    import subprocess
    import sys

    _, first_root = studio
    root = tmp_path / "project"
    Project.open(root)
    for name in ("a", "b"):
        shutil.copytree(first_root / "facesets" / name, root / "facesets" / name)

    def start() -> tuple[subprocess.Popen[str], httpx.Client]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "facecraft", "studio", str(root), "--port", str(port), "--no-browser"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        token = next(m.group(1) for line in proc.stdout if (m := re.search(r"token=(\S+)", line)))
        cookies = {f"facecraft_studio_{port}": token}
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", cookies=cookies, headers={"x-facecraft-token": token}
        )
        return proc, client

    proc, client = start()
    params = {
        "a": "a",
        "b": "b",
        "name": "k",
        "model": "lite",
        "steps": 30,
        "batch": 2,
        "validate_every": 1000,
    }
    job = client.post("/api/jobs", json={"kind": "train", "params": {**params, "preview_every": 1000}}).json()
    _wait_steps(client, job["id"], 3)
    pid = client.get(f"/api/jobs/{job['id']}").json()["pid"]
    proc.kill()
    proc.wait()
    end = time.monotonic() + 120
    while Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
        assert time.monotonic() < end, "the job kept running after its studio was killed"
        time.sleep(0.2)
    assert sorted((root / "models" / "k" / "checkpoints").glob("step-*"))[-1].name != "step-000000000"
    proc, client = start()
    try:
        done = _done(client, job["id"])
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    m = re.search(r"step (\d+) \((\d+) this run", done["result"])
    assert m and int(m.group(1)) == 30 and int(m.group(2)) < 30 and done["runs"] == 2, done["result"]
