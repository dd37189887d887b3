"""Tests for kitlib.data.folders (scan_images, image_folder, junyanz_folders) on fixture files written here."""

import io
import pathlib
import warnings

import numpy as np
import pytest
from PIL import Image

from kitlib import data
from kitlib.data.bench import data_throughput



def _rgb(h=24, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _smooth(h=24, w=32, color=(200, 40, 90)):
    """A flat-colour image (survives JPEG almost exactly)."""
    return np.broadcast_to(np.array(color, np.uint8), (h, w, 3)).copy()


def _jpeg_bytes(array, quality=95):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _load_all(ds):
    return [x for x in ds.as_numpy_iterator()]


@pytest.fixture
def messy(tmp_path):
    """A folder with every kind of trouble a scraped dataset has."""
    root = tmp_path / "messy"
    (root / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(_smooth()).save(root / "a_good.jpg", quality=95)
    Image.fromarray(_smooth(color=(10, 200, 30))).save(root / "sub" / "deeper" / "b_good.JPG", quality=95)
    (root / "c_truncated.jpg").write_bytes(_jpeg_bytes(_rgb(64, 64))[:-400])
    (root / "d_page.jpg").write_bytes(b"<!DOCTYPE html>\n<html><head><title>403</title></head></html>")
    Image.fromarray(_smooth(color=(0, 0, 255))).save(root / "e_png_named.jpg", format="PNG")
    Image.fromarray(np.full((24, 32), 77, np.uint8)).save(root / "f_grey.png")
    rgba = np.dstack([_smooth(color=(255, 0, 0)), np.zeros((24, 32), np.uint8)])
    rgba[:, :16, 3] = 255  # left half opaque red, right half fully transparent
    Image.fromarray(rgba).save(root / "g_rgba.png")
    Image.fromarray(_smooth(color=(0, 255, 0))).convert("CMYK").save(root / "h_cmyk.jpg", quality=95)
    Image.fromarray(np.full((24, 32), 40000, np.uint16)).save(root / "i_16bit.png")
    frames = [Image.fromarray(_smooth(color=c)) for c in ((255, 255, 0), (0, 0, 0))]
    frames[0].save(root / "j_anim.gif", save_all=True, append_images=frames[1:], duration=100)
    Image.fromarray(_rgb(6, 6)).save(root / "k_tiny.png")
    (root / "notes.txt").write_text("not an image")
    (root / "._a_good.jpg").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork: ignored
    return root


def test_scan_reports_every_kind_of_file(messy):
    report = data.scan_images(messy, min_size=8)
    names = [p.name for p in report.good]
    assert names == ["a_good.jpg", "e_png_named.jpg", "f_grey.png", "g_rgba.png", "h_cmyk.jpg", "i_16bit.png",
                     "j_anim.gif", "b_good.JPG"]  # sorted by relative path: sub/ after top-level files
    skipped = {reason: [p.name for p in files] for reason, files in report.skipped.items()}
    assert skipped == {"corrupt or truncated": ["c_truncated.jpg"], "not an image (HTML page)": ["d_page.jpg"],
                       "smaller than min_size": ["k_tiny.png"]}
    assert report.converted == {"L": 1, "RGBA": 1, "CMYK": 1, "I;16": 1, "P": 1}
    assert [p.name for p in report.animated] == ["j_anim.gif"]
    assert [p.name for p in report.mismatched] == ["e_png_named.jpg"]
    assert report.num_files == 11 and report.num_skipped == 3
    text = report.summary()
    for expected in ("8 usable images of 11", "c_truncated.jpg", "d_page.jpg", "CMYK: 1", "j_anim.gif",
                     "e_png_named.jpg"):
        assert expected in text


def test_image_folder_converts_and_warns(messy):
    with pytest.warns(UserWarning, match="Skipped 3") as caught:
        ds = data.image_folder(messy, 16, min_size=8)
    assert "c_truncated.jpg" in str(caught[0].message)
    images = _load_all(ds)
    assert len(images) == 8 == int(ds.cardinality())
    assert all(x.shape == (16, 16, 3) and x.dtype == np.uint8 for x in images)
    by_name = dict(zip([p.name for p in ds.scan_report.good], images))
    np.testing.assert_allclose(by_name["a_good.jpg"].mean(axis=(0, 1)), (200, 40, 90), atol=4)
    np.testing.assert_allclose(by_name["e_png_named.jpg"].mean(axis=(0, 1)), (0, 0, 255), atol=1)
    assert (by_name["f_grey.png"] == 77).all()
    rgba = by_name["g_rgba.png"]  # transparent half composited on white, opaque half red
    np.testing.assert_array_equal(rgba[:, 0], np.tile([255, 0, 0], (16, 1)))
    np.testing.assert_array_equal(rgba[:, -1], np.tile([255, 255, 255], (16, 1)))
    np.testing.assert_allclose(by_name["h_cmyk.jpg"].mean(axis=(0, 1)), (0, 255, 0), atol=6)
    assert (by_name["i_16bit.png"] == round(40000 / 257)).all()  # 16-bit scaled, not clipped to white
    np.testing.assert_array_equal(by_name["j_anim.gif"][0, 0], [255, 255, 0])  # first frame


def test_image_folder_strict_raises_on_first_bad_file(messy):
    with pytest.raises(ValueError, match=r"c_truncated\.jpg: corrupt or truncated.*strict=False"):
        data.image_folder(messy, 16, strict=True)


def test_image_folder_limit_stops_early_and_keeps_order(messy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = data.image_folder(messy, 8, limit=2)
    assert [p.name for p in ds.scan_report.good] == ["a_good.jpg", "e_png_named.jpg"]
    assert len(_load_all(ds)) == 2


def test_image_folder_center_crop_none_and_random(tmp_path):
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 255  # white centre third
    Image.fromarray(wide).save(tmp_path / "wide.png")
    (center,) = _load_all(data.image_folder(tmp_path, 10))
    assert (center == 255).all()  # resize shorter side to 10, centre square = the white part
    (squashed,) = _load_all(data.image_folder(tmp_path, 10, crop="none"))
    assert squashed.shape == (10, 10, 3) and squashed[:, 0].max() == 0 and (squashed[:, 5] == 255).all()
    (kept,) = _load_all(data.image_folder(tmp_path, 10, crop="random"))
    assert kept.shape == (10, 30, 3)
    batch = next(iter(data.prepare(data.image_folder(tmp_path, 10, crop="random"), 1,
                                   augment=data.jitter(10, scale=1.0))))
    assert batch.shape == (1, 10, 10, 3)


def test_image_folder_is_deterministic_and_resizes_with_antialiasing(tmp_path):
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    Image.fromarray(stripes).save(tmp_path / "stripes.png")
    (small,) = _load_all(data.image_folder(tmp_path, 8))
    assert abs(float(small.mean()) - 127.5) < 3 and small.std() < 5  # averaged, not aliased to 0 or 255


def test_missing_folder_names_path_and_parent(tmp_path):
    (tmp_path / "faces_64").mkdir()
    with pytest.raises(FileNotFoundError, match=r"faces64.*faces_64"):
        data.image_folder(tmp_path / "faces64", 32)


def test_empty_folder_and_folder_without_images_list_extensions(tmp_path):
    with pytest.raises(ValueError, match="Found: nothing"):
        data.image_folder(tmp_path, 32)
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.csv").write_text("x")
    (tmp_path / "c.csv").write_text("x")
    with pytest.raises(ValueError, match=r"No image files.*\.csv \(2\), \.txt \(1\)"):
        data.image_folder(tmp_path, 32)


def test_non_recursive_hint_and_archive_and_file_paths(tmp_path):
    (tmp_path / "inner").mkdir()
    Image.fromarray(_rgb()).save(tmp_path / "inner" / "x.png")
    with pytest.raises(ValueError, match="recursive=True"):
        data.image_folder(tmp_path, 8, recursive=False)
    assert len(_load_all(data.image_folder(tmp_path, 8))) == 1
    (tmp_path / "faces.zip").write_bytes(b"PK")
    with pytest.raises(ValueError, match="extract_archive"):
        data.image_folder(tmp_path / "faces.zip", 8)
    with pytest.raises(ValueError, match="not a folder"):
        data.image_folder(tmp_path / "inner" / "x.png", 8)


def test_all_files_bad(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"<html></html>")
    (tmp_path / "b.png").write_bytes(b"")
    expected = r"(?s)No usable image.*not an image \(HTML page\): 1 \(a.jpg\); empty file: 1"
    with pytest.raises(ValueError, match=expected):
        data.image_folder(tmp_path, 8)


def test_bad_arguments(tmp_path):
    Image.fromarray(_rgb()).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match="limit"):
        data.image_folder(tmp_path, 8, limit=0)
    with pytest.raises(ValueError, match="crop"):
        data.image_folder(tmp_path, 8, crop="middle")
    with pytest.raises(ValueError, match="image_size"):
        data.image_folder(tmp_path, 0)
    with pytest.raises(ValueError, match="min_size"):
        data.scan_images(tmp_path, min_size=0)


def test_min_size_skips_small_images(tmp_path):
    Image.fromarray(_rgb(40, 40)).save(tmp_path / "big.png")
    Image.fromarray(_rgb(20, 50)).save(tmp_path / "short.png")
    with pytest.warns(UserWarning, match=r"smaller than min_size: 1 \(short\.png\)"):
        ds = data.image_folder(tmp_path, 16, min_size=32)
    assert [p.name for p in ds.scan_report.good] == ["big.png"]


def test_junyanz_layout(tmp_path):
    for split, n in (("train", 3), ("test", 1)):
        for domain, color in (("A", (255, 0, 0)), ("B", (0, 0, 255))):
            folder = tmp_path / "horse2zebra" / f"{split}{domain}"
            folder.mkdir(parents=True)
            for i in range(n + (domain == "B")):
                Image.fromarray(_smooth(16, 16, color)).save(folder / f"{i}.jpg", quality=95)
    a, b = data.junyanz_folders(tmp_path / "horse2zebra", 8)
    assert int(a.cardinality()) == 3 and int(b.cardinality()) == 4
    assert next(iter(a)).numpy()[..., 0].mean() > 240 and next(iter(b)).numpy()[..., 2].mean() > 240
    test_a, _ = data.junyanz_folders(tmp_path / "horse2zebra", 8, split="test")
    assert int(test_a.cardinality()) == 1
    with pytest.raises(ValueError, match=r"one level down.*horse2zebra"):
        data.junyanz_folders(tmp_path, 8)
    (tmp_path / "flat" / "photos").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"expected trainA/ and trainB/.*photos/"):
        data.junyanz_folders(tmp_path / "flat", 8)
    with pytest.raises(ValueError, match="split"):
        data.junyanz_folders(tmp_path / "horse2zebra", 8, split="val")


def test_data_throughput_reports_its_keys():
    result = data_throughput(num_images=300, image_size=16, batch_size=32)
    assert {"images_per_second", "num_images", "scan_seconds", "image_size"} <= set(result)
    assert result["num_images"] == 300 and result["image_size"] == 16
    assert result["images_per_second"] > 0 and result["scan_seconds"] > 0


def test_prepare_on_a_folder_of_fewer_images_than_a_batch(tmp_path):
    for i in range(3):
        Image.fromarray(_rgb(seed=i)).save(pathlib.Path(tmp_path) / f"{i}.png")
    with pytest.raises(ValueError, match="3 images, fewer than one batch of 4"):
        data.prepare(data.image_folder(tmp_path, 8), 4)
