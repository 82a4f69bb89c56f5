"""``facecraft verify``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facecraft.provenance import VerifyReport, verify
from facecraft.provenance.label import read_key
from facecraft.provenance.store import store_dirs

EPILOG = """exit codes:
  0  AI-generated: facecraft's watermark with a confirmed content id, or valid C2PA content credentials
     that declare an AI digital source type
  1  no evidence of AI generation found (this proves nothing: labels can be removed)
  2  the file (or the key) cannot be read
  3  inconclusive: a facecraft mark whose id cannot be confirmed, or broken credentials that claim AI
Metadata text (comments, descriptions) is reported but never decides: anyone can write anything there."""


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


def _mark_line(report: VerifyReport) -> str:
    wm = report.watermark
    if wm.found:
        line = f"found, content id {wm.content_id_hex} (check bits match; score {wm.score:.1f})"
        if wm.matches_manifest is False:
            line += "; NOT the id the credentials name"
    elif wm.mark and wm.unconfirmed_id_hex:
        line = f"older-format facecraft mark, id {wm.unconfirmed_id_hex} unconfirmed (score {wm.score:.1f})"
    elif wm.mark:
        line = f"a facecraft mark of unknown id (score {wm.score:.1f}; its payload does not check out)"
    else:
        line = f"not found (score {wm.score:.1f})"
    if wm.mark and wm.geometry != "as embedded":
        line += f"; picture {wm.geometry}"
    if wm.earlier_content_ids:
        line += f"; made from an earlier facecraft output (content id {', '.join(wm.earlier_content_ids)})"
    return line


def _c2pa_line(report: VerifyReport) -> str:
    m = report.manifest
    if not m.present:
        stored = report.stored
        return f"none in the file; recovered from {stored.path}" if stored else "none"
    if not m.valid:
        return f"present but TAMPERED or broken: {', '.join(m.failures) or m.error}"
    trust = "trusted signer" if m.trusted else "signer not on a trust list"
    types = ", ".join(t.rsplit("/", 1)[-1] for t in m.source_types) or "none declared"
    return f"valid ({trust}: {m.signer or 'unnamed'}); digital source type {types}"


def _summary(report: VerifyReport) -> str:
    tags = report.metadata
    lines = [
        f"{report.path}: {report.verdict}",
        *(f"  - {r}" for r in report.reasons()),
        f"  watermark: {_mark_line(report)}",
    ]
    if report.keyed is not None:
        k = report.keyed
        keyed = f"found, content id {k.content_id_hex}" if k.found else f"not found (score {k.score:.1f})"
        lines.append(f"  keyed:     {keyed}")
    lines += [
        f"  C2PA:      {_c2pa_line(report)}",
        f"  metadata:  {tags.text if tags.found else 'none'}" + (" (not evidence)" if tags.found else ""),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    key = read_key(args.key) if args.key else None
    stores = tuple(Path(s) for s in args.store) + store_dirs() if args.store else None
    report = verify(args.file, key=key, stores=stores)
    print(json.dumps(report.to_json(), indent=2) if args.json else _summary(report))
    return report.exit_code
