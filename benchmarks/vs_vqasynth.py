"""QA per CPU-second: our generator vs VQASynth's prompt stage, same scenes, files in -> Parquet out.

    python benchmarks/vs_vqasynth.py --vqasynth PATH/TO/VQASynth [--python PYTHON_WITH_OPEN3D]
                                     [--num-scenes 20] [--qa-per-scene 80] [--repeats 3]

VQASynth is not a dependency: pass a checkout (``git clone https://github.com/remyxai/VQASynth``)
and, with ``--python``, an interpreter that has ``open3d`` and ``pandas``/``pyarrow`` (VQASynth's
stage reads its point clouds with open3d; ``pip install open3d-cpu`` in a separate venv is
enough).  Without them the script says what is missing and exits 0.

Scenes: ``spatialforge.sources.synthetic.write_scenes`` renders them (untimed); each object's
points (depth + instance mask, camera frame, one per ``--voxel`` 1 cm voxel by default; full
resolution with 0) are written as a binary PCD file, its category as the caption, as
VQASynth's earlier stages leave them (untimed).  Denser clouds make VQASynth slower
(``compute_point_cloud_distance`` per pair), so the voxel size is stated with the figure.

Timed, CPU time of one thread, per side in its own process pinned to one core (``--cpu``),
rounds interleaved, median:
- **ours**: ``generate_dataset(source="folder")`` over the scene folder (JSON, image and depth
  reads, QA, PNGs, Parquet), as ``benchmarks/qa_speed.py`` times it.
- **VQASynth**: its ``PromptGenerator`` (``vqasynth/prompts.py``, its own code) per scene:
  ``restore_pointclouds`` (open3d reads of the PCD files), then ``evaluate_predicates_on_pairs``
  on 5 shuffled pairs (as ``PromptGenerator.run`` does) repeated until the scene has
  ``--qa-per-scene`` distinct prompts, ``create_messages_from_prompts``, and the rows written to
  Parquet with pandas.  Only an import-time stub differs: ``vqasynth.scene_fusion`` (torch,
  VGGT, needed by other stages) is replaced by its ``restore_pointclouds``, same code.
Target (issue #17): ours >= 20x VQASynth's stage at 80 QA/scene.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

_VQASYNTH_CHILD = r"""
import json, random, sys, time, types
from pathlib import Path
import open3d as o3d
import pandas as pd
sys.path.insert(0, sys.argv[1])
stub = types.ModuleType("vqasynth.scene_fusion")  # VQASynth's restore_pointclouds, without torch/VGGT
def restore_pointclouds(pointcloud_paths):
    if len(pointcloud_paths) == 1 and isinstance(pointcloud_paths[0], list):
        pointcloud_paths = pointcloud_paths[0]
    return [o3d.io.read_point_cloud(p) for p in pointcloud_paths]
stub.restore_pointclouds = restore_pointclouds
sys.modules["vqasynth.scene_fusion"] = stub
from vqasynth.prompts import PromptGenerator
scenes = json.loads(Path(sys.argv[2]).read_text())
budget, out = int(sys.argv[3]), Path(sys.argv[4])
random.seed(0)
gen = PromptGenerator()
t0 = time.process_time()
rows = []
for sc in scenes:
    objects = list(zip(sc["captions"], restore_pointclouds(sc["pointclouds"])))
    pairs = [(i, j) for i in range(len(objects)) for j in range(len(objects)) if i != j]
    prompts, tries = [], 0
    while len(prompts) < budget and tries < 50:
        random.shuffle(pairs)
        new = gen.evaluate_predicates_on_pairs([(objects[i], objects[j]) for i, j in pairs[:5]], True)
        prompts.extend(p for p in new if p not in prompts)
        tries += 1
    prompts = prompts[:budget]
    for k in range(0, len(prompts), 5):
        rows.append({"image": sc["image"], "prompts": prompts[k:k + 5],
                     "messages": json.dumps(gen.create_messages_from_prompts(prompts[k:k + 5]))})
    sc["n"] = len(prompts)
