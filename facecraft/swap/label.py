"""The one place a swap output is labelled as synthetic (provenance stage: C2PA manifest, watermark)."""

from __future__ import annotations

import importlib
from pathlib import Path

from facecraft.errors import FacecraftError


def label_output(path: Path, kind: str, inputs: list[str], consent: str | Path | None, visible: bool) -> bool:
    """Label the finished swap output ``path`` (a "video" or "image") in place, action "swap".

    Returns False when the provenance stage is not installed and nothing was asked of it; raises
    FacecraftError when --consent or --label was given but cannot be honoured.
    """
    try:
        provenance = importlib.import_module("facecraft.provenance")
        label = getattr(provenance, f"label_{kind}")
    except (ImportError, AttributeError):
        if consent is not None or visible:
            raise FacecraftError(
                "--consent and --label need the provenance stage, which is not installed"
            ) from None
        return False
    label(path, "swap", inputs, consent=consent, visible_label=visible)
    return True
