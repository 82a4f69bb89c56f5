"""Stage 2: train the shared-encoder / per-identity-decoder face model.

``FaceModel`` (inference) is what the swap stage uses; ``train`` is the verb.
"""

from facecraft.train.inference import FaceModel

__all__ = ["FaceModel"]
