"""``facecraft evaluate``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facecraft.cli.checks import number, output_path, writable_file
from facecraft.errors import FacecraftError
from facecraft.fileio import write_atomic

_JSON_EXTS = (".json",)
_LABELS = (
    ("identity_to_source", "identity: swapped face vs source (SFace cosine, higher is better)"),
    ("identity_to_original", "identity: swapped face vs original person (lower is better)"),
    ("original_to_source", "baseline: original person vs source"),
    ("source_match_rate", "frames where the swapped face passes as the source (calibrated threshold below)"),
    ("original_match_rate", "frames where it still passes as the original person (lower is better)"),
    ("landmark_error", "expression/shape kept: landmark error / face size (lower is better)"),
    ("expression_error", "expression kept: blendshape difference 0..1 (lower is better)"),
    ("pose_error_deg", "head pose kept: mean |yaw, pitch, roll| difference, degrees"),
    ("flicker_excess", "flicker: extra frame-to-frame change in the face, grey levels"),
    ("flicker_ratio", "flicker: face change swapped / original (1 = same)"),
    ("seam", "seam: extra edge along the mask border, grey levels/pixel (0 = invisible)"),
    ("sharpness_ratio", "detail: fine detail in the inner face, swapped / original (1 = as sharp)"),
    ("sharpness_ratio_replaced", "detail where the face was replaced (kept glasses, teeth, lids left out)"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a swap: identity, expression and pose kept, flicker, seams",
        description="Compare a swapped video or photo with its original: identity similarity to the source "
        "faceset and to the original person, landmark/pose/expression error, temporal flicker and seam "
        "visibility (see docs/metrics.md).",
    )
    p.add_argument("--original", required=False, metavar="IN", help="the original video or photo")
    p.add_argument("--swapped", required=False, metavar="OUT", help="the swapped video or photo")
    p.add_argument("--source", required=False, metavar="FACESET", help="faceset of the source identity")
    p.add_argument(
        "--every",
        type=number(1, 100_000, integer=True),
        default=1,
        metavar="N",
        help="measure every N-th frame (default 1)",
    )
    p.add_argument(
        "--max-frames", type=number(1, 10**9, integer=True), metavar="N", help="stop after N frames"
    )
    p.add_argument("--json", action="store_true", help="print the full report (per frame) as JSON")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the full JSON report to FILE")
    p.add_argument(
        "--reenact",
        metavar="VIDEO",
        help="instead: self-reenactment of animate (frame 0 of VIDEO driven by VIDEO), scored on the delivered "
        "file next to the still-frame baseline: face-crop and whole-frame SSIM/L1, AKD (mesh and YuNet), CSIM",
    )
    p.add_argument(
        "--driving-mouth",
        action="store_true",
        help="with --reenact: copy the mouth interior from the driving frame as animate does by default "
        "(that frame is the ground truth, so the score is flattered)",
    )
    p.add_argument(
        "--driving-shading",
        action="store_true",
        help="with --reenact: carry the driving frame's creases and shading onto the face as animate does by "
        "default (flatters the score the same way)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.output:  # checked first: an unwritable output must not throw away minutes of measuring
        inputs = {"original": args.original, "swapped": args.swapped, "source faceset": args.source}
        output_path(args.output, {**inputs, "--reenact video": args.reenact}, _JSON_EXTS)
        writable_file(args.output)
    if args.reenact:
        return _reenact(args)
    if not (args.original and args.swapped and args.source):
        raise FacecraftError("give --original, --swapped and --source (or --reenact VIDEO)")
    from facecraft.evaluate import evaluate

    report = evaluate(
        args.original,
        args.swapped,
        args.source,
        every=args.every,
        max_frames=args.max_frames,
        progress=not args.quiet and not args.json,
    )
    data = report.to_json()
    if args.output:
        write_atomic(Path(args.output), (json.dumps(data, indent=2) + "\n").encode())
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for w in report.warnings:
        print(f"warning: {w}")
    s = data["summary"]
    print(
        f"{s['frames']} frames compared, a face measured in {s['frames_with_face']}, changed in {s['frames_changed']}"
    )
    for key, label in _LABELS:
        value = s[key]
        print(f"  {key:24s} {'n/a' if value is None else f'{value:.3f}':>8s}   {label}")
    shade = s.get("eye_shade")
    if shade is not None:
        print(
            f"  {'eye_shade':24s} L {shade[0]:+.1f} a {shade[1]:+.1f} b {shade[2]:+.1f}   around the eyes, "
            "swapped vs original (Lab; 0 = the target's own, a+ pinker, b- bluer)"
        )
    print(
        f"  same-person thresholds (SFace cosine, calibrated in docs/metrics.md): face vs source faceset "
        f"{data['source_match_threshold']:.2f}, face vs face {data['pair_match_threshold']:.2f}"
    )
    return 0


def _reenact(args: argparse.Namespace) -> int:
    from facecraft.animate import reenact_eval

    result = reenact_eval(
        args.reenact,
        max_frames=args.max_frames,
        mouth_from_driving=args.driving_mouth,
        driving_shading=args.driving_shading,
    )
    text = json.dumps(result, indent=2)
    if args.output:
        write_atomic(Path(args.output), (text + "\n").encode())
    if args.json:
        print(text)
        return 0
    print(
        f"{result['video']}: {result['frames']} frames, {result['renderer']} renderer, mouth interior "
        f"{result['mouth_interior']}, shading {result['shading']}; scored on {result['scored']}"
    )
    print(
        f"  {'metric':11s} {'animated':>9s} {'still':>9s} {'delivered':>9s}   still: frame 0 repeated (doing "
        "nothing); delivered: the same, encoded and watermarked as animate delivers"
    )
    for name, m in result["metrics"].items():
        if m["animated"] is None:
            print(f"  {name:11s} {'n/a':>9s} {'n/a':>9s} {'n/a':>9s}")
            continue
        verdict = "better than still" if m["better"] else "NOT better than still"
        print(
            f"  {name:11s} {m['animated']:9.4f} {m['still']:9.4f} {_num(m.get('still_delivered')):>9s}   {verdict}"
        )
    jitter = result["jitter"]
    print(f"  jitter      {_num(jitter['animated']):>9s} (real video {_num(jitter['real'])})")
    mouth = result["mouth"]
    print(
        f"  mouth       amplitude {_num(mouth['amplitude'])}, correlation {_num(mouth['correlation'])} "
        "(lip gap against the real video's; the still frame: 0)"
    )
    print(f"  faces lost  {result['faces_lost']:9d}")
    return 0


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
