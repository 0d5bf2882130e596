"""Perception: ordinary images -> metric point maps, detections, masks (docs/perception.md).

One protocol per stage kind and a registry of backends in ``base``; transformers backends in
``hf``, ground-truth ones in ``oracle``, measured depth in ``sensor``; ``pipeline`` runs a
config's stages over a batch of images (``ray_runner``: the same stages as Ray Data actor
pools), ``sources.images`` turns the result into scenes, and ``quality`` measures them.
"""
