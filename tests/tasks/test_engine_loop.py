"""The question loop leaves the garbage collector as it found it."""

from __future__ import annotations

import gc

import pytest

from spatialforge.tasks import generate_qa
from spatialforge.tasks.plan import Stream

from taskscenes import random_scene


@pytest.mark.parametrize("was_on", [True, False])
def test_generation_restores_the_collector(was_on, monkeypatch):
    scene = random_scene(1, n=6)
    (gc.enable if was_on else gc.disable)()
    try:
        assert generate_qa(scene, seed=0, qa_per_scene=20).records
        assert gc.isenabled() is was_on

        def fail(self, seq):
            raise RuntimeError("draw failed")

        monkeypatch.setattr(Stream, "choice", fail)  # raises inside the question loop
        with pytest.raises(RuntimeError):
            generate_qa(scene, seed=0, qa_per_scene=20)
        assert gc.isenabled() is was_on
    finally:
        gc.enable()
