"""The benchmark registry and the shared loaders (every benchmark, bad names, bad files)."""

from __future__ import annotations

import json

import pytest

from spatialforge.eval.benchmarks import Benchmark, BenchmarkError, get_benchmark, list_benchmarks, register_benchmark
from spatialforge.eval.benchmarks.base import image_ref, open_image, read_local_rows
from tests.eval.benchfix import png

EXPECTED = {"cvbench", "embspatial", "openspaces", "qspatial_plus", "qspatial_scannet", "robospatial",
            "spatialrgpt", "synthetic", "threedsr", "vqasynth_spacellava",
            "vsibench", "vsibench_debiased", "vsibench_pruned", "mmsi_bench", "omnispatial", "viewspatial",
            "site", "site_video", "sparbench", "sparbench_tiny"}


def test_registry_lists_every_benchmark():
    assert set(list_benchmarks()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_benchmark_is_described(name):
    bench = get_benchmark(name)
    assert isinstance(bench, Benchmark) and bench.name == name and bench.description


def test_unknown_benchmark_lists_valid_names():
    with pytest.raises(BenchmarkError) as e:
        get_benchmark("cv-bench")
    assert "unknown benchmark 'cv-bench'" in str(e.value)
    for name in EXPECTED:
        assert name in str(e.value)


def test_double_registration_is_refused():
    with pytest.raises(BenchmarkError, match="registered twice"):
        register_benchmark("cvbench")(type("Other", (Benchmark,), {}))


def test_synthetic_needs_a_local_source():
    with pytest.raises(BenchmarkError, match="needs a local source"):
        get_benchmark("synthetic").load()


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(BenchmarkError, match="neither an existing path nor a Hugging Face dataset id"):
        get_benchmark("cvbench").load(str(tmp_path / "nope" / "data.jsonl"))


def test_malformed_jsonl_names_the_line(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(BenchmarkError, match=r"rows.jsonl:2: not valid JSON"):
        read_local_rows(p)


def test_rows_off_schema_name_the_row(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text(json.dumps({"question": "q"}) + "\n")
    with pytest.raises(BenchmarkError, match=r"row 0 .* does not match the official schema"):
        get_benchmark("cvbench").load(p)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(BenchmarkError, match="no .parquet"):
        read_local_rows(tmp_path)


def test_image_refs_decode_every_stored_form(tmp_path):
    import base64

    raw = png((1, 2, 3), (5, 4))
    (tmp_path / "a.png").write_bytes(raw)
    assert image_ref({"bytes": raw, "path": None}, None) == raw
    assert image_ref(base64.b64encode(raw).decode(), tmp_path) == raw
    assert image_ref("a.png", tmp_path) == str(tmp_path / "a.png")
    assert open_image(image_ref("a.png", tmp_path)).size == (5, 4)
    with pytest.raises(BenchmarkError, match="not found"):
        open_image(str(tmp_path / "b.png"))
    with pytest.raises(BenchmarkError, match="URL"):
        open_image("http://images.cocodataset.org/x.jpg")


def test_limit_takes_the_first_samples(tmp_path):
    from tests.eval.benchfix import write_cvbench

    src = write_cvbench(tmp_path)
    assert [s.id for s in get_benchmark("cvbench").load(src, limit=2)] == ["0", "1"]
    with pytest.raises(BenchmarkError, match="limit"):
        get_benchmark("cvbench").load(src, limit=-1)


def test_unknown_prompt_style(tmp_path):
    from tests.eval.benchfix import write_cvbench

    bench = get_benchmark("cvbench")
    s = bench.load(write_cvbench(tmp_path))[0]
    with pytest.raises(BenchmarkError, match="prompt style"):
        bench.build_prompt(s, "cot")


def test_hub_rows_keep_images_undecoded_and_name_their_split(monkeypatch):
    """The Hugging Face path, with ``load_dataset`` replaced by an in-memory dataset."""
    import datasets
    from datasets import Dataset, DatasetDict, Features, Image, List, Value

    from spatialforge.eval.benchmarks.base import read_hf_rows

    raw = png()
    feats = Features({"image": Image(), "images": List(Image()), "q": Value("string")})
    part = Dataset.from_dict({"image": [{"bytes": raw, "path": None}], "images": [[{"bytes": raw, "path": None}]],
                              "q": ["x"]}, features=feats)
    calls = []

    def fake_load(dataset_id, config=None, split=None):
        calls.append((dataset_id, config, split))
        return DatasetDict(context=part, configuration=part) if split is None else part

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    rows = list(read_hf_rows("org/bench", None, None))
    assert [r["_split"] for r in rows] == ["context", "configuration"]
    assert rows[0]["image"]["bytes"] == raw and rows[0]["images"][0]["bytes"] == raw
    assert list(read_hf_rows("org/bench", "2D", "test"))[0]["_split"] == "test"
    assert calls[-1] == ("org/bench", "2D", "test")

    def offline(*a, **k):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(BenchmarkError, match="pass the local folder as the source"):
        get_benchmark("cvbench").load()


def test_repeated_ids_get_stable_suffixes(tmp_path):
    from tests.eval.benchfix import write_cvbench

    root = write_cvbench(tmp_path)
    lines = (root / "test_2d.jsonl").read_text().splitlines()
    (root / "test_2d.jsonl").write_text("\n".join(lines + [lines[0]]) + "\n")  # idx 0 twice
    ids = [s.id for s in get_benchmark("cvbench").load(root)]
    assert ids.count("0") == 1 and "0#1" in ids and len(set(ids)) == len(ids)
