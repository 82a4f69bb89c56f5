"""``facecraft verify``."""

from __future__ import annotations

import argparse
import json

from facecraft.provenance import VerifyReport, verify


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="tell whether an image or video carries facecraft's AI-generated labels",
        description="Look for facecraft's invisible watermark, C2PA content credentials and metadata tags. "
        "Exit code 0 when any label is found, 1 when none, 2 when the file cannot be read.",
    )
    p.add_argument("file", metavar="FILE", help="an image or video")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=run)


def _summary(report: VerifyReport) -> str:
    wm, m, tags = report.watermark, report.manifest, report.metadata
    if wm.found:
        wm_line = (
            f"found (score {wm.score:.1f}, payload {wm.payload_hex}, bit accuracy {wm.bit_accuracy:.3f} "
            f"against the {wm.bit_accuracy_basis})"
        )
    else:
        wm_line = f"not found (score {wm.score:.1f})"
    if wm.earlier_content_ids:
        wm_line += f"; made from an earlier facecraft output (content id {', '.join(wm.earlier_content_ids)})"
    if not m.present:
        c2pa_line = "none"
    elif m.valid:
        trust = "trusted signer" if m.trusted else "signer not on a trust list"
        c2pa_line = f"present and valid ({trust}); source type {m.digital_source_type}"
    else:
        c2pa_line = f"present but TAMPERED or broken: {', '.join(m.failures) or m.error}"
    verdict = "labelled as AI-generated" if report.labelled else "no facecraft label found"
    return "\n".join(
        [
            f"{report.path}: {verdict}",
            f"  watermark: {wm_line}",
            f"  C2PA:      {c2pa_line}",
            f"  metadata:  {tags.text if tags.found else 'none'}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    report = verify(args.file)
    print(json.dumps(report.to_json(), indent=2) if args.json else _summary(report))
    return 0 if report.labelled else 1
