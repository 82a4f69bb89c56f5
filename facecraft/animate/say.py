"""``--say TEXT``: speech made on this machine by a text-to-speech engine, for the portrait to speak.

Optional, never required: facecraft ships no voice. Where Debian's ``espeak-ng`` (or the older ``espeak``)
is installed, the text becomes a WAV file that :mod:`facecraft.animate.speech` then turns into mouth motion,
exactly as a recorded ``--audio`` file is. Nothing is downloaded. The voice is the engine's own, robotic one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from facecraft.errors import FacecraftError

ENGINES = ("espeak-ng", "espeak")
"""Text-to-speech programs tried, in order (both take the same options)."""
MAX_CHARS = 2000
"""Longest text accepted (about two minutes of speech)."""
WORDS_PER_MINUTE = 150
"""Speaking rate: a little slower than espeak's default 175, closer to a person reading aloud."""


def find_engine() -> str:
    """The path of the first installed engine of :data:`ENGINES`; a clear error where there is none."""
    for name in ENGINES:
        found = shutil.which(name)
        if found:
            return found
    raise FacecraftError(
        "--say needs a text-to-speech engine and none is installed: install espeak-ng "
        "(Debian/Ubuntu: apt-get install espeak-ng), or record the speech and give it with --audio FILE"
    )


def tts_command(engine: str, text: str, wav: Path, voice: str | None = None) -> list[str]:
    """The engine's command line writing ``text`` to ``wav`` (the text as one argument: no shell)."""
    cmd = [engine, "-w", str(wav), "-s", str(WORDS_PER_MINUTE)]
    if voice:
        cmd += ["-v", voice]
    return [*cmd, "--", text]


def check_text(text: str) -> str:
    """``text`` stripped; an error for empty or overlong text (before anything is rendered)."""
    text = " ".join(text.split())
    if not text:
        raise FacecraftError('--say needs some text to speak, e.g. --say "Hello, I am Mona Lisa."')
    if len(text) > MAX_CHARS:
        raise FacecraftError(
            f"--say takes at most {MAX_CHARS} characters (got {len(text)}); use --audio FILE"
        )
    return text


def say_to_wav(text: str, wav: str | Path, voice: str | None = None) -> Path:
    """Speak ``text`` into the WAV file ``wav`` with the installed engine; returns ``wav``."""
    text = check_text(text)
    wav = Path(wav)
    cmd = tts_command(find_engine(), text, wav, voice)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FacecraftError(f"the text-to-speech engine failed ({exc}); use --audio FILE instead") from None
    if proc.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
        last = (proc.stderr or proc.stdout or "no output").strip().splitlines()[-1:] or ["no output"]
        raise FacecraftError(
            f"the text-to-speech engine made no speech ({last[0]}); check --voice, or use --audio FILE"
        )
    return wav
