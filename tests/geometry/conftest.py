"""Fixtures for the geometry tests; the ray caster lives in geometry_raycast.py."""

import pytest

from geometry_raycast import build_scene
from spatialforge import Box3D


@pytest.fixture
def hand_scene():
    """Three boxes on the floor, pitched and rolled camera."""
    boxes = [
        Box3D((-0.9, 3.2, -1.5 + 0.4), (0.8, 0.8, 0.5), 0.3),
        Box3D((0.6, 3.8, -1.5 + 0.35), (1.2, 0.7, 0.6), -0.5),
        Box3D((0.0, 2.4, -1.5 + 0.15), (0.3, 0.3, 0.2), 0.8),
    ]
    return build_scene(boxes)
