"""``facecraft train``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from facecraft.cli.checks import number, output_path
from facecraft.errors import FacecraftError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a face model (shared encoder, one decoder per identity) on two or more facesets",
        description="Train a face-swap model: one encoder shared by all identities, one decoder per identity. "
        "Run the same command again to resume exactly where it stopped; Ctrl-C saves and exits.",
    )
    p.add_argument("--a", metavar="FACESET_A", help="faceset of identity A")
    p.add_argument("--b", metavar="FACESET_B", help="faceset of identity B")
    p.add_argument(
        "--face",
        action="append",
        default=[],
        metavar="NAME=FACESET",
        help="another identity and its faceset (repeatable; with or instead of --a/--b)",
    )
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model folder to create or resume")
    p.add_argument(
        "--model",
        help="architecture: lite128 (default), lite (a few minutes on a CPU), original, standard or hd; "
        "a resumed model keeps its own",
    )
    p.add_argument(
        "--size",
        type=number(16, 1024, integer=True),
        metavar="PX",
        help="face size the model works at (default: the model's)",
    )
    p.add_argument(
        "--batch",
        type=_batch,
        metavar="N",
        help="faces per identity per step (default: the model's; 'auto': the largest that fits on the GPU)",
    )
    p.add_argument(
        "--lr", type=number(0, 1, open_low=True), metavar="RATE", help="learning rate (default: the model's)"
    )
    stop = p.add_mutually_exclusive_group()
    stop.add_argument(
        "--steps",
        type=number(0, 10**12, integer=True),
        metavar="N",
        help="train until N steps in total",
    )
    stop.add_argument("--minutes", type=number(0, 10**7), metavar="M", help="train for M minutes")
    stop.add_argument(
        "--until-ssim",
        type=number(0, 0.9999),
        metavar="S",
        help="train until validation masked SSIM >= S",
    )
    p.add_argument("--device", help="auto (the default), cpu or cuda")
    p.add_argument(
        "--preview-every",
        type=_every(0),
        metavar="N",
        help="write MODEL/preview.png every N steps",
    )
    p.add_argument("--validate-every", type=_every(1), metavar="N", help="validation metrics every N steps")
    p.add_argument("--save-every", type=_every(1), metavar="N", help="checkpoint every N steps")
    p.add_argument(
        "--keep",
        type=number(1, 10_000, integer=True),
        metavar="K",
        help="checkpoints kept besides the best",
    )
    p.add_argument(
        "--seed",
        type=number(0, 2**32 - 1, integer=True),
        help="random seed (data order and augmentation)",
    )
    p.add_argument(
        "--threads",
        type=number(0, 1024, integer=True),
        metavar="N",
        help="CPU threads (default: what a resumed model used, else the free cores)",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the model (GPU; slower start)")
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="deterministic CUDA kernels (slower): the same settings give the same weights on one GPU",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other training setting, e.g. --set augment.rotate_deg=5 --set loss.identity=0 (repeatable; "
        "the names are the fields of TrainConfig, AugmentConfig and LossConfig)",
    )
    # Every option's default is the dataclass's: an option left out is not passed to TrainConfig.
    p.set_defaults(compile=None, deterministic=None)
    p.set_defaults(func=run)


#: TrainConfig field -> the option that sets it (options left out keep the dataclass's default).
_OPTIONS = {
    "model": "model",
    "size": "size",
    "batch": "batch",
    "learning_rate": "lr",
    "steps": "steps",
    "minutes": "minutes",
    "until_ssim": "until_ssim",
    "device": "device",
    "preview_every": "preview_every",
    "validate_every": "validate_every",
    "save_every": "save_every",
    "keep": "keep",
    "seed": "seed",
    "threads": "threads",
    "compile": "compile",
    "deterministic": "deterministic",
}


def _batch(text: str) -> int:
    if text == "auto":
        return 0
    try:
        return int(number(1, 65536, integer=True)(text))
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or 'auto')") from None


def _every(low: int) -> Callable[[str], float]:
    return number(low, 10**9, integer=True)


def identities(args: argparse.Namespace) -> dict[str, str]:
    faces: dict[str, str] = {}
    for name, path in (("A", args.a), ("B", args.b)):
        if path:
            faces[name] = path
    for item in args.face:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise FacecraftError(f"--face takes NAME=FACESET, got {item!r}")
        if name in faces:
            raise FacecraftError(f"identity {name!r} is given twice")
        faces[name] = path
    return faces


def run(args: argparse.Namespace) -> int:
    faces = identities(args)
    output_path(args.output, {f"faceset of {n}": p for n, p in faces.items()}, folder=True)
    from facecraft.train import TrainConfig, train
    from facecraft.train.settings import apply_settings, parse_assignments

    given = {field: getattr(args, option) for field, option in _OPTIONS.items()}
    config = TrainConfig(**{k: v for k, v in given.items() if v is not None})
    config = apply_settings(config, parse_assignments(args.set))
    if not (args.steps or args.minutes or args.until_ssim) and not args.quiet:
        print("training until Ctrl-C (it saves on exit; run the same command to resume)")
    report = train(faces, args.output, config, progress=not args.quiet)
    if not report.main_process:  # torchrun: the main process speaks for all
        return 0
    for w in report.warnings:
        print(f"warning: {w}")
    best = report.best
    print(
        f"{report.model_dir}: step {report.step} ({report.steps_this_run} this run, {report.seconds:.0f} s, "
        f"{report.images_per_second:.0f} faces/s); validation SSIM {report.val_ssim:.3f}"
        + (f", best {best['val_ssim']:.3f} at step {best['step']}" if best else "")
        + f"; stopped: {report.stop_reason}"
    )
    return 0
