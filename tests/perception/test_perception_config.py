"""Perception configs: shipped files load, every mistake is a ConfigError naming it."""

from __future__ import annotations

import pytest
import yaml

from spatialforge.errors import ConfigError
from spatialforge.perception.base import BACKENDS, backend_class, register
from spatialforge.perception.config import load_config, parse_config

from perception_helpers import CONFIGS

GOOD = {"vocabulary": ["chair"], "stages": {"geometry": "oracle", "detection": {"backend": "oracle"},
                                            "segmentation": {"backend": "oracle", "kwargs": {"erode": 1}}}}


@pytest.mark.parametrize("name", ["tiny_cpu", "hf_default", "moge2", "oracle", "noisy_oracle"])
def test_shipped_configs_load(name, monkeypatch, tmp_path):
    monkeypatch.setenv("SPATIALFORGE_PERCEPTION_MODELS", str(tmp_path))
    monkeypatch.setenv("SPATIALFORGE_ORACLE_SCENES", str(tmp_path))
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert set(cfg.stages) >= {"geometry", "detection", "segmentation"}
    assert "chair" in cfg.vocabulary


def test_model_root_and_env_vars(monkeypatch, tmp_path):
    monkeypatch.setenv("SPATIALFORGE_PERCEPTION_MODELS", str(tmp_path))
    cfg = load_config(CONFIGS / "tiny_cpu.yaml")
    assert cfg.stages["geometry"].kwargs["model"] == str(tmp_path / "depth_anything")
    assert cfg.stages["orientation"].kwargs["head"] == str(tmp_path / "orientation" / "head.safetensors")
    hub = load_config(CONFIGS / "hf_default.yaml")  # no model_root: hub ids pass through
    assert hub.stages["detection"].kwargs["model"] == "google/owlv2-base-patch16-ensemble"
    monkeypatch.delenv("SPATIALFORGE_PERCEPTION_MODELS")
    with pytest.raises(ConfigError, match="SPATIALFORGE_PERCEPTION_MODELS is not set"):
        load_config(CONFIGS / "tiny_cpu.yaml")


def test_digest_changes_with_content_only():
    a, b = parse_config(GOOD), parse_config(dict(GOOD, batch_size=8))
    assert a.digest() == parse_config(GOOD).digest() != b.digest()


@pytest.mark.parametrize("change, message", [
    ({"stages": {**GOOD["stages"], "geometry": "nope"}}, r"unknown geometry backend 'nope'; valid: .*depth_anything_v2.*oracle"),
    ({"stages": {"geometry": "oracle", "detection": "oracle"}}, "missing stage.*segmentation"),
    ({"stages": {**GOOD["stages"], "depth": "oracle"}}, "stages.depth: unknown stage"),
    ({"stages": {**GOOD["stages"], "detection": {"backend": "oracle", "kwarg": {}}}}, "unknown key.*kwarg"),
    ({"vocabulary": []}, "give a vocabulary"),
    ({"vocabulary": ["chair", ""]}, "vocabulary must be a list"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"filter": {"max_white_blak": 0.3}}, "filter: unknown key.*max_white_blak"),
    ({"filter": {"max_white_black": 1.5}}, r"shares and IoUs must be in \[0, 1\]"),
    ({"filter": {"min_objects": 1.5}}, "min_objects: expected int"),
    ({"postprocess": {"nms_iou": -0.1}}, "must be >= 0"),
    ({"extra": 1}, "unknown key.*extra"),
])
def test_bad_configs(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**GOOD, **change})


def test_load_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [unclosed")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad)
    bad.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config(bad)


def test_registry():
    assert backend_class("segmentation", "sam").backend_name == "sam"
    with pytest.raises(ConfigError, match="unknown perception stage 'depth'"):
        backend_class("depth", "oracle")
    with pytest.raises(ValueError, match="already registered"):
        register("geometry", "oracle")(type("Dup", (), {}))
    with pytest.raises(ValueError, match="unknown stage kind"):
        register("depth", "x")
    assert set(BACKENDS) == {"photo_filter", "geometry", "tagging", "detection", "segmentation", "gravity", "orientation"}
