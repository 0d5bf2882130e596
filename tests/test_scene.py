import json
import math

import numpy as np
import pytest

from spatialforge import Box3D, Camera, MaskRLE, Object3D, Scene, SceneError
from spatialforge.files import read_depth, read_image, write_depth, write_image
from spatialforge.scene import wrap_yaw


def random_scene(rng: np.random.Generator, n: int = 4, w: int = 64, h: int = 48) -> Scene:
    pitch, roll = rng.uniform(-0.5, 0.2), rng.uniform(-0.1, 0.1)
    base = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)
    cp, sp, cr, sr = math.cos(pitch), math.sin(pitch), math.cos(roll), math.sin(roll)
    Rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    Rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    cam = Camera(rng.uniform(30, 80), rng.uniform(30, 80), rng.uniform(20, 40), rng.uniform(15, 30), w, h,
                 tuple(map(tuple, (base @ Rx @ Rz).tolist())))
    objects = []
    for i in range(n):
        mask = rng.random((h, w)) < 0.2
        objects.append(Object3D(
            id=int(i * 3 + 1), category=str(rng.choice(["chair", "mug", "table"])),
            box3d=Box3D(tuple(rng.normal(size=3)), tuple(rng.uniform(0.1, 2, size=3)), rng.uniform(-4, 4)),
            box2d=tuple(sorted(rng.uniform(0, w, 2))[:1]) + (1.0,) + (w - 1.0, h - 1.0),
            mask=MaskRLE.encode(mask), attributes={"color": "red"},
            references=("the left chair", "the Rightmost mug"),
            front=tuple(np.array([rng.normal(), rng.normal(), 0]) / 1.0) if False else (0.6, 0.8, 0.0),
            confidence=float(rng.uniform()), occlusion=float(rng.uniform()), truncation=0.0,
        ))
    return Scene(f"rand{n}", "img.png", cam, tuple(objects), depth_path="d.npy", metadata={"k": [1, 2]})


@pytest.mark.parametrize("seed", range(20))
def test_json_round_trip_and_double_mirror_are_exact(seed):
    scene = random_scene(np.random.default_rng(seed), n=1 + seed % 5)
    assert Scene.from_json(scene.to_json()) == scene
    m = scene.mirrored()
    assert m != scene
    assert m.mirrored() == scene
    assert Scene.from_json(m.to_json()).mirrored() == scene
    # mirroring preserves distances and sizes
    for a, b in zip(scene.objects, m.objects):
        assert a.box3d.size == b.box3d.size
        assert np.linalg.norm(a.box3d.center) == pytest.approx(np.linalg.norm(b.box3d.center))
        assert a.mask.area == b.mask.area


def test_mirrored_image_matches_mirrored_geometry(tmp_path):
    cam = Camera(50, 50, 20.0, 24, 64, 48)
    img = np.zeros((48, 64, 3), np.uint8)
    img[10:20, 5:15] = 255  # a bright square on the left
    write_image(tmp_path / "img.png", img)
    write_depth(tmp_path / "d.npy", np.full((48, 64), 2.0, np.float32))
    scene = Scene("s", "img.png", cam, (), depth_path="d.npy", root=str(tmp_path))
    m = scene.mirrored()
    assert (m.load_image() == img[:, ::-1]).all()
    # the square's pixel centre unprojects/projects consistently in both views
    uv = np.array([[10.0, 15.0]])
    p = cam.unproject(uv, np.array([2.0]))
    uv_m = m.camera.project(p * [-1, 1, 1])
    assert np.allclose(uv_m, [[64 - 10.0, 15.0]])
    assert m.load_image()[15, 64 - 1 - 10].max() == 255


def test_unproject_project_round_trip():
    rng = np.random.default_rng(0)
    cam = Camera(400.0, 410.0, 310.5, 250.2, 640, 480)
    uv = rng.uniform([0, 0], [640, 480], size=(1000, 2))
    z = rng.uniform(0.3, 20, size=1000)
    assert np.allclose(cam.project(cam.unproject(uv, z)), uv)
    p = rng.normal(size=(100, 3))
    assert np.allclose(cam.world_to_cam(cam.cam_to_world(p)), p)


