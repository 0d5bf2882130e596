"""Fixture writers: export synthetic scenes (exact ground truth) into each dataset's native
on-disk layout, so the readers can be tested without the datasets (which may not be shipped).

Each writer follows the format description in docs/datasets.md, deliberately with the
dataset's own conventions (world frames that are not ours, poses in the file's direction,
millimetre depth), so a reader that skips a conversion fails the round trip.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from spatialforge.sources.annotated.omni3d import cuboid_corners

UP = np.array([0.0, 0.0, 1.0])


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def depth_mm(depth: np.ndarray) -> np.ndarray:
    """The format's quantisation: uint16 millimetres, 0 = no data."""
    return np.round(np.nan_to_num(depth, nan=0.0) * 1000).astype(np.uint16)


def visible(scene):
    return [o for o in scene.objects if o.box2d is not None]


def box_axes_world(box):
    """Columns: our w axis, l axis, up (world frame)."""
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# ---------------------------------------------------------------- Omni3D
def write_omni3d(samples, root: Path, name: str = "Synth_test") -> Path:
    """``root/Omni3D/<name>.json`` + ``root/synth/<id>.png`` (file_path relative to ``root``)."""
    (root / "Omni3D").mkdir(parents=True, exist_ok=True)
    (root / "synth").mkdir(parents=True, exist_ok=True)
    images, anns, cats = [], [], {}
    for n, smp in enumerate(samples):
        sc, cam = smp.scene, smp.scene.camera
        rel = f"synth/{sc.id}.png"
        (root / rel).write_bytes(_png(smp.rgb))
        images.append({"id": 100 + n, "dataset_id": 7, "width": cam.width, "height": cam.height,
                       "file_path": rel, "K": cam.K.tolist(), "src_90_rotate": 0})
        for o in visible(sc):
            b = o.box3d
            A = box_axes_world(b)
            # Omni3D local axes: x carries L, y carries H (pointing down), z carries W; right-handed
            R_world = np.stack([A[:, 1], -A[:, 2], -A[:, 0]], 1)
            R_cam = cam.R.T @ R_world
            center = cam.world_to_cam(np.array(b.center))
            w, h, l = b.size
            cats.setdefault(o.category, len(cats))
            anns.append({"id": 1000 * n + o.id, "image_id": 100 + n, "category_id": cats[o.category],
                         "category_name": o.category, "valid3D": True, "behind_camera": False,
                         "center_cam": center.tolist(), "dimensions": [w, h, l], "R_cam": R_cam.tolist(),
                         "bbox3D_cam": cuboid_corners(center, np.array([w, h, l]), R_cam).tolist(),
                         "bbox2D_tight": list(o.box2d), "bbox2D_proj": [-1, -1, -1, -1],
                         "truncation": o.truncation, "visibility": 1 - o.occlusion})
    path = root / "Omni3D" / f"{name}.json"
    path.write_text(json.dumps({"info": {"id": 7, "name": name}, "images": images, "annotations": anns,
                                "categories": [{"id": i, "name": c} for c, i in cats.items()]}))
    return path


# ---------------------------------------------------------------- CA-1M
def rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


GRAVITY_CAM = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # gravity camera -> our world


