"""Geometry from depth: point maps, per-object cleanup, gravity from the floor, 3D boxes.

    from spatialforge.geometry import estimate_scene, estimate_folder
    result = estimate_scene(scene)                  # depth + masks -> boxes (never reads GT boxes)
    manifest = estimate_folder("data/synth")        # every scene JSON -> data/synth/estimated/

Modules: ``pointmap`` (depth -> camera points), ``masks`` (RLE/instance map -> pixels),
``cleanup`` (mixed pixels, DBSCAN), ``gravity`` (floor RANSAC, R_world_cam), ``boxes``
(hull + minimum-area rectangle), ``completion`` (symmetric completion of one-sided
clouds), ``support`` (hidden bottoms rest on a support), ``estimate`` (the pipeline).
"""

from .boxes import fit_box3d, min_area_rectangle
from .cleanup import CleanupConfig, clean_object_points, dbscan_labels
from .estimate import EstimateResult, GeometryConfig, estimate_folder, estimate_scene
from .gravity import FloorPlane, GravityConfig, fit_floor_plane, gravity_angle_deg, rotation_from_up
from .pointmap import depth_to_point_map

__all__ = [
    "CleanupConfig", "EstimateResult", "FloorPlane", "GeometryConfig", "GravityConfig", "clean_object_points",
    "dbscan_labels", "depth_to_point_map", "estimate_folder", "estimate_scene", "fit_box3d", "fit_floor_plane",
    "gravity_angle_deg", "min_area_rectangle", "rotation_from_up",
]
