"""Same-person thresholds for SFace cosines, calibrated for exactly what ``evaluate`` compares.

OpenCV publishes 0.363 for two single faces with the fp32 SFace model. ``evaluate`` uses the int8 model
(the one shipped offline) and compares a face either with a faceset's identity (the normalised mean of its
embeddings) or with one other face, so both thresholds were measured on the shared media with
``benchmarks/identity_threshold.py`` (9 people: photos, five talking-head clips, two paintings, one old
photo; docs/metrics.md has the distributions). Rule: the cosine a normal fit of the different-person
pairs exceeds with probability 1e-4, or the highest different-person cosine measured if that is higher,
plus 0.05 for what nine people cannot show.
"""

from __future__ import annotations

SOURCE_MATCH = 0.40
"""A face vs a faceset's identity. Measured: different people mean 0.065, sd 0.076, max 0.278 (555 pairs;
normal-fit 1e-4 point 0.346); the same person from another source min 0.837 (30 pairs), from the same
clip min 0.593 (94)."""

PAIR_MATCH = 0.36
"""A face vs one other face. Measured: different people mean 0.055, sd 0.068, max 0.303 (3,712 pairs;
normal-fit 1e-4 point 0.306); the same person from another source min 0.659 (111), from the same clip
min 0.441 (833)."""
