"""The one place swap outputs are labelled as synthetic (provenance stage: watermark, tags, C2PA manifest).

Video frames are watermarked as they are encoded (:meth:`OutputLabeller.frame`), so the finished file only
needs its tags and manifest added (:meth:`OutputLabeller.finish`), without decoding it again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecraft import provenance
from facecraft.errors import FacecraftError


class OutputLabeller:
    """Labels one swap's outputs with action "swap", its ``inputs`` (files), the ``consent`` record and the
    ``visible`` label flag. ``content_id`` ties a resumed video's watermark to the same id."""

    def __init__(
        self,
        inputs: list[Path],
        consent: str | Path | None = None,
        visible: bool = False,
        content_id: int | None = None,
    ):
        self.inputs = [p for p in inputs if p.is_file()]
        self.consent = Path(consent) if consent is not None else None
        self.visible = visible
        if self.consent is not None and not self.consent.is_file():
            raise FacecraftError(f"the consent record {self.consent} does not exist")
        self._frames = (
            provenance.FrameLabeller(visible_label=visible)
            if content_id is None
            else provenance.FrameLabeller(visible_label=visible, content_id=content_id)
        )

    @property
    def content_id(self) -> int:
        return int(self._frames.content_id)

    def frame(self, image: np.ndarray) -> np.ndarray:
        """One BGR uint8 video frame, watermarked (and visibly labelled with ``visible``)."""
        return self._frames.apply(image)

    def finish(self, path: Path, kind: str) -> bool:
        """Label a finished ``kind`` ("video": frames went through :meth:`frame`; "image": a whole photo) in
        place. Returns True (labelled)."""
        if kind == "video":
            provenance.label_video(
                path,
                "swap",
                self.inputs,
                self.consent,
                self.visible,
                content_id=self.content_id,
                replaced=self._frames.replaced_content_ids,
            )
        else:
            provenance.label_image(path, "swap", self.inputs, self.consent, self.visible)
        return True


def _with_weights(files: list[Path]) -> list[Path]:
    """``files`` and, for a model folder's ``model.json``, its newest ``weights.safetensors`` (the settings
    alone are the same for every model of a type; the weights tell models apart)."""
    out = list(files)
    for f in files:
        if f.name == "model.json":
            weights = [w for w in f.parent.rglob("weights.safetensors") if w.is_file()]
            if weights:
                out.append(max(weights, key=lambda w: w.stat().st_mtime_ns))
    return out


class LabelSpec:
    """What every output of one swap is labelled with: the model's files, the consent record, the flag.

    Checks the request up front (a missing consent file fails before any work is done).
    """

    def __init__(
        self,
        model_files: list[Path],
        consent: str | Path | None,
        visible: bool,
        content_id: int | None = None,
    ):
        """``content_id``: the watermark id of every output (None: a random one each, as a user's outputs
        get; a benchmark fixes it, so that the same code scores the same)."""
        self.model_files, self.consent, self.visible = _with_weights(model_files), consent, visible
        self.content_id = content_id
        OutputLabeller([], consent, visible)  # checks the consent record now, before any work

    def labeller(self, source: Path, content_id: int | None = None) -> OutputLabeller:
        """The labeller of the output made from ``source`` (``content_id``: a resumed video's own id)."""
        cid = content_id if content_id is not None else self.content_id
        return OutputLabeller([source, *self.model_files], self.consent, self.visible, cid)
