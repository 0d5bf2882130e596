"""Vision-language models: loading, tiny offline builders, the RGB-D point-map variants.

The RGB-D model types (``spatialforge_rgbd_*``) are registered with the transformers Auto
classes by :func:`~spatialforge.models.rgbd.register_auto_classes`, which the loaders
(``load_vlm``, ``load_processor``, ``from_base``) call before loading; code that calls
``AutoModelForImageTextToText.from_pretrained`` on an RGB-D checkpoint itself calls it first.
"""

from ..extras import require

require("eval", "spatialforge.models", modules=("torch", "transformers"))  # name the extra

# Importing this package registers nothing with transformers (tests/models/test_models_init.py).