def ca1m_members(smp, video: str, ts: int, heading: float = 0.7, origin=(3.0, -2.0, 1.4)) -> dict[str, bytes]:
    """The members of one CA-1M frame (names as in the real tars) for a synthetic sample."""
    sc, cam = smp.scene, smp.scene.camera
    # laser-scanner world: z up, our world turned by ``heading`` and moved to ``origin``
    RT = np.eye(4)
    RT[:3, :3] = rot_z(heading) @ cam.R
    RT[:3, 3] = origin
    insts = []
    for o in visible(sc):
        b = o.box3d
        A = box_axes_world(b)
        # cubify's local axes: x carries l, y carries h (down), z carries w; right-handed
        R_world = np.stack([A[:, 1], -A[:, 2], -A[:, 0]], 1)
        w, h, l = b.size
        insts.append({"id": f"{video}-{o.id}", "category": "object" if o.id % 2 else o.category,
                      "position": cam.world_to_cam(np.array(b.center)).tolist(), "R": (cam.R.T @ R_world).tolist(),
                      "scale": [l, h, w], "box_2d_rend": list(o.box2d), "box_2d_proj": list(o.box2d)})
    p = f"{video}/{ts}."
    return {
        p + "wide/image.png": _png(smp.rgb),
        p + "_wide/image/size": f"[{cam.width}, {cam.height}]".encode(),
        p + "wide/image/K": json.dumps(cam.K.tolist()).encode(),
        p + "wide/depth.png": _png(depth_mm(smp.depth)),
        p + "wide/instances.json": json.dumps(insts).encode(),
        p + "wide/T_gravity.json": json.dumps((GRAVITY_CAM.T @ cam.R).tolist()).encode(),
        p + "gt/RT.json": json.dumps(RT.tolist()).encode(),
    }


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def write_ca1m(samples, root: Path, video: str = "42897501") -> Path:
    members: dict[str, bytes] = {}
    for n, smp in enumerate(samples):
        members.update(ca1m_members(smp, video, 1_000_000_000 * (n + 1)))
    members[f"{video}/world.gt/instances.json"] = b"[]"
    return write_tar(root / f"ca1m-val-{video}.tar", members)


# ---------------------------------------------------------------- ARKitScenes
def write_arkitscenes(samples, root: Path, ts0: float = 6845.799) -> list[str]:
    """One capture folder per sample (each is its own room); returns the video ids."""
    from scipy.spatial.transform import Rotation

    videos = []
    for n, smp in enumerate(samples):
        sc, cam = smp.scene, smp.scene.camera
        video = f"4190{n:04d}"
        fdir = root / video / f"{video}_frames"
        for sub in ("lowres_wide", "lowres_depth", "lowres_wide_intrinsics"):
            (fdir / sub).mkdir(parents=True, exist_ok=True)
        heading, origin = 0.4 + n, np.array([1.5, -0.5 + n, 1.2])
        Rz = rot_z(heading)
        R_wc = Rz @ cam.R  # camera -> ARKit world (z up), our world turned and moved
        R_cw, t_cw = R_wc.T, -R_wc.T @ origin  # the file stores world -> camera
        ts = f"{ts0 + n:.3f}"
        name = f"{video}_{ts}"
        (fdir / "lowres_wide" / f"{name}.png").write_bytes(_png(smp.rgb))
        (fdir / "lowres_depth" / f"{name}.png").write_bytes(_png(depth_mm(smp.depth)))
        (fdir / "lowres_wide_intrinsics" / f"{name}.pincam").write_text(
            f"{cam.width} {cam.height} {cam.fx} {cam.fy} {cam.cx} {cam.cy}")
        aa = Rotation.from_matrix(R_cw).as_rotvec()
        (fdir / "lowres_wide.traj").write_text(
            f"{float(ts) - 0.1:.6f} 0 0 0 0 0 0\n"  # another pose, 100 ms earlier
            f"{float(ts) + 0.0004:.6f} " + " ".join(repr(float(x)) for x in (*aa, *t_cw)) + "\n")
        data = []
        for o in sc.objects:
            b = o.box3d
            A = Rz @ box_axes_world(b)
            w, h, l = b.size
            data.append({"uid": str(o.id), "label": o.category.replace(" ", "_"),
                         "segments": {"obbAligned": {"centroid": (Rz @ np.array(b.center) + origin).tolist(),
                                                     "axesLengths": [w, l, h],
                                                     "normalizedAxes": A.T.reshape(-1).tolist()}}})
        (root / video / f"{video}_3dod_annotation.json").write_text(json.dumps({"data": data}))
        videos.append(video)
    return videos


# ---------------------------------------------------------------- ScanNet
def _mat_txt(M: np.ndarray) -> str:
    return "\n".join(" ".join(repr(float(v)) for v in row) for row in np.asarray(M)) + "\n"


