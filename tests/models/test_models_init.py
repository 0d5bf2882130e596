"""RGB-D Auto-class registration is explicit (issue #18): importing the packages registers
nothing with transformers, and the real load paths register before they load, in a fresh
process where nothing registered them earlier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from spatialforge.models.rgbd import convert_base_checkpoint
from tests.fixtures_models import tiny_qwen_path  # noqa: F401

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=300)


def test_importing_the_model_and_training_packages_registers_nothing():
    res = _fresh_python("""
        import spatialforge.models, spatialforge.models.loading, spatialforge.models.rgbd
        import spatialforge.models.rgbd_processor, spatialforge.models.tiny, spatialforge.train.recipes
        import spatialforge.eval.runners
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING
        names = list(CONFIG_MAPPING._extra_content)
        names += [c.model_type for c in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING._extra_content]
        print([k for k in names if k.startswith("spatialforge_rgbd")])
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().splitlines()[-1] == "[]"


def test_the_load_paths_register_before_loading_an_rgbd_checkpoint(tiny_qwen_path, tmp_path):
    rgbd_dir = convert_base_checkpoint(tiny_qwen_path, tmp_path / "rgbd")
    res = _fresh_python(f"""
        import json
        from spatialforge.models.loading import load_processor, load_vlm
        from spatialforge.train.config import ModelConfig
        from spatialforge.train.recipes import load_model_and_processor
        path = {str(rgbd_dir)!r}
        recipe_model, _ = load_model_and_processor(ModelConfig(path, dtype="float32"))
        import spatialforge.models.rgbd as rgbd
        rgbd._registered = False  # load_vlm must register on its own too
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        CONFIG_MAPPING._extra_content.clear()
        eval_model = load_vlm(path, device="cpu")
        print(json.dumps([type(recipe_model).__name__, type(eval_model).__name__,
                          type(load_processor(path)).__name__]))
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    recipe_cls, eval_cls, _ = json.loads(res.stdout.strip().splitlines()[-1])
    assert recipe_cls == eval_cls == "RGBDQwen2_5_VLForConditionalGeneration"
