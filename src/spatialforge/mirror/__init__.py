"""Horizontal mirroring, in one place: every map a left-right flip of the image applies.

- :mod:`.words`: left <-> right in text (referring expressions, plan values, answer labels);
- :mod:`.coords`: clock hours, image x / pixel columns / 2D boxes and points, camera-frame
  points and 3D box answers;
- :mod:`.arrays`: images, depth / id maps, point maps and run-length masks;
- :mod:`.rules`: a whole (question, answer, options) record of another dataset, by exact rules
  or rejected with a reason; :mod:`.llm`, :mod:`.formats`, :mod:`.run`: ``spatialforge mirror``
  (docs/mirroring.md).

Pixel convention (the whole project's): a continuous image x runs over ``[0, W]`` with pixel
``col`` covering ``[col, col + 1)``, so a coordinate maps ``x -> W - x`` and a pixel index maps
``col -> W - 1 - col`` (its centre ``col + 0.5`` goes to ``W - col - 0.5``).  The camera frame
is x right, y down, z forward: a flip negates x and moves the principal point ``cx -> W - cx``.
"""

from .arrays import flip_horizontal, mirror_point_map, mirror_rle_counts
from .coords import (mirror_box2d, mirror_box3d_answer, mirror_box_xywh, mirror_col, mirror_hour, mirror_point2d, mirror_point3d,
                     mirror_rotation, mirror_x)
from .rules import Mirrored, mirror_record
from .words import mirror_label, mirror_side, swap_left_right

__all__ = ["Mirrored", "mirror_record", "flip_horizontal", "mirror_box2d", "mirror_box3d_answer", "mirror_box_xywh", "mirror_col", "mirror_hour", "mirror_label",
           "mirror_point2d", "mirror_point3d", "mirror_point_map", "mirror_rle_counts", "mirror_rotation",
           "mirror_side", "mirror_x", "swap_left_right"]