def scannet_expected(box, psi: float, origin: np.ndarray):
    """ScanNet's quantisation of a box: the axis-aligned box of its corners in the aligned
    world ``p_al = Rz(psi) p_ours + origin``, expressed back in our frame (centre, size, yaw)."""
    c = box.corners() @ rot_z(psi).T + origin
    lo, hi = c.min(0), c.max(0)
    center = rot_z(psi).T @ ((lo + hi) / 2 - origin)
    d = hi - lo
    return center, (d[0], d[2], d[1]), -psi


def write_scannet(samples, root: Path, psi: float = 0.3, origin=(2.0, 1.0, 1.3), beta: float = -0.5) -> list[str]:
    """One scan per sample: mesh vertices = the boxes' corners in the *unaligned* world
    (``axisAlignment`` A maps it to the aligned one), camera -> world poses, mm depth."""
    import trimesh

    origin = np.asarray(origin, float)
    names = []
    for n, smp in enumerate(samples):
        sc, cam = smp.scene, smp.scene.camera
        name = f"scene{n:04d}_00"
        d = root / name
        for sub in ("color", "depth", "pose", "intrinsic"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        A = np.eye(4)
        A[:3, :3], A[:3, 3] = rot_z(beta), [0.5, -0.25, 0.0]
        A_inv = np.linalg.inv(A)
        T_al = np.eye(4)
        T_al[:3, :3], T_al[:3, 3] = rot_z(psi) @ cam.R, origin  # camera -> aligned world
        pose = A_inv @ T_al  # camera -> unaligned world, as ScanNet stores it
        verts, seg_ids, groups = [], [], []
        for o in sc.objects:
            c = o.box3d.corners() @ rot_z(psi).T + origin
            verts.append(c @ A_inv[:3, :3].T + A_inv[:3, 3])
            seg_ids += [100 + o.id] * 8
            groups.append({"id": o.id, "objectId": o.id, "label": o.category, "segments": [100 + o.id]})
        floor = np.array([[x, y, -cam.R[2] @ [0, 0, 0] - 5] for x in (-3, 3) for y in (-3, 3)])  # far below
        verts.append(floor)
        seg_ids += [7] * 4
        groups.append({"id": 99, "objectId": 99, "label": "floor", "segments": [7]})
        trimesh.PointCloud(np.vstack(verts)).export(d / f"{name}_vh_clean_2.ply")
        (d / f"{name}_vh_clean_2.0.010000.segs.json").write_text(json.dumps({"segIndices": seg_ids}))
        (d / f"{name}.aggregation.json").write_text(json.dumps({"segGroups": groups}))
        (d / f"{name}.txt").write_text("axisAlignment = " + " ".join(repr(float(v)) for v in A.reshape(-1)) + "\n")
        K4 = np.eye(4)
        K4[:3, :3] = cam.K
        (d / "intrinsic" / "intrinsic_color.txt").write_text(_mat_txt(K4))
        (d / "intrinsic" / "intrinsic_depth.txt").write_text(_mat_txt(K4))
        (d / "color" / "0.jpg").write_bytes(_png(smp.rgb))  # PNG bytes: lossless for the test
        (d / "depth" / "0.png").write_bytes(_png(depth_mm(smp.depth)))
        (d / "pose" / "0.txt").write_text(_mat_txt(pose))
        names.append(name)
    return names


# ---------------------------------------------------------------- Hypersim
HYPERSIM_M = 0.0254  # meters_per_asset_unit: the scenes are modelled in inches
FLIP = np.diag([1.0, -1.0, -1.0])  # OpenCV <-> Hypersim (OpenGL) camera axes


def write_h5(path: Path, arr) -> None:
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("dataset", data=np.asarray(arr))


def m_cam_from_uv(cam) -> np.ndarray:
    """Hypersim's ``M_cam_from_uv`` of a pinhole camera: ray = M (u, v, 1) for the pixel centre
    at NDC (u, v), v up; pixel p = (c + 0.5, r + 0.5, 1) has (u, v, 1) = S p."""
    S = np.array([[2.0 / cam.width, 0, -1], [0, -2.0 / cam.height, 1], [0, 0, 1]])
    return FLIP @ np.linalg.inv(cam.K) @ np.linalg.inv(S)


def nyu40_id(category: str) -> int:
    from spatialforge.sources.annotated.hypersim import NYU40

    return NYU40.index(category) + 1 if category in NYU40 else 40  # otherprop


def write_hypersim(samples, root: Path, heading: float = 0.6, origin=(40.0, -25.0, 12.0)) -> list[str]:
    """One scene per sample in asset units (inches): Hypersim world = our world turned by
    ``heading``, moved to ``origin`` (asset units); OpenGL camera; Euclidean distances;
    box rows indexed by semantic instance id (= object id + 1; row 0 is unused, inf)."""
    names, rows = [], []
    origin = np.asarray(origin, float)
    for n, smp in enumerate(samples):
        sc, cam = smp.scene, smp.scene.camera
        name = f"ai_001_{n + 1:03d}"
        d = root / name
        Rz = rot_z(heading)
        (d / "_detail").mkdir(parents=True, exist_ok=True)
        (d / "_detail" / "metadata_scene.csv").write_text(
            f"parameter_name,parameter_value\nmeters_per_asset_unit,{HYPERSIM_M!r}\n")
        write_h5(d / "_detail/cam_00/camera_keyframe_positions.hdf5", np.stack([origin, origin + 1]))
        R_hs = Rz @ cam.R @ FLIP  # Hypersim camera (x right, y up, z back) -> world
        write_h5(d / "_detail/cam_00/camera_keyframe_orientations.hdf5", np.stack([R_hs, np.eye(3)]))
        n_inst = max(o.id for o in sc.objects) + 2
        pos, ext, rot = np.full((n_inst, 3), np.inf), np.full((n_inst, 3), np.inf), np.full((n_inst, 3, 3), np.inf)
        for o in sc.objects:
            b = o.box3d
            w, h, l = b.size
            pos[o.id + 1] = (Rz @ np.array(b.center)) / HYPERSIM_M + origin
            ext[o.id + 1] = np.array([w, l, h]) / HYPERSIM_M  # object x = our w axis, y = l, z = up
            rot[o.id + 1] = Rz @ box_axes_world(b)
        for k, arr in (("positions", pos), ("extents", ext), ("orientations", rot)):
            write_h5(d / f"_detail/mesh/metadata_semantic_instance_bounding_box_object_aligned_2d_{k}.hdf5", arr)
        H, W = smp.depth.shape
        x = (np.arange(W) + 0.5 - cam.cx) / cam.fx
        y = (np.arange(H) + 0.5 - cam.cy) / cam.fy
        dist = smp.depth * np.sqrt(1 + x[None, :] ** 2 + y[:, None] ** 2)  # planar z -> distance to the centre
        geo, fin = d / "images/scene_cam_00_geometry_hdf5", d / "images/scene_cam_00_final_hdf5"
        write_h5(fin / "frame.0000.color.hdf5", (smp.rgb / 255.0) ** 2.2 * 3.0)  # linear HDR
        write_h5(geo / "frame.0000.depth_meters.hdf5", dist.astype(np.float32))
        inst = np.where(smp.instance_ids >= 0, smp.instance_ids + 1, -1).astype(np.int32)
        write_h5(geo / "frame.0000.semantic_instance.hdf5", inst)
        cats = {o.id: nyu40_id(o.category) for o in sc.objects}
        sem = np.vectorize(lambda i: cats.get(int(i), 2), otypes=[np.int32])(smp.instance_ids)  # -1 -> floor
        write_h5(geo / "frame.0000.semantic.hdf5", sem)
        rows.append((name, m_cam_from_uv(cam)))
        names.append(name)
    cols = [f"M_cam_from_uv_{i}{j}" for i in range(3) for j in range(3)]
    lines = ["scene_name,settings_output_img_height,settings_output_img_width," + ",".join(cols)]
    for (name, M), smp in zip(rows, samples):
        cam = smp.scene.camera
        lines.append(f"{name},{float(cam.height)},{float(cam.width)},"
                     + ",".join(repr(float(v)) for v in M.reshape(-1)))
    (root / "metadata_camera_parameters.csv").write_text("\n".join(lines) + "\n")
    return names
