"""Summaries of a faceset: counts, identities, pose coverage, blur statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from facecraft.faceset.store import Faceset

YAW_BINS = np.arange(-90, 91, 15)
PITCH_BINS = np.arange(-60, 61, 15)
BLURRY = 30.0  # sharpness (variance of Laplacian at 128 px) below which a face is called blurry


def pose_coverage(yaw: np.ndarray, pitch: np.ndarray) -> int:
    """Number of occupied 15x15 degree (yaw, pitch) cells: a simple measure of pose variety."""
    if len(yaw) == 0:
        return 0
    h, _, _ = np.histogram2d(
        np.clip(yaw, -89.9, 89.9), np.clip(pitch, -59.9, 59.9), bins=[YAW_BINS, PITCH_BINS]
    )
    return int((h > 0).sum())


def faceset_info(fs: Faceset) -> dict[str, Any]:
    """A JSON-ready summary of the faceset."""
    yaw, pitch = fs.array("yaw").astype(float), fs.array("pitch").astype(float)
    sharp = fs.array("sharpness").astype(float)
    bright = fs.array("brightness").astype(float)
    clusters = fs.array("cluster_id")
    tracks = fs.array("track_id")
    ids, counts = np.unique(clusters, return_counts=True) if len(clusters) else (np.array([]), np.array([]))
    yaw_hist, _ = np.histogram(np.clip(yaw, -89.9, 89.9), bins=YAW_BINS)
    pitch_hist, _ = np.histogram(np.clip(pitch, -59.9, 59.9), bins=PITCH_BINS)

    def stats(a: np.ndarray) -> dict[str, float]:
        if len(a) == 0:
            return {}
        return {
            k: round(float(f(a)), 2)
            for k, f in (("min", np.min), ("median", np.median), ("mean", np.mean), ("max", np.max))
        }

    sources = fs.sources()
    return {
        "path": str(fs.root),
        "faces": len(yaw),
        "sources": len(sources),
        "videos": sum(s["kind"] == "video" for s in sources),
        "images": sum(s["kind"] == "image" for s in sources),
        "tracks": len(np.unique(tracks)),
        "identities": {int(i): int(c) for i, c in zip(ids, counts, strict=True)},
        "settings": fs.settings,
        "software": fs.get_meta("software"),
        "pose": {
            "yaw_bins": YAW_BINS.tolist(),
            "yaw_hist": yaw_hist.tolist(),
            "pitch_bins": PITCH_BINS.tolist(),
            "pitch_hist": pitch_hist.tolist(),
            "yaw": stats(yaw),
            "pitch": stats(pitch),
            "coverage_cells": pose_coverage(yaw, pitch),
        },
        "sharpness": {**stats(sharp), "blurry": int((sharp < BLURRY).sum()), "blurry_below": BLURRY},
        "brightness": stats(bright),
    }


def format_info(info: dict[str, Any]) -> str:
    """The summary as text for a terminal."""
    pose = info["pose"]
    lines = [
        f"faceset {info['path']}  ({info['software']}, {info['settings'].get('size')} px, "
        f"{info['settings'].get('coverage')})",
        f"  faces: {info['faces']} from {info['sources']} source(s) "
        f"({info['videos']} video, {info['images']} photo), {info['tracks']} track(s)",
        "  identities: " + (", ".join(f"#{k}: {v} faces" for k, v in info["identities"].items()) or "none"),
        f"  pose coverage: {pose['coverage_cells']} occupied 15-degree yaw/pitch cells",
        "  yaw   " + _hist_line(pose["yaw_bins"], pose["yaw_hist"]),
        "  pitch " + _hist_line(pose["pitch_bins"], pose["pitch_hist"]),
    ]
    if info["faces"]:
        s = info["sharpness"]
        lines.append(
            f"  sharpness: median {s['median']}, min {s['min']}; {s['blurry']} blurry "
            f"(below {s['blurry_below']})"
        )
        lines.append(f"  brightness (L): median {info['brightness']['median']}")
    return "\n".join(lines)


def _hist_line(bins: list[int], hist: list[int]) -> str:
    return " ".join(
        f"[{lo:+d}..{hi:+d}]:{n}" for lo, hi, n in zip(bins[:-1], bins[1:], hist, strict=True) if n
    )
