"""``facecraft faceset info | preview | curate | merge``."""

from __future__ import annotations

import argparse
import json

from facecraft.cli.checks import number, output_path
from facecraft.errors import FacecraftError
from facecraft.faceset import Faceset
from facecraft.faceset.curate import CurateConfig, curate
from facecraft.faceset.info import faceset_info, format_info
from facecraft.faceset.merge import merge
from facecraft.faceset.preview import write_preview
from facecraft.fileio import FolderLock, same_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("faceset", help="inspect, preview, curate and merge facesets")
    fsub = p.add_subparsers(dest="faceset_command", required=True, metavar="ACTION")

    info = fsub.add_parser("info", help="counts, identities, pose coverage, blur stats")
    info.add_argument("faceset")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=run_info)

    prev = fsub.add_parser("preview", help="write a contact sheet of the faces")
    prev.add_argument("faceset")
    prev.add_argument("-o", "--output", required=True, help="PNG/JPEG to write")
    prev.add_argument(
        "--max", type=number(1, 4096, integer=True), default=64, help="faces on the sheet (default 64)"
    )
    prev.set_defaults(func=run_preview)

    cur = fsub.add_parser("curate", help="keep one identity, drop blur and duplicates, cover poses evenly")
    cur.add_argument("faceset")
    cur.add_argument(
        "--keep",
        type=number(0, 10_000_000, integer=True),
        default=0,
        metavar="N",
        help="faces to keep (default: all that pass)",
    )
    cur.add_argument("-o", "--output", metavar="NEW", help="write a new faceset instead of curating in place")
    cur.add_argument(
        "--identity",
        type=number(0, 2**62, integer=True),
        metavar="ID",
        help="identity cluster to keep (default: largest)",
    )
    cur.add_argument("--min-sharpness", type=number(0), help="blur threshold (default: half the median)")
    cur.add_argument("--json", action="store_true", help="print the coverage report as JSON")
    cur.set_defaults(func=run_curate)

    chk = fsub.add_parser(
        "check", help="find faces whose image is missing or unreadable (exit 1 when any problem is found)"
    )
    chk.add_argument("faceset")
    chk.add_argument("--json", action="store_true", help="print JSON")
    chk.set_defaults(func=run_check)

    rep = fsub.add_parser(
        "repair", help="drop faces whose image is missing or unreadable and files that belong to no face"
    )
    rep.add_argument("faceset")
    rep.set_defaults(func=run_repair)

    mer = fsub.add_parser("merge", help="merge facesets of the same person")
    mer.add_argument("facesets", nargs="+", metavar="FACESET")
    mer.add_argument("-o", "--output", required=True, help="merged faceset (created or extended)")
    mer.add_argument("--force", action="store_true", help="merge even if the identities differ")
    mer.set_defaults(func=run_merge)


def run_info(args: argparse.Namespace) -> int:
    with Faceset.open(args.faceset) as fs:
        info = faceset_info(fs)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def run_preview(args: argparse.Namespace) -> int:
    output_path(args.output, {"faceset": args.faceset}, (".png", ".jpg", ".jpeg"))
    with Faceset.open(args.faceset) as fs:
        path = write_preview(fs, args.output, args.max)
    print(f"wrote {path}")
    return 0


def run_curate(args: argparse.Namespace) -> int:
    if args.output is not None:
        if same_file(args.output, args.faceset):
            raise FacecraftError(
                f"the output {args.output} is the faceset itself; leave out -o to curate in place"
            )
        output_path(args.output, {"faceset": args.faceset}, folder=True)
    config = CurateConfig(keep=args.keep, identity=args.identity, min_sharpness=args.min_sharpness)
    result = curate(args.faceset, config, args.output)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    b, a, d = result["before"], result["after"], result["dropped"]
    print(
        f"dropped {d['other_identities']} of other people, {d['blurry']} blurry (sharpness < "
        f"{result['min_sharpness']}), {d['duplicates_or_unselected']} duplicates/unselected"
    )
    for label, c in (("before", b), ("after ", a)):
        print(
            f"{label}: {c['faces']} faces, {c['pose_cells']} pose cells, yaw {c['yaw_range']}, "
            f"pitch {c['pitch_range']}, brightness {c['brightness_range']}, expression spread "
            f"{c['expression_spread']}"
        )
    extended = result["faces"] != a["faces"]
    print(
        f"curated faceset: {result['faceset']} now holds {result['faces']} faces"
        + (f" ({a['faces']} chosen here, the rest were there before)" if extended else "")
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from facecraft.faceset.repair import check_faceset

    with Faceset.open(args.faceset) as fs:
        result = check_faceset(fs)
    print(json.dumps(result.to_json(), indent=2) if args.json else f"{args.faceset}: {result.summary()}")
    if not result.healthy and not args.json:
        print(f"run 'facecraft faceset repair {args.faceset}' to drop the broken faces")
    return 0 if result.healthy else 1


def run_repair(args: argparse.Namespace) -> int:
    from facecraft.faceset.repair import repair_faceset

    with Faceset.open(args.faceset) as fs, _lock(args.faceset, "faceset repair"):
        found = repair_faceset(fs)
        left = fs.count()
    if found.healthy:
        print(f"{args.faceset}: nothing to repair ({found.summary()})")
    else:
        dropped = len(found.missing) + len(found.unreadable)
        print(
            f"{args.faceset}: dropped {dropped} face(s) whose image was lost, deleted {len(found.orphans)} "
            f"file(s) that belonged to no face; {left} faces remain"
        )
    return 0


def _lock(faceset: str, command: str) -> FolderLock:
    return FolderLock.for_folder(faceset, f"the faceset {faceset}", command)


def run_merge(args: argparse.Namespace) -> int:
    # The output may be one of the facesets (it is extended), but nothing may be written inside another.
    others = {f"faceset {p}": p for p in args.facesets if not same_file(p, args.output)}
    output_path(args.output, others, folder=True)
    n = merge(args.facesets, args.output, force=args.force)
    print(f"merged faceset {args.output} holds {n} faces")
    return 0
