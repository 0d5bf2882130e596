"""The ``spatialforge`` command line: thin Typer wrappers over library functions.

Each command parses its options, calls one library function and prints a summary;
heavy imports happen inside the command so ``spatialforge --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])
console = Console(stderr=True)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    return w, h


@app.command()
def scenes(
    out: Path = typer.Option(..., "--out", help="Folder for images/, depth/, masks/ and one JSON per scene."),
    num: int = typer.Option(10, "--num", min=1, help="Number of scenes."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same bytes."),
    size: str = typer.Option("640x480", "--size", help="Image size WIDTHxHEIGHT."),
) -> None:
    """Render procedural indoor scenes with exact ground truth (RGB, metric depth, masks)."""
    from .sources.synthetic import write_scenes

    paths = write_scenes(out, num=num, seed=seed, size=_size(size), progress=True)
    console.print(f"wrote {len(paths)} scenes to {out}")


@app.command()
def geometry(
    folder: Path = typer.Argument(..., help="Folder of scene JSON files with depth and masks."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where estimated scenes go (default: FOLDER/estimated)."),
    use_gravity: bool = typer.Option(False, "--use-camera-gravity/--estimate-gravity",
                                     help="Trust the scene's camera rotation or estimate gravity from the floor."),
) -> None:
    """Re-estimate every scene's 3D boxes from depth and masks alone."""
    from .geometry.estimate import estimate_folder

    manifest = estimate_folder(folder, out=out, use_camera_gravity=use_gravity, progress=True)
    console.print(f"estimated {len(manifest.done)} scenes, skipped {len(manifest.skipped)}; manifest: {manifest.path}")
    for item, reason in manifest.skipped.items():
        console.print(f"  skipped {item}: {reason}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
