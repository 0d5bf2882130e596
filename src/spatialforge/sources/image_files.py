"""Reading ordinary image files as 8-bit RGB, and the pixel-level image filter.

Conversions (so a photo's pixels mean what they should): EXIF orientation applied; 16-bit
greyscale scaled to 8 bits (not clipped at 255); alpha composited over white; palette,
greyscale and CMYK converted by Pillow.  Float images (depth maps, HDR) are refused.
Every failure is a ``DataError`` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def list_image_files(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder`` (by suffix, any case), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _to_rgb(im: Image.Image, path: Path) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I"):
        arr = np.asarray(im).astype(np.int64)
        if arr.min() < 0 or arr.max() > 65535:
            raise DataError(f"{path}: {mode} image with values outside 0..65535 is not a 16-bit photo")
        grey = np.round(arr / 257.0).astype(np.uint8)  # 65535 -> 255, keeps the full range
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        raise DataError(f"{path}: floating-point image (a depth map or HDR?), not a photo")
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def load_rgb(path: str | Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an image file, or ``DataError``."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            im = ImageOps.exif_transpose(im) or im
            rgb = _to_rgb(im, path)
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: unreadable image ({type(e).__name__}: {e})") from None
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def white_black_share(rgb: np.ndarray) -> float:
    """Share of pixels that are pure white (255, 255, 255) or pure black (0, 0, 0)."""
    white = np.all(rgb == 255, axis=2)
    black = np.all(rgb == 0, axis=2)
    return float(np.mean(white | black))


def check_pixels(rgb: np.ndarray, name: str, min_side: int, max_white_black: float) -> None:
    """The filter before perception: too small, or mostly blank (HiSpatial §3.1)."""
    h, w = rgb.shape[:2]
    if min(h, w) < min_side:
        raise DataError(f"{name}: image is {w}x{h}, smaller than {min_side} px on a side")
    share = white_black_share(rgb)
    if share > max_white_black:
        raise DataError(f"{name}: {share:.0%} of pixels are pure white or black (> {max_white_black:.0%})")