def test_mask_rle_matches_coco_layout():
    m = np.array([[0, 1], [1, 1]], bool)  # column-major: 0,1,1,1
    rle = MaskRLE.encode(m)
    assert rle.counts == (1, 3) and rle.area == 3
    assert MaskRLE.encode(np.ones((2, 2))).counts == (0, 4)
    assert MaskRLE.encode(np.zeros((2, 2))).counts == (4,)
    assert (MaskRLE.encode(m).decode() == m).all()


def test_mask_mirror_on_runs_matches_dense_flip():
    rng = np.random.default_rng(3)
    for t in range(400):
        h, w = (int(v) for v in rng.integers(1, 14, 2))
        mask = rng.random((h, w)) < rng.random()
        if t % 2:  # one solid blob, possibly touching the borders
            mask = np.zeros((h, w), bool)
            mask[rng.integers(0, h):, rng.integers(0, w):rng.integers(0, w + 1)] = True
        rle = MaskRLE.encode(mask)
        m = rle.mirrored()
        assert m == MaskRLE.encode(mask[:, ::-1]) and hash(m) == hash(MaskRLE.encode(mask[:, ::-1]))
        assert (m.decode() == mask[:, ::-1]).all() and m.area == rle.area
        assert m.mirrored() == rle and m.mirrored().mirrored() == m
    import pickle

    assert pickle.loads(pickle.dumps(rle.mirrored())) == rle.mirrored()
    with pytest.raises(AttributeError, match="immutable"):
        rle.height = 3
    with pytest.raises(SceneError, match="sum to"):
        MaskRLE(2, 2, (1, 2))


@pytest.mark.parametrize("yaw", [0.0, 1.0, -1.0, math.pi / 2, -math.pi / 2, 3.0, -3.0, 7.5, 1e-300])
def test_yaw_wrap_and_mirror_involution(yaw):
    w = wrap_yaw(yaw)
    assert -math.pi / 2 <= w < math.pi / 2
    assert math.isclose(math.cos(2 * w), math.cos(2 * yaw), abs_tol=1e-9)  # same undirected axis
    b = Box3D((1, 2, 3), (1, 1, 1), yaw)
    assert b.mirrored().mirrored() == b


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Box3D((0, 0, 0), (1, -1, 1)), "size must be positive"),
        (lambda: Box3D((0, float("nan"), 0), (1, 1, 1)), "must be finite"),
        (lambda: Camera(-1, 1, 0, 0, 10, 10), "focal lengths"),
        (lambda: Camera(1, 1, 0, 0, 10, 10, ((1, 0, 0), (0, 1, 0), (0, 0, -1))), "rotation"),
        (lambda: Object3D(1, "", Box3D((0, 0, 0), (1, 1, 1))), "category"),
        (lambda: Object3D(1, "cup", Box3D((0, 0, 0), (1, 1, 1)), box2d=(5, 0, 1, 1)), "box2d"),
        (lambda: Object3D(1, "cup", Box3D((0, 0, 0), (1, 1, 1)), front=(1, 1, 0)), "unit"),
        (lambda: Object3D(1, "cup", Box3D((0, 0, 0), (1, 1, 1)), occlusion=1.5), "occlusion"),
    ],
)
def test_invalid_records_are_rejected_with_a_reason(build, message):
    with pytest.raises(SceneError, match=message):
        build()


def test_scene_validation_names_scene_and_object():
    cam = Camera(10, 10, 5, 5, 10, 10)
    box = Box3D((0, 1, 0), (1, 1, 1))
    with pytest.raises(SceneError, match=r"scene 'x': duplicate object id 3"):
        Scene("x", "i.png", cam, (Object3D(3, "a", box), Object3D(3, "b", box)))
    bad_mask = MaskRLE.encode(np.zeros((4, 4)))
    with pytest.raises(SceneError, match=r"scene 'x', object 3 \(a\): mask is 4x4 but the image is 10x10"):
        Scene("x", "i.png", cam, (Object3D(3, "a", box, mask=bad_mask),))


