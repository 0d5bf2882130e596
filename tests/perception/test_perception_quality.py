"""The share of generated answers that stay correct (``perception.quality.answer_agreement``):
every answer from oracle perception stays correct; depth error makes some go wrong."""

from __future__ import annotations

from spatialforge.geometry.estimate import estimate_folder
from spatialforge.perception.config import load_config, parse_config
from spatialforge.perception.quality import folder_answer_agreement
from spatialforge.sources.images import perceive_folder

from perception_helpers import CONFIGS


def test_oracle_answers_all_stay_correct_and_depth_error_breaks_some(oracle_env, image_folder, tmp_path):
    estimate_folder(oracle_env, tmp_path / "exact")  # the exact input through the same geometry
    perceive_folder(image_folder, CONFIGS / "oracle.yaml", tmp_path / "oracle")
    exact = folder_answer_agreement(tmp_path / "oracle", tmp_path / "exact", per_task=4)
    asked = {t: c["asked"] for t, c in exact.items()}
    assert sum(asked.values()) > 40 and sum(v > 0 for v in asked.values()) >= 9  # every task but orientation
    assert {t: c["kept"] for t, c in exact.items()} == asked  # 100 %: no answer changed
    raw = load_config(CONFIGS / "oracle.yaml").to_dict()
    raw["stages"]["geometry"] = {"backend": "noisy_oracle", "kwargs": {"scenes": str(oracle_env), "depth_scale": 1.5}}
    perceive_folder(image_folder, parse_config(raw), tmp_path / "scaled")
    scaled = folder_answer_agreement(tmp_path / "scaled", tmp_path / "exact", per_task=4)
    for task in ("point_query", "distance", "size"):  # metric answers 50 % too large: outside 25 %
        assert scaled[task]["asked"] > 0 and scaled[task]["kept"] == 0, (task, scaled[task])
    assert scaled["depth_order"]["kept"] == scaled["depth_order"]["asked"] > 0  # a uniform scale keeps the order
