"""Stage 2: train the shared-encoder / per-identity-decoder face model.

>>> from facecraft.train import TrainConfig, train, FaceModel
>>> report = train({"A": "facesets/a", "B": "facesets/b"}, "models/ab", TrainConfig(minutes=10))
>>> faces_b, masks = FaceModel.load("models/ab").convert(aligned_faces_of_a, to="B")

Running ``train`` again on the same folder resumes exactly (weights, Adam state, step, RNG; the data
order and augmentation are functions of (seed, step)). The model folder holds ``model.json``,
``checkpoints/step-NNNNNNNNN/`` (see :mod:`facecraft.train.checkpoint`), ``preview.png`` and
``metrics.jsonl``. Architectures live in :mod:`facecraft.train.models`; tiny models for tests in
:mod:`facecraft.train.testing`.
"""

from facecraft.train.config import TrainConfig
from facecraft.train.inference import FaceModel
from facecraft.train.models import list_architectures
from facecraft.train.run import TrainReport, train

__all__ = ["FaceModel", "TrainConfig", "TrainReport", "list_architectures", "train"]
