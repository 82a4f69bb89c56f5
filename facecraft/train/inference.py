"""Load a trained face model and draw faces with any identity's decoder (the contract swap codes against).

>>> model = FaceModel.load("models/ab")            # FacecraftError if missing/corrupt
>>> faces_b, masks = model.convert(aligned_a, to="B")   # (N,S,S,3) BGR uint8 -> BGR uint8, (N,S,S) 0..1

Faces must be aligned like the training facesets: ``model.coverage`` and ``model.faceset_size`` say how
(see ``facecraft.face.align``). For a tiny model in tests see :mod:`facecraft.train.testing`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from facecraft.errors import FacecraftError
from facecraft.train.checkpoint import load_latest, read_model_info
from facecraft.train.device import autocast, resolve_device
from facecraft.train.models import FaceAutoencoder, build_model, make_config


class FaceModel:
    """A trained shared-encoder / per-identity-decoder model, ready to convert faces (no grad)."""

    identities: list[str]
    """Decoder names, e.g. ["A", "B"] (or the ``--face`` names)."""
    size: int
    """Aligned face side the model works at, pixels."""
    coverage: str
    """Faceset coverage it was trained on (``whole_face``...)."""
    faceset_size: int
    """Side of the training facesets' aligned faces, pixels."""
    step: int
    """Training step of the loaded weights."""
    weights_sha256: str = ""
    """sha256 of the loaded weights file (what a resumable swap keys its earlier work on)."""
    validation: dict[str, dict[str, float]]
    """Validation metrics of the loaded checkpoint per identity ({"A": {"ssim": ..., "psnr": ...}})."""

    def __init__(
        self, net: FaceAutoencoder, coverage: str, faceset_size: int, step: int, device: torch.device
    ):
        self.net = net.eval()
        self.identities = net.identities
        self.size = net.size
        self.coverage = coverage
        self.faceset_size = faceset_size
        self.step = step
        self.device = device
        self.batch = 64
        self.validation = {}

    @classmethod
    def load(cls, model_dir: str | Path, device: str = "auto", checkpoint: str = "latest") -> FaceModel:
        """Load the newest good checkpoint (``checkpoint="best"``: the best by validation SSIM)."""
        if checkpoint not in ("latest", "best"):
            raise FacecraftError(f"checkpoint must be 'latest' or 'best', got {checkpoint!r}")
        root = Path(model_dir)
        info = read_model_info(root)
        ck, _ = load_latest(root, with_optimizer=False, prefer_best=checkpoint == "best")
        if ck is None:
            raise FacecraftError(f"{root} has no checkpoint yet; train it with 'facecraft train'")
        net = build_model(info.architecture, make_config(info.architecture, info.model), info.identities)
        try:
            net.load_state_dict(ck.weights)
        except RuntimeError as exc:
            raise FacecraftError(f"checkpoint {ck.path} does not fit model.json ({exc})") from None
        dev = resolve_device(device)
        net = net.to(dev).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        model = cls(net, info.coverage, info.faceset_size, ck.step, dev)
        model.weights_sha256 = str(ck.state.get("files", {}).get("weights.safetensors", ""))
        model.validation = dict(ck.state.get("metrics") or {})
        return model

    @torch.no_grad()
    def convert(self, faces: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
        """faces: (N, S, S, 3) BGR uint8 aligned faces at any S (resized internally to ``self.size``).

        Returns (N, S, S, 3) BGR uint8 faces drawn by decoder ``to`` and (N, S, S) float32 masks in
        0..1 (the learned face mask). Batched; runs on the model's device.
        """
        if to not in self.identities:
            raise FacecraftError(f"unknown identity {to!r}; this model draws {', '.join(self.identities)}")
        if (
            faces.ndim != 4
            or faces.shape[3] != 3
            or faces.shape[1] != faces.shape[2]
            or faces.dtype != np.uint8
        ):
            raise FacecraftError(f"faces must be (N, S, S, 3) uint8 BGR, got {faces.shape} {faces.dtype}")
        n, side = faces.shape[0], faces.shape[1]
        out_faces = np.empty_like(faces)
        out_masks = np.empty((n, side, side), np.float32)
        for start in range(0, n, self.batch):
            chunk = faces[start : start + self.batch]
            x = torch.from_numpy(np.stack([_resize(f, self.size) for f in chunk])).to(self.device)
            x = x.flip(-1).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=torch.channels_last)
            with autocast(self.device):
                y = self.net.convert(x, to)
            drawn = y.float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
            for i, yi in enumerate(drawn):
                yi = _resize(yi, side)
                out_faces[start + i] = np.clip(yi[..., 2::-1] * 255 + 0.5, 0, 255).astype(np.uint8)
                out_masks[start + i] = np.clip(yi[..., 3], 0, 1)
        return out_faces, out_masks


def _resize(image: np.ndarray, side: int) -> np.ndarray:
    if image.shape[0] == side:
        return image
    interp = cv2.INTER_AREA if image.shape[0] > side else cv2.INTER_CUBIC
    return cv2.resize(image, (side, side), interpolation=interp)
