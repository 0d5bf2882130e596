"""Old name of :mod:`spatialforge.files` (it shadowed the standard library's ``io``).

Kept only so branches still importing ``spatialforge.io`` (benchmarks/qa_distribution.py) keep
working until they move to ``spatialforge.files``; then delete this file.
"""

from .files import (list_scene_files, probe_image, read_depth, read_image, read_instance_mask,  # noqa: F401
                    write_depth, write_image, write_instance_mask)
from .mirror import flip_horizontal  # noqa: F401
