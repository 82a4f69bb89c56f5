"""``make demo``: the whole pipeline on the embedded default portraits, or on the user's own media.

The embedded default uses two public-domain portraits that ship inside packages already
installed: Grace Hopper (matplotlib) and the astronaut Eileen Collins (scikit-image).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.extract import ExtractConfig, extract
from facecraft.faceset import Faceset
from facecraft.faceset.preview import write_preview


def embedded_portraits() -> tuple[Path, Path]:
    """Paths of the two public-domain portraits shipped with matplotlib and scikit-image."""
    paths = []
    for package, rel in (
        ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
        ("skimage", "data/astronaut.png"),
    ):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise FacecraftError(f"the package {package} (which ships the demo portrait) is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / rel
        if not path.is_file():
            raise FacecraftError(f"the demo portrait {rel} is missing from {package}")
        paths.append(path)
    return paths[0], paths[1]


@dataclass
class DemoResult:
    out: Path
    files: dict[str, Path] = field(default_factory=dict)


def run_demo(
    out: str | Path, a: list[str] | None = None, b: list[str] | None = None, progress: bool = True
) -> DemoResult:
    """Run the demo pipeline into ``out``; ``a``/``b`` are the user's media (default: the embedded portraits)."""
    if bool(a) != bool(b):
        raise FacecraftError("give both A=... and B=... (or neither for the embedded default)")
    default_a, default_b = embedded_portraits()
    inputs = {"A": a or [str(default_a)], "B": b or [str(default_b)]}
    out = Path(out)
    result = DemoResult(out)
    config = ExtractConfig(size=256)
    for name, media in inputs.items():
        faceset_dir = out / "facesets" / name
        report = extract(list(media), faceset_dir, config, progress=progress)
        result.files[f"faceset {name}"] = faceset_dir
        with Faceset.open(faceset_dir) as fs:
            sheet = write_preview(fs, out / f"faceset_{name}.png")
        result.files[f"preview {name}"] = sheet
        print(f"{name}: {report.output_summary()}")
    return result
