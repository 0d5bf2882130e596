"""spatialforge: teach vision-language models 3D spatial reasoning, end to end."""

from .scene import Box3D, Camera, MaskRLE, Object3D, Scene, SceneError

__all__ = ["Box3D", "Camera", "MaskRLE", "Object3D", "Scene", "SceneError"]
__version__ = "0.1.0"