pd.DataFrame(rows).to_parquet(out / "vqasynth.parquet", compression="zstd")
dt = time.process_time() - t0
print(json.dumps({"n": sum(s["n"] for s in scenes), "cpu": dt}))
"""


def _write_pcd(path: Path, pts) -> None:
    """Binary PCD (what open3d's ``write_point_cloud`` writes for xyz), no open3d needed."""
    import numpy as np

    pts = np.ascontiguousarray(pts, dtype="<f4")
    head = (f"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n"
            f"COUNT 1 1 1\nWIDTH {len(pts)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(pts)}\nDATA binary\n")
    path.write_bytes(head.encode() + pts.tobytes())


def _voxel(pts, size: float):
    """One point per occupied ``size`` voxel (the first), as a down-sampling stage leaves clouds."""
    import numpy as np

    if size <= 0:
        return pts
    _, first = np.unique(np.floor(pts / size).astype(np.int64), axis=0, return_index=True)
    return pts[np.sort(first)]


def _vqasynth_inputs(scene_dir: Path, out: Path, voxel: float) -> Path:
    """Per scene: captions, one PCD per object (points of its mask, camera frame), the image path."""
    sys.path.insert(0, str(SRC))
    from spatialforge.files import list_scene_files
    from spatialforge.geometry.pointmap import depth_to_point_map
    from spatialforge.scene import Scene

    out.mkdir(parents=True, exist_ok=True)
    scenes = []
    for p in list_scene_files(scene_dir):
        sc = Scene.load(p)
        pts, valid = depth_to_point_map(sc.load_depth(), sc.camera)
        caps, pcds = [], []
        for o in sc.objects:
            if o.mask is None:
                continue
            sel = o.mask.decode().astype(bool) & valid
            if sel.sum() < 20:
                continue
            f = out / f"{sc.id}_{o.id}.pcd"
            _write_pcd(f, _voxel(pts[sel], voxel))
            caps.append(o.category.replace("_", " "))
            pcds.append(str(f))
        if len(caps) >= 2:
            scenes.append({"image": str(sc._path(sc.image_path)), "captions": caps, "pointclouds": pcds})
    path = out / "scenes.json"
    path.write_text(json.dumps(scenes))
    return path


def _run_child(cmd: list[str], env: dict, cpu: int | None = None) -> tuple[int, float]:
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))  # as `taskset -c cpu`
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=pin)
    if res.returncode != 0:
        raise SystemExit(f"run failed: {' '.join(cmd[:2])} ...\n{res.stderr[-3000:]}")
    d = json.loads(res.stdout.strip().splitlines()[-1])
    return d["n"], d["cpu"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vqasynth", type=Path, default=None, help="a VQASynth checkout (holds vqasynth/prompts.py)")
    ap.add_argument("--python", default=sys.executable, help="interpreter with open3d + pandas for VQASynth's side")
    ap.add_argument("--num-scenes", type=int, default=20)
    ap.add_argument("--qa-per-scene", type=int, default=80)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--voxel", type=float, default=0.01,
                    help="metres; object clouds are down-sampled to this voxel before VQASynth reads them (0: full)")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)),
                    help="core both sides' timed runs are pinned to (default: the highest this process may use; -1: none)")
    args = ap.parse_args()
    cpu = None if args.cpu < 0 else args.cpu
    if args.vqasynth is None or not (args.vqasynth / "vqasynth" / "prompts.py").is_file():
        print(f"skipped: no VQASynth checkout (--vqasynth {args.vqasynth}: vqasynth/prompts.py not found); "
              "clone https://github.com/remyxai/VQASynth and pass its path")
        return
    probe = subprocess.run([args.python, "-c", "import open3d, pandas, pyarrow"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"skipped: {args.python} cannot import open3d, pandas and pyarrow (VQASynth's stage needs them): "
              f"{probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else 'error'}; "
              "make a venv with `pip install open3d-cpu pandas pyarrow` and pass --python")
        return
    sys.path.insert(0, str(HERE))
    from qa_speed import _measure  # our side, timed exactly as qa_speed.py times it

    sys.path.insert(0, str(SRC))
    from spatialforge.sources.synthetic import write_scenes

    W, H = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="sf_vs_vqasynth_") as tmp:
        tmp = Path(tmp)
        write_scenes(tmp / "scenes", num=args.num_scenes, seed=0, size=(W, H))
        write_scenes(tmp / "warm", num=2, seed=1000, size=(W, H))
        for d in ("scenes", "warm"):
            (tmp / d / "manifest.json").unlink(missing_ok=True)
        vq_scenes = _vqasynth_inputs(tmp / "scenes", tmp / "vq_in", args.voxel)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONHASHSEED": "0"}
        ours, theirs = [], []
        for _ in range(args.repeats):  # interleaved rounds
            n, secs = _measure(SRC, tmp / "scenes", tmp / "warm", tmp / "out_ours", args.qa_per_scene, False, cpu)
            ours.append(n / secs)
            vq_out = tmp / "out_vq"
            shutil.rmtree(vq_out, ignore_errors=True)
            vq_out.mkdir()
            n2, secs2 = _run_child([args.python, "-c", _VQASYNTH_CHILD, str(args.vqasynth.resolve()), str(vq_scenes),
                                   str(args.qa_per_scene), str(vq_out)], env, cpu)
            theirs.append(n2 / secs2)
        ratios = [a / b for a, b in zip(ours, theirs)]
        med = statistics.median
        print(f"{args.num_scenes} synthetic scenes {W}x{H}, {args.qa_per_scene} QA/scene, VQASynth clouds at "
              f"{args.voxel} m voxels, one thread{'' if cpu is None else f' pinned to core {cpu}'}, CPU time, "
              f"median of {args.repeats} interleaved rounds; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores (above ~1 other jobs shared them)")
        print(f"ours     : {med(ours):>9,.0f} QA/s/core (generate_dataset, scene files -> Parquet)")
        print(f"VQASynth : {med(theirs):>9,.0f} QA/s/core (prompt stage: PCD reads -> prompts -> Parquet)")
        print(f"ratio    : {med(ratios):.1f}x (per round {', '.join(f'{r:.1f}' for r in ratios)})   target >= 20x: "
              f"{'MET' if med(ratios) >= 20 else 'NOT MET'}")


if __name__ == "__main__":
    main()
