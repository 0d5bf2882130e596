"""Optional dependency groups (pyproject extras) and the error that names the one to install.

The core install covers ``geometry``, ``generate --source folder`` and ``show``; rendering,
training and model evaluation need an extra. Code that needs one calls :func:`require`
before importing it, so a missing package says ``pip install 'spatialforge[render]'``
instead of a bare ``No module named 'trimesh'``.
"""

from __future__ import annotations

import importlib.util

from .errors import SpatialforgeError

# extra -> top-level modules it provides (keep in step with pyproject.toml)
EXTRAS: dict[str, tuple[str, ...]] = {
    "render": ("trimesh", "pyrender"),
    "eval": ("torch", "transformers", "sentence_transformers", "sacrebleu", "matplotlib"),
    "perception": ("torch", "transformers"),
    "ingest": ("h5py",),
    "moge": ("moge", "utils3d", "cv2"),
    "ray": ("ray",),
    "app": ("gradio", "trimesh"),
    "train": ("torch", "transformers", "trl", "accelerate", "peft", "sentence_transformers"),
}


class MissingExtraError(SpatialforgeError, ModuleNotFoundError):
    """An optional dependency group is not installed; the message names the pip command."""


def extras_for(module: str | None) -> list[str]:
    """The extras that provide ``module`` (a dotted name is looked up by its top level)."""
    top = (module or "").split(".")[0]
    return [extra for extra, mods in EXTRAS.items() if top in mods]


def install_hint(module: str, what: str | None = None, extra: str | None = None) -> str:
    extras = [extra] if extra else extras_for(module) or ["all"]
    pip = " or ".join(f"pip install 'spatialforge[{e}]'" for e in extras)
    return f"{what or 'this'} needs the optional {extras[0]!r} dependencies (no module named {module!r}): {pip}"


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise :class:`MissingExtraError` if a module of ``extra`` (or just ``modules``) is not
    installed; nothing is imported."""
    for module in modules or EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(install_hint(module, what, None if modules else extra), name=module)
