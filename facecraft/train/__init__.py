"""Stage 2: train the shared-encoder / per-identity-decoder face model.

``train`` is the verb; ``FaceModel`` (inference) is what the swap stage uses.
"""

from facecraft.train.config import TrainConfig
from facecraft.train.inference import FaceModel
from facecraft.train.models import list_architectures
from facecraft.train.run import TrainReport, train

__all__ = ["FaceModel", "TrainConfig", "TrainReport", "list_architectures", "train"]
