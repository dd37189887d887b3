"""Paired metrics (L1, PSNR, SSIM, whole image and hole) against hand-computed values, and inpainting baselines."""

import math

import numpy as np
import pytest

from kitlib.eval import paired


def _hole(size=32):
    """The central square of 1/9 of the area (size/3 per side), as in the seed's inpainting pairs."""
    side = size // 3
    start = (size - side) // 2
    mask = np.zeros((size, size), bool)
    mask[start:start + side, start:start + side] = True
    return mask


def _smooth_images(n=4, size=32, seed=0):
    """Smooth colour images (low-frequency sinusoids) as uint8: classical inpainting can continue them."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(n):
        fx, fy, phase = rng.uniform(0.5, 1.5, 3), rng.uniform(0.5, 1.5, 3), rng.uniform(0, 2 * np.pi, 3)
        chans = [0.5 + 0.4 * np.sin(2 * np.pi * (fx[c] * x + fy[c] * y) + phase[c]) for c in range(3)]
        images.append(np.stack(chans, -1))
    return np.round(np.stack(images) * 255).astype(np.uint8)


def test_conventions_uint8_and_minus_one_one_agree():
    a = np.array([[[[0, 128, 255]]]], np.uint8)
    f = a.astype("float32") / 127.5 - 1.0
    np.testing.assert_allclose(paired.to_unit(a), paired.to_unit(f), atol=1e-6)
    assert paired.to_unit(np.zeros((4, 4, 3), "uint8")).shape == (1, 4, 4, 3)
    with pytest.raises(ValueError, match="uint8 in \\[0, 255\\] or floats"):
        paired.to_unit(np.zeros((1, 4, 4, 3), "int32"))


def test_l1_and_psnr_of_known_errors():
    target = np.full((2, 16, 16, 3), 100, np.uint8)
    pred = target.copy()
    pred[0] += 10   # image 0: every pixel off by 10/255
    pred[1, :8] += 20  # image 1: half the pixels off by 20/255
    mse0, mse1 = (10 / 255) ** 2, 0.5 * (20 / 255) ** 2
    assert paired.l1_error(pred, target) == pytest.approx((10 / 255 + 0.5 * 20 / 255) / 2)
    expected = (10 * math.log10(1 / mse0) + 10 * math.log10(1 / mse1)) / 2  # per image, then averaged
    assert paired.psnr(pred, target) == pytest.approx(expected)
    # MSE 0.01 on the [0, 1] scale is exactly 20 dB, given as floats in [-1, 1] (0.5 vs 0.6 -> 0.0 vs 0.2)
    assert paired.psnr(np.zeros((1, 8, 8, 3)), np.full((1, 8, 8, 3), 0.2)) == pytest.approx(20.0)
    assert paired.psnr(target, target) == math.inf


def test_ssim_identical_is_one_and_matches_skimage():
    from skimage.metrics import structural_similarity

    x = _smooth_images(2)
    noisy = np.clip(x.astype(int) + np.random.default_rng(1).integers(-30, 31, x.shape), 0, 255).astype(np.uint8)
    assert paired.ssim(x, x) == pytest.approx(1.0)
    assert paired.ssim(x, x, mask=_hole()) == pytest.approx(1.0)
    expected = np.mean([structural_similarity(noisy[i] / 255, x[i] / 255, channel_axis=-1, data_range=1.0,
                                              gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
                        for i in range(2)])
    assert paired.ssim(noisy, x) == pytest.approx(expected)
    assert 0.0 < paired.ssim(noisy, x) < 0.99


def test_hole_metrics_use_only_masked_pixels():
    mask = _hole()
    target = _smooth_images(3)
    pred = target.copy()
    pred[:, mask] = 255 - pred[:, mask]                 # errors inside the hole only
    inside = paired.paired_metrics(pred, target, mask=mask)
    # hand values inside the hole: |255 - 2t| / 255 averaged over the hole pixels of each image
    t = target[:, mask].astype(float)
    hand_l1 = np.mean([np.abs(255 - 2 * t[i]).mean() / 255 for i in range(3)])
    hand_psnr = np.mean([10 * np.log10(1 / np.mean(((255 - 2 * t[i]) / 255) ** 2)) for i in range(3)])
    assert inside["hole_l1"] == pytest.approx(hand_l1)
    assert inside["hole_psnr"] == pytest.approx(hand_psnr)
    assert inside["l1"] == pytest.approx(hand_l1 * mask.mean())   # same errors diluted over the whole image
    # changing pixels outside the hole leaves L1/PSNR in the hole unchanged; far from the hole, SSIM too
    spoiled = pred.copy()
    spoiled[:, :3] = 0
    spoiled[:, :, :3] = 0
    again = paired.paired_metrics(spoiled, target, mask=mask)
    for key in ("hole_l1", "hole_psnr", "hole_ssim"):
        assert again[key] == pytest.approx(inside[key]), key
    assert again["l1"] > inside["l1"] and again["psnr"] < inside["psnr"]
    # a per-image mask (N, H, W, 1) gives the same as the shared (H, W) one
    per_image = np.broadcast_to(mask[None, :, :, None], (3, 32, 32, 1))
    assert paired.l1_error(pred, target, mask=per_image) == pytest.approx(inside["hole_l1"])


def test_mask_errors():
    x = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="mask must have shape"):
        paired.psnr(x, x, mask=np.ones((8, 8), bool))
    with pytest.raises(ValueError, match="mask is empty"):
        paired.psnr(x, x, mask=np.zeros((16, 16), bool))
    with pytest.raises(ValueError, match="same shape"):
        paired.psnr(x, x[:1])
    with pytest.raises(ValueError, match="at least 11x11"):
        paired.ssim(x[:, :8, :8], x[:, :8, :8])


def test_classical_inpainting_fills_the_hole_better_than_the_masked_input():
    mask = _hole()
    target = _smooth_images(4)
    masked = target.copy()
    masked[:, mask] = 255                                # the seed's white square
    filled = paired.classical_inpaint(masked, mask)
    assert filled.dtype == np.uint8 and filled.shape == target.shape
    np.testing.assert_array_equal(filled[:, ~mask], masked[:, ~mask])   # known pixels untouched
    table = paired.inpainting_table(target, mask, {"masked input": masked, "biharmonic": filled})
    assert table["biharmonic"]["hole_l1"] < 0.5 * table["masked input"]["hole_l1"]
    assert table["biharmonic"]["hole_psnr"] > table["masked input"]["hole_psnr"] + 10
    assert table["biharmonic"]["ssim"] > table["masked input"]["ssim"]
    floats = paired.classical_inpaint(masked.astype("float32") / 127.5 - 1, mask)   # [-1, 1] in, [-1, 1] out
    assert floats.dtype == np.float32 and -1 <= floats.min() and floats.max() <= 1
    np.testing.assert_allclose((floats + 1) * 127.5, filled, atol=0.51)
    np.testing.assert_array_equal(paired.classical_inpaint(masked[0], mask), filled[0])   # one HWC image


def test_paste_known_and_table_format():
    mask = _hole(16)
    pred = np.zeros((1, 16, 16, 3), np.uint8)
    inputs = np.full((1, 16, 16, 3), 200, np.uint8)
    pasted = paired.paste_known(pred, inputs, mask)
    assert (pasted[0][mask] == 0).all() and (pasted[0][~mask] == 200).all()
    with pytest.raises(ValueError, match="both be uint8"):
        paired.paste_known(pred, inputs.astype("float32"), mask)
    text = paired.format_table({"a": {"hole_l1": 0.2, "psnr": 20.0}, "b": {"hole_l1": 0.1, "psnr": 18.0}})
    lines = text.splitlines()
    assert lines[0] == "| method | hole_l1 | psnr |"
    assert lines[2] == "| a | 0.2000 | **20.00** |" and lines[3] == "| b | **0.1000** | 18.00 |"
