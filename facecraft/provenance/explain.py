"""The words for a verify report: what ``facecraft verify`` prints and what the studio's Verify page shows.

One copy of the text: the CLI prints :func:`summary`, ``--json`` and the studio read :func:`report_json`.
"""

from __future__ import annotations

from typing import Any

from facecraft.provenance.verify import VerifyReport, WatermarkReport

EXIT_MEANINGS = {
    0: "AI-generated: facecraft's watermark with a confirmed content id, or valid C2PA content credentials "
    "that declare an AI digital source type",
    1: "no evidence of AI generation found (this proves nothing: labels can be removed)",
    2: "the file (or the key) cannot be read",
    3: "inconclusive: a facecraft mark whose id cannot be confirmed, or broken credentials that claim AI",
}
"""What each of verify's exit codes means."""


def _mark_line(wm: WatermarkReport) -> str:
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


def evidence(report: VerifyReport) -> list[tuple[str, str]]:
    """``(what was looked for, what was found)`` for each kind of label, in the order verify checks them."""
    rows = [("watermark", _mark_line(report.watermark))]
    if report.keyed is not None:
        k = report.keyed
        rows.append(
            (
                "keyed",
                f"found, content id {k.content_id_hex}" if k.found else f"not found (score {k.score:.1f})",
            )
        )
    tags = report.metadata
    rows += [
        ("C2PA", _c2pa_line(report)),
        ("metadata", f"{tags.text} (not evidence)" if tags.found else "none"),
    ]
    return rows


def exit_line(report: VerifyReport) -> str:
    return f"exit {report.exit_code}: {EXIT_MEANINGS[report.exit_code]}"


def summary(report: VerifyReport) -> str:
    """What ``facecraft verify`` prints: the verdict, its reasons, the evidence, the exit code's meaning."""
    return "\n".join(
        [
            f"{report.path}: {report.verdict}",
            *(f"  - {r}" for r in report.reasons()),
            *(f"  {what + ':':<10} {text}" for what, text in evidence(report)),
            f"  {exit_line(report)}",
        ]
    )


def report_json(report: VerifyReport) -> dict[str, Any]:
    """The full report (:meth:`VerifyReport.to_json`) with the words :func:`summary` uses."""
    return {
        **report.to_json(),
        "exit_meaning": EXIT_MEANINGS[report.exit_code],
        "evidence": [list(row) for row in evidence(report)],
        "summary": summary(report),
    }
