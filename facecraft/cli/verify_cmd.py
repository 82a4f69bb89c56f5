"""``facecraft verify``."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

from facecraft.provenance import verify
from facecraft.provenance.explain import EXIT_MEANINGS, report_json, summary
from facecraft.provenance.label import read_key
from facecraft.provenance.store import store_dirs

EPILOG = "exit codes:\n" + "".join(
    textwrap.fill(text, 100, initial_indent=f"  {code}  ", subsequent_indent="     ") + "\n"
    for code, text in EXIT_MEANINGS.items()
)
EPILOG += (
    "Metadata text (comments, descriptions) is reported but never decides: anyone can write anything there."
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="tell whether an image or video is labelled as AI-generated, and by what evidence",
        description="Look for facecraft's invisible watermark, C2PA content credentials and metadata tags, "
        "and give a verdict from the evidence.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="an image or video")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument(
        "--key",
        metavar="FILE",
        help="an organisation's watermark key: also look for its keyed mark (see docs/responsible-use.md)",
    )
    p.add_argument(
        "--store",
        metavar="DIR",
        action="append",
        help="a manifest store to recover credentials from by watermark id (default: the local one and "
        "$FACECRAFT_MANIFEST_STORE); may be given more than once",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    key = read_key(args.key) if args.key else None
    stores = tuple(Path(s) for s in args.store) + store_dirs() if args.store else None
    report = verify(args.file, key=key, stores=stores)
    print(json.dumps(report_json(report), indent=2) if args.json else summary(report))
    return report.exit_code