def test_malformed_json_gives_clear_errors(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(SceneError, match="bad.json: not valid JSON"):
        Scene.load(p)
    good = random_scene(np.random.default_rng(0), n=2).to_dict()
    del good["objects"][1]["box3d"]
    p.write_text(json.dumps(good))
    with pytest.raises(SceneError, match=r"bad.json: scene 'rand2': object 4 \('chair'\): box3d is missing"):
        Scene.load(p)
    with pytest.raises(SceneError, match="not found"):
        Scene.load(tmp_path / "missing.json")


def test_bad_image_and_depth_files(tmp_path):
    (tmp_path / "img.png").write_bytes(b"not a png")
    with pytest.raises(SceneError, match=r"scene 's': image file .*img.png is unreadable"):
        read_image(tmp_path / "img.png", "s")
    write_image(tmp_path / "small.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(SceneError, match="is 4x4, expected 8x8"):
        read_image(tmp_path / "small.png", "s", (8, 8))
    (tmp_path / "d.npy").write_bytes(b"garbage")
    with pytest.raises(SceneError, match="depth file .* is unreadable"):
        read_depth(tmp_path / "d.npy", "s")
    np.save(tmp_path / "i.npy", np.zeros((3, 3), np.int64))
    with pytest.raises(SceneError, match="2-D float"):
        read_depth(tmp_path / "i.npy", "s")
    with pytest.raises(SceneError, match="not found"):
        read_depth(tmp_path / "none.npy", "s")


def _scene_dict() -> dict:
    return random_scene(np.random.default_rng(3), n=2).to_dict()


def _set(path: str, value):
    def edit(root):
        *keys, last = path.split(".")
        d = root
        for k in keys:
            d = d[int(k)] if isinstance(d, list) else d[k]
        if value is _DELETE:
            del d[last]
        else:
            d[last] = value
        return root
    return edit


_DELETE = object()


@pytest.mark.parametrize("path, value, message", [
    ("objects.0.references", "the red ball", r"object 1 \('\w+'\): references must be a list of strings, got 'the red"),
    ("objects.1.references", ["ok", 3], r"object 4 \('\w+'\): references must be a list of strings"),
    ("flipped", "no", r"flipped must be true or false, got 'no'"),
    ("flipped", 1, r"flipped must be true or false, got 1"),
    ("camera.width", 640.9, r"camera: width must be an integer, got 640.9"),
    ("camera.height", "48", r"camera: height must be an integer, got '48'"),
    ("camera.fx", True, r"camera: fx must be a number, got True"),
    ("image_path", None, r"image_path is missing or null"),
    ("image_path", 5, r"image_path must be a non-empty string, got 5"),
    ("depth_path", ["d.npy"], r"depth_path must be a non-empty string, got list"),
    ("id", 7, r"id must be a non-empty string, got 7"),
    ("metadata", [1], r"metadata must be an object, got list"),
    ("objects", {"a": 1}, r"objects must be a list, got object"),
    ("objects.0.id", 1.5, r"object #0: id must be an integer, got 1.5"),
    ("objects.0.category", None, r"object 1 \(None\): category is missing or null"),
    ("objects.0.box3d.size", [1, 2], r"object 1 \('\w+'\): box3d.size must be a list of 3 numbers"),
    ("objects.0.box3d.center", ["1", 2, 3], r"box3d.center must be a list of 3 numbers"),
    ("objects.0.box2d", "0 0 5 5", r"box2d must be a list of 4 numbers"),
    ("objects.0.front", [1, 0], r"front must be a list of 3 numbers"),
    ("objects.0.attributes", {"color": 3}, r"attributes must be an object of strings"),
    ("objects.0.mask.counts", [100.5, 3], r"object 1 \('\w+'\): mask.counts must be a list of integers"),
    ("objects.0.mask.size", [48.0, 64], r"mask.size must be \[height, width\] integers"),
    ("objects.0.confidence", None, r"confidence is missing or null, must be a number"),
    ("objects.0.occlusion", "0.5", r"occlusion must be a number, got '0.5'"),
    ("objects.1.mask.size", [4, 4], r"scene 'rand2': object 4 \('\w+'\): mask RLE counts sum to 3072, expected 16"),
])
def test_malformed_fields_are_rejected_naming_field_and_object(tmp_path, path, value, message):
    d = _set(path, value)(_scene_dict())
    with pytest.raises(SceneError, match=message):
        Scene.from_dict(d)
    p = tmp_path / "bad.json"  # through the file: the message also names it
    p.write_text(json.dumps(d))
    with pytest.raises(SceneError, match=r"bad.json: scene"):
        Scene.load(p)


def test_mask_of_wrong_size_names_the_object():
    d = _scene_dict()
    d["objects"][1]["mask"] = MaskRLE.encode(np.ones((4, 4), bool)).to_dict()
    with pytest.raises(SceneError, match=r"scene 'rand2', object 4 \(\w+\): mask is 4x4 but the image is 48x64"):
        Scene.from_dict(d)


def test_optional_fields_may_be_missing_or_null():
    d = _scene_dict()
    for k in ("depth_path", "point_map_path", "metadata", "flipped", "schema_version", "source"):
        d.pop(k, None)
    o = d["objects"][0]
    for k in ("box2d", "mask", "front", "occlusion", "truncation"):
        o[k] = None
    for k in ("attributes", "references", "provenance", "confidence"):
        del o[k]
    del o["box3d"]["yaw"]
    s = Scene.from_dict(d)
    assert s.flipped is False and s.objects[0].references == () and s.objects[0].confidence == 1.0
    assert Scene.from_dict({**_scene_dict(), "flipped": True}).flipped is True


def test_read_depth_mmap_matches_np_load(tmp_path):
    """The memory-mapped read (own .npy header parse for float32 2-D files) returns what
    ``np.load`` does, for the files it maps and for those it leaves to ``np.load``."""
    rng = np.random.default_rng(0)
    arrays = {"f32.npy": rng.random((5, 7), dtype=np.float32), "f64.npy": rng.random((4, 3)),
              "fortran.npy": np.asfortranarray(rng.random((6, 5), dtype=np.float32)),
              "big_endian.npy": rng.random((3, 4)).astype(">f4")}
    for name, arr in arrays.items():
        np.save(tmp_path / name, arr)
        got = read_depth(tmp_path / name, "s", arr.shape, mmap=True)
        assert got.dtype == np.float32 and np.array_equal(got, arr.astype(np.float32))
    assert not read_depth(tmp_path / "f32.npy", mmap=True).flags.writeable  # a read-only map of the file
    full = (tmp_path / "f32.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(full[:-4])  # a valid header over too few pixels
    with pytest.raises(SceneError, match="depth file .* is unreadable"):
        read_depth(tmp_path / "cut.npy", "s", mmap=True)
    with pytest.raises(SceneError, match="expected 5x8"):
        read_depth(tmp_path / "f32.npy", "s", (5, 8), mmap=True)


def test_probe_image_checks_like_read_image_and_returns_the_bytes(tmp_path):
    from spatialforge.files import probe_image

    write_image(tmp_path / "ok.png", np.zeros((4, 6, 3), np.uint8))
    assert probe_image(tmp_path / "ok.png", "s", (4, 6)) == ("PNG", "RGB", (tmp_path / "ok.png").read_bytes())
    (tmp_path / "img.png").write_bytes(b"not a png")
    for read in (read_image, probe_image):  # the same words as read_image, which names the file
        with pytest.raises(SceneError) as e:
            read(tmp_path / "img.png", "s")
        assert str(e.value) == (f"scene 's': image file {tmp_path / 'img.png'} is unreadable "
                                f"(cannot identify image file {str(tmp_path / 'img.png')!r})")
    good = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) - 20])
    with pytest.raises(SceneError, match=r"cut.png is unreadable"):
        probe_image(tmp_path / "cut.png", "s")
    with pytest.raises(SceneError, match="is 4x6, expected 6x4"):
        probe_image(tmp_path / "ok.png", "s", (6, 4))
    with pytest.raises(SceneError, match="not found"):
        probe_image(tmp_path / "none.png", "s")


def test_mask_from_dict_holds_plain_ints():
    """Exact ints are kept as they are; any other number is converted as before (bool, numpy, float)."""
    for counts, want in (([3, 2, 1], (3, 2, 1)), ([np.int64(3), 2, 1], (3, 2, 1)), ([3.0, 2, 1], (3, 2, 1)),
                         ([True, 4, 1], (1, 4, 1))):
        m = MaskRLE.from_dict({"size": [2, 3], "counts": counts})
        assert m.counts == want and all(type(c) is int for c in m.counts)
        assert m.to_dict() == {"size": [2, 3], "counts": list(want)}
    with pytest.raises(SceneError, match="sum to 5"):
        MaskRLE.from_dict({"size": [2, 3], "counts": [3, 2]})
