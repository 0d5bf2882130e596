"""Vision-language models: loading, tiny offline builders, the RGB-D point-map variants.

Importing the package registers the RGB-D model types (``spatialforge_rgbd_*``) with the
transformers Auto classes, so ``load_vlm`` / ``AutoModelForImageTextToText`` load saved RGB-D
checkpoints like any other.
"""

from ..extras import require

require("eval", "spatialforge.models", modules=("torch", "transformers"))  # name the extra
from .rgbd import register_auto_classes as _register_rgbd  # noqa: E402

_register_rgbd()
