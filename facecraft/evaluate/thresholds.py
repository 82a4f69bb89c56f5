"""Same-person thresholds for SFace cosines, calibrated for exactly what ``evaluate`` compares.

OpenCV publishes 0.363 for two single faces with the fp32 SFace model. ``evaluate`` uses the int8 model
(the one shipped offline) and compares a face either with a faceset's identity (the normalised mean of its
embeddings) or with one other face, so both thresholds were measured on the shared media with
``benchmarks/identity_threshold.py``; they live with the embeddings in :mod:`facecraft.face.identity`
(extract, faceset and train compare with them too) and are named here for ``evaluate``.
"""

from __future__ import annotations

from facecraft.face.identity import PAIR_MATCH, SOURCE_MATCH

__all__ = ["PAIR_MATCH", "SOURCE_MATCH"]
