"""End-to-end test of ``facecraft studio`` in a real browser (Debian's chromium, headless, via Playwright).

Run by ``make test-ui`` (which installs chromium); skipped elsewhere. It starts the studio as a user does,
uploads two short shared clips, extracts both, trains a tiny model, waits for the preview image, swaps,
plays the result and verifies it. Screenshots of every page go to $FACECRAFT_UI_SHOTS (default: a temp folder).
Every wait is on a state of the page (a job marked done, an image loaded), never on a fixed delay.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("FACECRAFT_UI_TESTS"), reason="browser test: run it with 'make test-ui'"
)

CHROMIUM = os.environ.get("FACECRAFT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
CLIP_A = "woman_glasses_talking_5s_audio.mp4"  # identity A (the face put in)
CLIP_B = "man_green_screen_3s.mp4"  # identity B (the video that is swapped)
JOB_TIMEOUT_MS = 900_000  # a generous ceiling on 2 busy cores; the waits end as soon as a job is done


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[str, float, subprocess.Popen[str]]]:
    """(printed URL, seconds from start to the URL being printed, process) of a studio on a new project."""
    port = _free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facecraft",
            "studio",
            str(tmp_path / "project"),
            "--port",
            str(port),
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"open (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    assert url, "the studio did not print its URL"
    try:
        yield url, start, proc
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def _shots() -> Path:
    folder = Path(os.environ.get("FACECRAFT_UI_SHOTS") or tempfile.mkdtemp(prefix="studio-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait_job(page, kind: str, count: int = 1) -> None:
    """Wait until ``count`` jobs of ``kind`` are done; fail at once, with the job's message, if one fails."""
    page.wait_for_function(
        """([kind, count]) => {
            const jobs = [...document.querySelectorAll(`#jobs .job[data-kind="${kind}"]`)];
            return jobs.some(j => j.dataset.state === "failed" || j.dataset.state === "cancelled")
                || jobs.filter(j => j.dataset.state === "done").length >= count;
        }""",
        arg=[kind, count],
        timeout=JOB_TIMEOUT_MS,
    )
    failed = page.locator(f'#jobs .job[data-kind="{kind}"][data-state="failed"]')
    assert failed.count() == 0, failed.first.inner_text()


def test_studio_end_to_end_in_chromium(studio, shared_data: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, started, proc = studio
    shots = _shots()
    print(f"studio screenshots: {shots}")
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(
            120_000
        )  # a page or upload on 2 busy cores; job waits have their own ceiling
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", state="attached")
        assert not errors, errors
        ready = time.perf_counter() - started
        print(f"studio: {ready:.2f} s from 'facecraft studio' to a ready page")
        (shots / "ready_seconds.txt").write_text(f"{ready:.3f}\n")
        assert page.url.endswith("/media") and "token" not in page.url

        # Media: upload two clips through the page's file input (what drag and drop uses too).
        page.set_input_files(
            "#drop-media input[type=file]", [shared_data / "videos" / c for c in (CLIP_A, CLIP_B)]
        )
        page.wait_for_selector(f'[data-media="media/{CLIP_B}"] img')
        page.wait_for_selector(f'[data-media="media/{CLIP_A}"] img')
        assert "1 face found" in page.inner_text(f'[data-media="media/{CLIP_A}"]')
        page.screenshot(path=shots / "1_media.png", full_page=True)

        # Facesets: extract each clip into its own faceset.
        page.click("nav a[data-page=facesets]")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        for clip, name in ((CLIP_A, "person_a"), (CLIP_B, "person_b")):
            for box in page.locator("input[data-source]").all():
                box.set_checked(box.get_attribute("data-source") == clip)
            page.fill("#faceset-name", name)
            page.select_option("#faceset-size", "64")
            page.fill("#faceset-every", "4")
            page.click("#extract-button")
            page.wait_for_selector('#extract-status:has-text("queued")')
        _wait_job(page, "extract", 2)
        page.click("[data-faceset=person_a]")
        page.wait_for_selector("#faces img")
        page.screenshot(path=shots / "2_facesets.png", full_page=True)

        # Train: the smallest model for a few steps; the preview image must appear.
        page.click("nav a[data-page=train]")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        page.select_option("#train-a", "person_a")
        page.select_option("#train-b", "person_b")
        page.fill("#model-name", "tiny")
        page.select_option("#model-arch", "lite")
        page.fill("#train-steps", "6")
        page.fill("#preview-every", "3")
        page.fill("#validate-every", "3")
        page.click("#train-button")
        _wait_job(page, "train")
        page.click("[data-model=tiny]")
        page.wait_for_function(
            "() => { const i = document.querySelector('#train-preview'); return i && i.complete && i.naturalWidth > 0; }"
        )
        page.screenshot(path=shots / "3_train.png", full_page=True)

        # Swap: consent, then B's clip with A's face; play the result.
        page.click("nav a[data-page=swap]")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        page.fill(
            "#consent-text", "Test media from the facecraft shared test set; used only to test the studio."
        )
        page.click("#consent-save")
        page.wait_for_selector('#consent-status:has-text("saved")')
        page.select_option("#swap-video", f"media/{CLIP_B}")
        page.select_option("#swap-model", "tiny")
        page.select_option("#swap-to", "A")
        page.click("#swap-button")
        _wait_job(page, "swap")
        page.wait_for_selector("#swap-result")
        page.evaluate("() => document.querySelector('#swap-result').play()")
        page.wait_for_function(
            "() => { const v = document.querySelector('#swap-result'); return v.error === null && v.currentTime > 0.3; }"
        )
        page.evaluate("() => document.querySelector('#swap-result').pause()")
        page.wait_for_function("() => document.querySelector('#swap-preview').readyState >= 1")
        page.fill("#scrubber", "500")
        page.wait_for_function("() => !document.querySelector('#swap-preview').seeking")
        page.screenshot(path=shots / "4_swap.png", full_page=True)

        # Animate: the page and its form (animating is covered by the API tests). The motion source decides
        # which fields show: speech from a sound file has no driving video; a text to say has a text box.
        page.click("nav a[data-page=animate]")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        assert page.is_visible("#animate-driving") and not page.is_visible("#animate-say")
        page.select_option("#animate-motion", "speech")
        assert page.is_visible("#animate-audio") and not page.is_visible("#animate-driving")
        assert page.eval_on_selector("#animate-audio", "e => e.value") != ""
        if page.eval_on_selector("#animate-motion option[value=say]", "e => !e.disabled"):
            page.select_option("#animate-motion", "say")
            assert page.is_visible("#animate-say") and not page.is_visible("#animate-audio")
        page.select_option("#animate-motion", "speech")
        page.screenshot(path=shots / "5_animate.png", full_page=True)

        # Verify: the swap output is labelled.
        page.click("nav a[data-page=verify]")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        page.click("#verify-button")
        _wait_job(page, "verify")
        page.wait_for_selector("#verdict")
        assert "AI-generated" in page.inner_text("#verdict")
        page.screenshot(path=shots / "6_verify.png", full_page=True)
        browser.close()
    assert not errors, errors
    assert proc.poll() is None, "the studio stopped during the test"
