"""Procedural, deterministic toy image sets: the embedded default data of kitlib.

Five families stand in for the real datasets of the notebooks when nothing can be downloaded:

- ``faces``: cartoon/anime faces filling the frame (stand-in for the Kaggle anime-faces 64x64 crops).
- ``landscapes``: sky, clouds, mountains, water with reflections, grass, trees, sand and roads, each with an
  aligned label map (GauGAN/SPADE inputs).
- ``paintings``: the same kind of scenes painted with short oriented brush strokes in a warmer pastel palette
  (stand-in for Monet); drawn from another seed stream, so they are never paired with ``landscapes``.
- ``drawings``: flat-colour cartoon objects with dark outlines on light backgrounds.
- ``pixel_art``: the drawings pixelated (cell sizes 1..7 at 64 px, scaled with the image size), palette-quantised
  and outlined; returned with their source drawings for exact pairs.

Every image is drawn with numpy and ``PIL.ImageDraw`` at 2-4x the requested size and box-downsampled
(anti-aliasing). Image ``i`` depends only on ``(seed, i)`` (and the image size): ``make_faces(10, seed=3)[:5]``
equals ``make_faces(5, seed=3)``. Sizes 32..256 px are supported.

Landscape label maps use these class ids and GauGAN-style colours (``LANDSCAPE_PALETTE[id]``):

| id | class    | colour          |
|----|----------|-----------------|
| 0  | sky      | (110, 160, 230) |
| 1  | cloud    | (235, 235, 245) |
| 2  | mountain | (120, 100, 90)  |
| 3  | water    | (40, 90, 170)   |
| 4  | grass    | (90, 170, 60)   |
| 5  | tree     | (30, 100, 40)   |
| 6  | sand     | (220, 200, 140) |
| 7  | road     | (128, 128, 128) |

``DONTCARE_ID`` (255) marks "ignore" pixels in hand-made label maps; generated maps never contain it.

Example:
>>> images, labels = make_landscapes(4, image_size=32, seed=0)
>>> images.shape, labels.shape, int(labels.max()) < len(LANDSCAPE_CLASSES)
((4, 32, 32, 3), (4, 32, 32), True)
>>> colorize_labels(labels).shape
(4, 32, 32, 3)
"""

from __future__ import annotations

import math
import os
import pathlib
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

FAMILIES = ("faces", "landscapes", "paintings", "drawings", "pixel_art")
LANDSCAPE_CLASSES = ("sky", "cloud", "mountain", "water", "grass", "tree", "sand", "road")
LANDSCAPE_PALETTE = np.array(
    [(110, 160, 230), (235, 235, 245), (120, 100, 90), (40, 90, 170), (90, 170, 60), (30, 100, 40), (220, 200, 140),
     (128, 128, 128)],
    np.uint8,
)
DONTCARE_ID = 255

MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 256
MAX_CELL_SIZE = 16

# Independent seed streams: the same seed gives unrelated images in different families.
_STREAM = {"faces": 11, "landscapes": 23, "paintings": 37, "drawings": 41, "pixel_art": 53}
SKY, CLOUD, MOUNTAIN, WATER, GRASS, TREE, SAND, ROAD = range(8)


# ----------------------------------------------------------------------------------------------------------------
# validation and shared helpers


def _check_int(name: str, value, low: int, high: int | None = None, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer. Received: {name}={value!r}{hint}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be {bounds}. Received: {name}={value!r}{hint}")
    return int(value)


def _check_args(n, image_size, seed) -> tuple[int, int, int]:
    n = _check_int("n", n, 1)
    image_size = _check_int(
        "image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE, " (generate at 32..256 px and resize for other sizes)"
    )
    seed = _check_int("seed", seed, 0)
    return n, image_size, seed


def _check_cell_sizes(cell_sizes) -> tuple[int, ...]:
    try:
        cells = tuple(cell_sizes)
    except TypeError:
        raise ValueError(f"cell_sizes must be a sequence of integers in 1..{MAX_CELL_SIZE}. "
                         f"Received: cell_sizes={cell_sizes!r}") from None
    if not cells:
        raise ValueError(f"cell_sizes must not be empty. Received: cell_sizes={cell_sizes!r}")
    return tuple(_check_int("cell_sizes entry", c, 1, MAX_CELL_SIZE, f" in cell_sizes={cell_sizes!r}") for c in cells)


def _rng(seed: int, family: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[family], index])


def _supersample(image_size: int) -> int:
    return 4 if image_size <= 64 else (3 if image_size <= 128 else 2)


def _jitter(rng: np.random.Generator, color, amount: float = 12.0) -> tuple[int, int, int]:
    c = np.clip(np.asarray(color, float) + rng.uniform(-amount, amount, 3), 0, 255)
    return tuple(int(v) for v in c)


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def _shade(color, factor: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, round(c * factor)))) for c in color)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - math.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return int(r * 255), int(g * 255), int(b * 255)


def _vivid(rng: np.random.Generator) -> tuple[int, int, int]:
    return _hsv(rng.random(), rng.uniform(0.45, 0.85), rng.uniform(0.75, 1.0))


def _ellipse_xy(cx, cy, rx, ry, start=0.0, end=360.0, n=40, rot=0.0) -> np.ndarray:
    """Points of an ellipse (or arc, angles in degrees, y down) rotated by ``rot`` degrees about its centre."""
    full = abs(end - start) >= 360
    t = np.deg2rad(np.linspace(start, end, n, endpoint=not full))
    x, y = rx * np.cos(t), ry * np.sin(t)
    if rot:
        a = math.radians(rot)
        x, y = x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)
    return np.stack([x + cx, y + cy], axis=1)


def _bezier(p0, p1, p2, n=8) -> np.ndarray:
    """Quadratic Bezier curve through p0 and p2 pulled towards p1."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    p0, p1, p2 = (np.asarray(p, float) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def _superellipse(cx, cy, rx, ry, power=4.0, n=48) -> np.ndarray:
    """A rounded rectangle-like closed curve (power 2 is an ellipse, larger is boxier)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    e = 2.0 / power
    return np.stack([cx + rx * np.sign(c) * np.abs(c) ** e, cy + ry * np.sign(s) * np.abs(s) ** e], 1)


class _Pen:
    """Draws shapes given in object units after scaling by ``unit``, rotating and moving to ``center``.

    Shapes are polygons (ellipses included), so the rotation applies to everything. When ``mask`` is given every
    shape is also filled into it (255), which gives an exact foreground mask.
    """

    def __init__(self, image, center, unit, angle=0.0, mask=None, flip=False):
        self.unit = float(unit)
        self._draw = ImageDraw.Draw(image)
        self._mask = ImageDraw.Draw(mask) if mask is not None else None
        a = math.radians(angle)
        sx = -1.0 if flip else 1.0
        self._m = np.array([[math.cos(a) * sx, -math.sin(a)], [math.sin(a) * sx, math.cos(a)]]) * self.unit
        self._c = np.asarray(center, float)

    def _pts(self, xy) -> list:
        p = np.asarray(xy, float).reshape(-1, 2) @ self._m.T + self._c
        return [tuple(q) for q in p.tolist()]

    def _line(self, pts, color, width, caps=False):
        w = max(1, int(round(width * self.unit)))
        targets = [(self._draw, color)] + ([(self._mask, 255)] if self._mask else [])
        for draw, fill in targets:
            draw.line(pts, fill=fill, width=w, joint="curve")
            if caps and w > 2:
                r = w / 2.0
                for x, y in (pts[0], pts[-1]):
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)

    def fill(self, xy, color, outline=None, width=0.0):
        pts = self._pts(xy)
        self._draw.polygon(pts, fill=color)
        if self._mask:
            self._mask.polygon(pts, fill=255)
        if outline is not None and width > 0:
            self._line(pts + pts[:2], outline, width)

    def ellipse(self, cx, cy, rx, ry, color, outline=None, width=0.0, rot=0.0):
        self.fill(_ellipse_xy(cx, cy, rx, ry, rot=rot), color, outline, width)

    def stroke(self, xy, color, width, caps=True):
        self._line(self._pts(xy), color, width, caps)


def _gradient(size: int, top, bottom) -> np.ndarray:
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    col = np.asarray(top, np.float32) + (np.asarray(bottom, np.float32) - np.asarray(top, np.float32)) * t
    return np.broadcast_to(col, (size, size, 3))


def _noise(rng: np.random.Generator, shape, cells=(4, 4), octaves=3) -> np.ndarray:
    """Smooth fractal value noise of ``shape`` (H, W), about zero-mean in [-1, 1].

    ``cells`` is the grid of the coarsest octave (rows, columns): unequal values give streaks. The random draws do
    not depend on ``shape``, so the same rng state gives the same pattern at every resolution.
    """
    h, w = shape
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for octave in range(octaves):
        gh, gw = cells[0] * 2 ** octave + 1, cells[1] * 2 ** octave + 1
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amp * np.asarray(Image.fromarray(grid).resize((w, h), Image.Resampling.BICUBIC))
        total += amp
        amp *= 0.5
    return np.clip(out / (total * 1.5), -1.0, 1.0)


def _profile(rng: np.random.Generator, xs: np.ndarray, octaves=5, base=2) -> np.ndarray:
    """A 1-D jagged profile in [0, 1] (sum of piecewise-linear random octaves): mountain ridges, hills, shores."""
    out = np.zeros_like(xs)
    amp = 1.0
    for octave in range(octaves):
        g = base * 2 ** octave
        out += amp * np.interp(xs, np.linspace(0, 1, g + 1), rng.random(g + 1))
        amp *= 0.5
    return (out - out.min()) / max(float(out.max() - out.min()), 1e-6)


def _lerp(a, b, t) -> np.ndarray:
    """Linear interpolation between colours (or arrays) ``a`` and ``b`` by weight ``t`` (broadcast), float32."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return a + (b - a) * t


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------------------------
# faces

_SKIN = ((255, 234, 222), (253, 226, 208), (248, 216, 194), (240, 203, 176), (224, 180, 146), (196, 148, 112))
_SKIN_P = (0.26, 0.26, 0.2, 0.14, 0.09, 0.05)
_HAIR = ((32, 26, 32), (72, 46, 36), (124, 78, 46), (196, 146, 84), (242, 218, 142), (238, 150, 182), (250, 196, 214),
         (80, 110, 200), (150, 200, 245), (205, 208, 222), (180, 52, 58), (240, 124, 62), (132, 84, 176),
         (80, 160, 112), (248, 246, 250), (60, 60, 90))
_IRIS = ((60, 110, 225), (40, 160, 120), (205, 40, 60), (142, 72, 205), (225, 155, 40), (125, 72, 42),
         (232, 92, 162), (40, 172, 205), (100, 104, 118), (90, 200, 80))
_LOOKS = ("long", "long", "bob", "bob", "short", "twintails", "medium")


def _face_eye(pen, side, ex, ey, rx, ry, iris, lash, look, closed):
    def xy(points):  # geometry is built for the right eye and mirrored for the left one
        p = np.asarray(points, float).reshape(-1, 2).copy()
        p[:, 0] = ex + side * p[:, 0]
        p[:, 1] += ey
        return p

    if closed:  # happy closed eye: a thick arch
        pen.stroke(xy(_ellipse_xy(0, 0.15 * ry, rx, 0.55 * ry, 200, 340, 16)), lash, 0.075)
        return
    pen.fill(xy(_ellipse_xy(0, 0, rx, ry)), (252, 252, 255))
    pen.fill(xy(_ellipse_xy(0, 0.55 * ry, 0.9 * rx, 0.4 * ry, 0, 180, 16)), (232, 232, 246))
    icx, icy, irx, iry = look, 0.12 * ry, 0.74 * rx, 0.86 * ry
    pen.fill(xy(_ellipse_xy(icx, icy, irx, iry)), _shade(iris, 0.45))
    pen.fill(xy(_ellipse_xy(icx, icy + 0.03 * ry, 0.84 * irx, 0.86 * iry)), iris)
    light = _mix(iris, (255, 255, 255), 0.45)
    pen.fill(xy(_ellipse_xy(icx, icy + 0.05 * ry, 0.78 * irx, 0.72 * iry, 25, 155, 14)), light)
    pen.fill(xy(_ellipse_xy(icx, icy - 0.1 * ry, 0.84 * irx, 0.75 * iry, 200, 340, 14)), _shade(iris, 0.62))
    pen.fill(xy(_ellipse_xy(icx, icy, 0.36 * irx, 0.46 * iry)), _shade(iris, 0.2))
    # upper lash line with an outer flick, lower lash hint
    outer = _ellipse_xy(0, 0.02 * ry, 1.1 * rx, 1.08 * ry, 190, 350, 16)
    inner = _ellipse_xy(0, 0.04 * ry, 0.98 * rx, 0.93 * ry, 350, 190, 16)
    flick = [[1.22 * rx, -0.05 * ry], [1.32 * rx, 0.22 * ry], [1.0 * rx, 0.0]]
    pen.fill(xy(np.concatenate([outer, flick, inner])), lash)
    pen.stroke(xy(_ellipse_xy(0, 0, 0.95 * rx, 0.98 * ry, 25, 75, 8)), lash, 0.03)
    # highlights
    pen.fill(xy(_ellipse_xy(icx - side * 0.32 * irx, icy - 0.36 * iry, 0.3 * irx, 0.24 * iry, rot=-25 * side)),
             (255, 255, 255))
    pen.fill(xy(_ellipse_xy(icx + side * 0.3 * irx, icy + 0.38 * iry, 0.13 * irx, 0.11 * iry)), (255, 255, 255))


def _face(rng: np.random.Generator, size: int) -> np.ndarray:
    ss = _supersample(size)
    s = size * ss
    # --- parameters (all drawn in a fixed order, independent of the size)
    skin = _jitter(rng, _SKIN[rng.choice(len(_SKIN), p=_SKIN_P)], 5)
    hair = _jitter(rng, _HAIR[rng.integers(len(_HAIR))], 14)
    iris = _jitter(rng, _IRIS[rng.integers(len(_IRIS))], 16)
    style = _LOOKS[rng.integers(len(_LOOKS))]
    bg_a = _hsv(rng.random(), rng.uniform(0.05, 0.45), rng.uniform(0.75, 1.0))
    bg_b = _hsv(rng.random(), rng.uniform(0.05, 0.45), rng.uniform(0.7, 1.0)) if rng.random() < 0.6 else bg_a
    unit = s * rng.uniform(0.29, 0.34)
    center = (s * (0.5 + rng.normal(0, 0.025)), s * (0.5 + rng.normal(0, 0.025)))
    angle = float(np.clip(rng.normal(0, 5), -12, 12))
    chin, jaw_a, jaw_b = rng.uniform(0.95, 1.08), rng.uniform(1.8, 2.6), rng.uniform(0.55, 0.8)
    ex, ey = rng.uniform(0.4, 0.47), rng.uniform(0.12, 0.22)
    erx = rng.uniform(0.22, 0.27)
    ery = erx * rng.uniform(1.05, 1.35)
    look = rng.uniform(-0.06, 0.06)
    closed = rng.random() < 0.08
    mouth = ("smile", "smile", "open", "o", "cat", "flat")[rng.integers(6)]
    mouth_y = rng.uniform(0.6, 0.7) * chin
    blush = rng.random() < 0.5
    hair_len = {"long": 2.8, "medium": rng.uniform(1.4, 1.9), "bob": rng.uniform(0.85, 1.15), "short": 0.2,
                "twintails": 0.2}[style]
    flare = rng.uniform(0.0, 0.25)
    lock_len = rng.uniform(0.3, 1.0)
    n_bangs = int(rng.integers(4, 8))
    bang_tip = rng.uniform(-0.25, -0.02)
    bang_valley = rng.uniform(-0.62, -0.45)
    tips = rng.uniform(-0.12, 0.12, n_bangs)
    skews = rng.uniform(-0.12, 0.12, n_bangs)
    cloth = _vivid(rng) if rng.random() < 0.6 else _jitter(rng, (40, 48, 80), 20)
    collar = rng.random() < 0.5
    ahoge = rng.random() < 0.35
    accessory = ("none", "none", "none", "ribbon", "clip", "ears")[rng.integers(6)]
    acc_color = _vivid(rng)
    acc_side = 1 if rng.random() < 0.5 else -1
    lash = _shade(hair, 0.35) if sum(hair) < 300 else _jitter(rng, (45, 30, 35), 8)

    canvas = Image.fromarray(_to_uint8(_gradient(s, bg_a, bg_b)))
    pen = _Pen(canvas, center, unit, angle)
    hair_dark = _shade(hair, 0.62)
    line_w = 0.028

    # --- back hair
    top = _ellipse_xy(0, -0.12, 1.22, 1.22, 180, 360, 24)
    right = _bezier((1.22, -0.12), (1.25 + flare, 0.4 * hair_len), (1.18 + flare, hair_len), 6)
    strands = np.linspace(1.18 + flare, -1.18 - flare, 9)
    bottom = [[x, hair_len - (0.12 if k % 2 else 0.0)] for k, x in enumerate(strands)]
    left = right[::-1] * [-1, 1]
    pen.fill(np.concatenate([top, right, bottom, left]), hair, hair_dark, line_w)
    if style == "twintails":
        for side in (-1, 1):
            tail = np.concatenate([_bezier((0.95, -0.7), (1.9, 0.2), (1.45, 2.6), 10),
                                   _bezier((1.3, 2.6), (1.35, 0.4), (0.9, -0.4), 10)]) * [side, 1]
            pen.fill(tail, hair, hair_dark, line_w)
            pen.ellipse(side * 1.0, -0.62, 0.14, 0.14, acc_color, _shade(acc_color, 0.6), line_w)
    # --- neck, clothes
    pen.fill([[-0.28, 0.55], [0.28, 0.55], [0.32, 1.9], [-0.32, 1.9]], _shade(skin, 0.9), _shade(skin, 0.7), line_w)
    pen.fill(_ellipse_xy(0, 2.15, 1.7, 0.85), cloth, _shade(cloth, 0.55), line_w)
    pen.fill([[-0.34, 1.3], [0.34, 1.3], [0.0, 1.72]], _shade(skin, 0.9))
    if collar:
        for side in (-1, 1):
            pen.fill(np.array([[0.34, 1.3], [0.0, 1.74], [0.62, 1.58]]) * [side, 1], (250, 250, 252),
                     (90, 90, 110), line_w)
    # --- animal ears (behind the hair cap)
    if accessory == "ears":
        for side in (-1, 1):
            ear = np.array([[0.35, -1.05], [0.85, -1.75], [1.05, -0.75]]) * [side, 1]
            pen.fill(ear, hair, hair_dark, line_w)
            inner = np.array([[0.52, -1.05], [0.84, -1.5], [0.93, -0.95]]) * [side, 1]
            pen.fill(inner, _mix(hair, (255, 170, 190), 0.5))
    # --- head
    t = np.linspace(0.0, 1.0, 14)
    jaw = np.stack([(1 - t ** jaw_a) ** jaw_b, chin * t], 1)
    head = np.concatenate([_ellipse_xy(0, 0, 1.0, 1.1, 180, 360, 24)[::1], jaw, jaw[::-1][1:] * [-1, 1]])
    pen.fill(head, skin, _shade(skin, 0.72), line_w)
    if blush:
        pink = _mix(skin, (255, 110, 140), 0.35)
        for side in (-1, 1):
            pen.ellipse(side * 0.56, ey + ery * 0.9 + 0.12, 0.16, 0.065, pink)
    pen.stroke([[0.0, 0.44 * chin], [-0.025, 0.48 * chin]], _shade(skin, 0.7), 0.025)
    mouth_col = (150, 52, 62)
    if mouth == "smile":
        pen.stroke(_ellipse_xy(0, mouth_y - 0.05, 0.1, 0.06, 25, 155, 10), mouth_col, 0.035)
    elif mouth == "open":
        pen.fill(_ellipse_xy(0, mouth_y - 0.03, 0.12, 0.11, 0, 180, 14), (160, 56, 68), _shade(mouth_col, 0.7), 0.025)
        pen.fill(_ellipse_xy(0, mouth_y + 0.045, 0.065, 0.03), (236, 120, 130))
    elif mouth == "o":
        pen.ellipse(0, mouth_y, 0.045, 0.055, (170, 60, 72), _shade(mouth_col, 0.7), 0.02)
    elif mouth == "cat":
        for side in (-1, 1):
            pen.stroke(_ellipse_xy(side * 0.055, mouth_y - 0.03, 0.055, 0.045, 20, 160, 8), mouth_col, 0.03)
    else:
        pen.stroke([[-0.06, mouth_y], [0.06, mouth_y]], mouth_col, 0.03)
    # --- eyes and brows
    for side in (-1, 1):
        _face_eye(pen, side, side * ex, ey, erx, ery, iris, lash, look, closed)
        brow = _bezier((0.08, -ery - 0.22), (0.22, -ery - 0.3), (0.38, -ery - 0.2), 6)
        pen.stroke(np.stack([side * (ex - 0.22 + brow[:, 0]), ey + brow[:, 1]], 1), _shade(hair, 0.5), 0.035)
    # --- front hair: cap, side locks, bangs
    cap = _ellipse_xy(0, -0.15, 1.16, 1.2, 180, 360, 28)
    lock_r = np.concatenate([_bezier((1.16, -0.15), (1.22, 0.35), (1.08, lock_len), 8),
                             _bezier((1.0, lock_len - 0.05), (0.9, 0.2), (0.86, -0.3), 8)])
    valleys = np.linspace(0.86, -0.86, n_bangs + 1)
    bangs = []
    for k in range(n_bangs):
        x0, x1 = valleys[k], valleys[k + 1]
        tip = ((x0 + x1) / 2 + skews[k], bang_tip + tips[k])
        v0 = (x0, bang_valley + (0.2 if k == 0 else 0.0))
        v1 = (x1, bang_valley + (0.2 if k == n_bangs - 1 else 0.0))
        bangs.append(_bezier(v0, ((x0 + tip[0]) / 2 + 0.04, (v0[1] + tip[1]) / 2 + 0.06), tip, 5))
        bangs.append(_bezier(tip, ((x1 + tip[0]) / 2 - 0.04, (v1[1] + tip[1]) / 2 + 0.06), v1, 5))
    bangs = np.concatenate(bangs)
    shadow = np.concatenate([bangs + [0, 0.07], [[-0.8, -0.9], [0.8, -0.9]]])
    pen.fill(shadow, _shade(skin, 0.88))
    front = np.concatenate([cap, lock_r, bangs, lock_r[::-1] * [-1, 1]])
    pen.fill(front, hair, hair_dark, line_w)
    shine = _mix(hair, (255, 255, 255), 0.45)
    for a0 in (214, 250, 286):
        u = np.linspace(0.0, 1.0, 8)
        a = np.deg2rad(a0 + 30 * u)
        r_out, r_in = 0.84 + 0.05 * np.sin(np.pi * u), 0.84 - 0.03 * np.sin(np.pi * u)
        pen.fill(np.concatenate([np.stack([r_out * np.cos(a), r_out * np.sin(a) - 0.12], 1),
                                 np.stack([r_in * np.cos(a), r_in * np.sin(a) - 0.12], 1)[::-1]]), shine)
    if ahoge:
        strand = _bezier((0.05, -1.3), (0.45, -1.9), (-0.12, -1.75), 10)
        pen.stroke(strand, hair, 0.07)
    if accessory == "ribbon":
        bx, by = acc_side * 0.78, -0.95
        for side in (-1, 1):
            pen.fill([[bx, by], [bx + side * 0.32, by - 0.2], [bx + side * 0.3, by + 0.2]], acc_color,
                     _shade(acc_color, 0.55), line_w)
        pen.ellipse(bx, by, 0.08, 0.08, acc_color, _shade(acc_color, 0.55), line_w)
    elif accessory == "clip":
        pen.fill(_superellipse(acc_side * 0.6, -0.55, 0.16, 0.05), acc_color, _shade(acc_color, 0.55), line_w)
    return np.asarray(canvas.reduce(ss))


# ----------------------------------------------------------------------------------------------------------------
# landscapes and paintings


def _tree_shapes(draw_fg: ImageDraw.ImageDraw, draw_trunk: ImageDraw.ImageDraw, rng, x, base, height, kind):
    """Draws one tree (canvas pixels) into a foliage shade map (dark body, lit upper-left) and a trunk mask."""
    if kind == "conifer":
        w = 0.42 * height
        draw_trunk.rectangle((x - 0.06 * w, base - 0.2 * height, x + 0.06 * w, base), fill=255)
        for k in range(3):
            y0 = base - 0.15 * height - k * 0.27 * height
            ww = w * (1 - 0.25 * k)
            tri = [(x - ww, y0), (x + ww, y0), (x, y0 - 0.5 * height)]
            draw_fg.polygon(tri, fill=110)
            draw_fg.polygon([(x - 0.85 * ww, y0 - 0.03 * height), (x - 0.1 * ww, y0 - 0.03 * height),
                             (x - 0.05 * ww, y0 - 0.45 * height)], fill=200)
        return
    r = 0.32 * height
    if kind == "round":
        draw_trunk.rectangle((x - 0.07 * height, base - 0.55 * height, x + 0.07 * height, base), fill=255)
        cy = base - height + r
    else:  # bush
        cy = base - 0.6 * r
        r *= 1.1
    blobs = [(x + rng.uniform(-0.6, 0.6) * r, cy + rng.uniform(-0.3, 0.55) * r, r * rng.uniform(0.55, 0.8))
             for _ in range(int(rng.integers(3, 7)))]
    blobs.append((x, cy, r))
    for bx, by, br in blobs:
        draw_fg.ellipse((bx - br, by - br, bx + br, by + br), fill=110)
    for bx, by, br in blobs:
        hx, hy, hr = bx - 0.2 * br, by - 0.25 * br, 0.7 * br
        draw_fg.ellipse((hx - hr, hy - hr, hx + hr, hy + hr), fill=185)
        hx, hy, hr = bx - 0.35 * br, by - 0.4 * br, 0.35 * br
        draw_fg.ellipse((hx - hr, hy - hr, hx + hr, hy + hr), fill=240)


def _paint_trees(img, labels, shade_img, trunk_img, foliage, trunk_col, tex):
    shade = np.asarray(shade_img, np.float32) / 255.0
    trunk = np.asarray(trunk_img) > 127
    fol = shade > 0.2
    col = np.asarray(foliage, np.float32) * (0.45 + 0.75 * shade[..., None]) * (1 + 0.2 * tex[..., None])
    img[trunk] = np.asarray(trunk_col, np.float32) * (1 + 0.15 * tex[trunk][:, None])
    img[fol] = col[fol]
    labels[fol | trunk] = TREE


def _scene(rng: np.random.Generator, s: int, painterly: bool) -> tuple[np.ndarray, np.ndarray]:
    """Renders one scene at canvas size ``s``: float32 (s, s, 3) image in 0..255 and uint8 (s, s) labels."""
    xs = (np.arange(s, dtype=np.float32) + 0.5) / s
    ys = xs[:, None]
    horizon = rng.uniform(0.4, 0.62)
    hp = int(round(horizon * s))
    has_water = rng.random() < 0.5
    sunset = rng.random() < (0.35 if painterly else 0.18)
    if sunset:
        sky_top, sky_low = _jitter(rng, (80, 90, 170), 20), _jitter(rng, (250, 170, 120), 12)
        cloud_lit, cloud_dark = _jitter(rng, (255, 222, 205), 6), _jitter(rng, (200, 140, 150), 12)
    else:
        sky_top, sky_low = _jitter(rng, (70, 130, 215), 20), _jitter(rng, (190, 215, 240), 10)
        cloud_lit, cloud_dark = _jitter(rng, (250, 250, 253), 3), _jitter(rng, (185, 192, 212), 12)
    t = np.clip(ys / horizon, 0.0, 1.0) ** 0.8
    img = _lerp(sky_top, sky_low, t[..., None])
    img = np.repeat(img, s, axis=1)
    labels = np.zeros((s, s), np.uint8)

    # clouds: a shade map of dark blobs with lit blobs up-left on top
    shade_img = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(shade_img)
    for _ in range(int(rng.integers(0, 6))):
        cx, cy, w = rng.uniform(-0.05, 1.05), rng.uniform(0.05, max(0.08, horizon - 0.15)), rng.uniform(0.06, 0.2)
        blobs = [(cx + rng.uniform(-1, 1) * w, cy + rng.uniform(-0.35, 0.1) * w, w * rng.uniform(0.3, 0.6))
                 for _ in range(int(rng.integers(3, 8)))]
        for bx, by, br in blobs:
            draw.ellipse(((bx - br) * s, (by - 0.75 * br) * s, (bx + br) * s, (by + 0.75 * br) * s), fill=120)
        for bx, by, br in blobs:
            bx, by, br = bx - 0.12 * br, by - 0.2 * br, 0.8 * br
            draw.ellipse(((bx - br) * s, (by - 0.7 * br) * s, (bx + br) * s, (by + 0.7 * br) * s), fill=255)
    cloud_tex = _noise(rng, (s, s), (3, 5))
    shade = np.asarray(shade_img.filter(ImageFilter.GaussianBlur(s * 0.006)), np.float32) / 255.0
    alpha = np.clip(shade / 0.45, 0.0, 1.0)[..., None]
    cloud = _lerp(cloud_dark, cloud_lit, np.clip(shade * (1 + 0.35 * cloud_tex), 0, 1)[..., None])
    img = img * (1 - alpha) + cloud * alpha
    labels[alpha[..., 0] > 0.5] = CLOUD

    # mountains: one or two ranges, far ones hazier, optional snow
    rock = [(120, 100, 90), (110, 110, 122), (96, 106, 86), (132, 112, 96)][rng.integers(4)]
    n_ranges = int(rng.choice(3, p=(0.2, 0.4, 0.4)))
    mtex = _noise(rng, (s, s), (6, 6), 4) + 0.5 * np.abs(_noise(rng, (s, s), (4, 24), 2))
    for r in range(n_ranges):
        far = r == 0 and n_ranges == 2
        peak = rng.uniform(0.14, 0.34) if far else rng.uniform(0.06, 0.2)
        ridge = horizon - peak * (0.15 + 0.85 * _profile(rng, xs, 6, int(rng.integers(1, 4))))
        mask = ys >= ridge[None, :]
        col = _jitter(rng, rock, 14)
        if far:
            col = _mix(col, sky_low, 0.45)
        else:
            col = _shade(col, 0.8) if rng.random() < 0.5 else _mix(col, (60, 100, 60), 0.5)
        depth = np.clip((ys - ridge[None, :]) / peak, 0, 1)
        facet = _mountain_light(ridge, depth, s)
        m = np.asarray(col, np.float32) * (facet * (1.05 - 0.2 * depth) * (1 + 0.16 * mtex))[..., None]
        if rng.random() < (0.55 if far or n_ranges == 1 else 0.2):
            snowline = ridge.min() + rng.uniform(0.2, 0.45) * (horizon - ridge.min())
            wobble = 0.03 * (_profile(rng, xs, 4, 4) - 0.5)
            snow = ys < snowline + wobble[None, :] + 0.02 * mtex
            snow_col = np.asarray(_mix((246, 246, 252), sky_low, 0.2), np.float32)
            m = np.where(snow[..., None], snow_col * (facet * (1 + 0.05 * mtex))[..., None], m)
        img = np.where(mask[..., None], m, img)
        labels[mask] = MOUNTAIN

    foliage = _jitter(rng, [(40, 110, 50), (30, 90, 45), (62, 122, 42), (36, 82, 52)][rng.integers(4)], 10)
    if rng.random() < (0.25 if painterly else 0.12):
        foliage = _jitter(rng, (200, 120, 40), 20)
    trunk_col = _jitter(rng, (92, 62, 42), 10)
    ttex = _noise(rng, (s, s), (16, 16), 2)
    # far tree line on the horizon (reflected by the water)
    if rng.random() < (0.5 if has_water else 0.3):
        far_img, trunk_img = Image.new("L", (s, s), 0), Image.new("L", (s, s), 0)
        fdraw, tdraw = ImageDraw.Draw(far_img), ImageDraw.Draw(trunk_img)
        x0, x1 = sorted(rng.uniform(-0.1, 1.1, 2))
        for x in np.arange(x0, x1, rng.uniform(0.02, 0.035)):
            h = rng.uniform(0.03, 0.07)
            kind = "conifer" if rng.random() < 0.5 else "bush"
            _tree_shapes(fdraw, tdraw, rng, x * s, hp + 1, h * s, kind)
        _paint_trees(img, labels, far_img, trunk_img, _mix(foliage, sky_low, 0.25), trunk_col, ttex)

    # water: mirrored backdrop with ripples, tinted, horizontal glints
    if has_water:
        shore = horizon + rng.uniform(0.12, 0.35) * (1 - horizon)
        top = shore + 0.03 * (_profile(rng, xs, 4, 3) - 0.5)
        rows = np.arange(hp, s)
        dist = (rows - hp) / s
        src = np.clip(2 * hp - 1 - rows, 0, s - 1)
        dx = (s * 0.004 * (1 + 8 * dist) * np.sin(rows * (2 * np.pi / max(3.0, s * 0.02)) + rng.uniform(0, 6.3)))
        cols = np.clip(np.arange(s)[None, :] + np.rint(dx)[:, None].astype(int), 0, s - 1)
        refl = img[src[:, None], cols]
        water_col = np.asarray(_mix(_jitter(rng, (40, 92, 170), 16), sky_low, 0.2), np.float32)
        k = (0.3 + 0.5 * np.clip(dist / max(1e-3, 1 - horizon), 0, 1))[:, None, None]
        streak = _noise(rng, (s - hp, s), (10, 2), 3)[..., None]
        img[hp:] = (refl * 0.85 * (1 - k) + water_col * k) * (1 + 0.12 * streak) + 28 * np.clip(streak - 0.45, 0, 1)
        labels[hp:] = WATER
    else:
        top = horizon - rng.uniform(0.0, 0.06) * _profile(rng, xs, 4, 2)

    # ground: grass (or desert), beach band, road
    ground = ys >= top[None, :]
    dist = np.clip((ys - top[None, :]) / np.maximum(1.0 - top[None, :], 1e-3), 0, 1)
    gtex, gstreak = _noise(rng, (s, s), (4, 6), 3), _noise(rng, (s, s), (12, 64), 1)
    fine = _noise(rng, (s, s), (24, 24), 2)
    desert = not has_water and rng.random() < 0.12
    grass = [(92, 160, 60), (112, 172, 70), (72, 140, 56), (140, 160, 70), (120, 150, 60)][rng.integers(5)]
    g = np.asarray(_jitter(rng, grass), np.float32) * (1 + 0.18 * gtex + 0.12 * gstreak + 0.05 * fine)[..., None]
    g = g * (0.9 + 0.15 * dist[..., None])
    g = g + (np.asarray((175, 175, 90), np.float32) - g) * np.clip(gtex * 0.8, 0, 0.4)[..., None]
    if not painterly:  # short grass blades, longer nearer the viewer (paintings re-paint the grass anyway)
        blades = Image.new("L", (s, s), 128)
        bdraw = ImageDraw.Draw(blades)
        bx, bv, tone, lean = rng.random(1500), rng.random(1500), rng.random(1500), rng.normal(0, 0.25, 1500)
        by = np.interp(bx, xs, top) + bv * (1 - np.interp(bx, xs, top))
        blen = s * (0.004 + 0.045 * np.clip((by - horizon) / (1 - horizon), 0, 1) ** 1.5)
        bw = max(1, s // 128)
        for x0, y0, le, ln, tn in zip(bx * s, by * s, lean, blen, tone):
            bdraw.line((x0, y0, x0 + le * ln, y0 - ln), fill=60 if tn < 0.55 else 215, width=bw)
        g = g * (1 + 0.22 * (np.asarray(blades, np.float32) - 128) / 128)[..., None]
    haze = (0.35 * (1 - dist) ** 4)[..., None]
    g = g * (1 - haze) + np.asarray(sky_low, np.float32) * haze
    sand_col = np.asarray(_jitter(rng, (222, 200, 144), 10), np.float32)
    sand = sand_col * (1 + 0.07 * fine + 0.04 * np.sin(ys * s * 0.35 + 3 * gtex))[..., None]
    band = rng.uniform(0.03, 0.12) if has_water and rng.random() < 0.6 else (2.0 if desert else 0.0)
    is_sand = ground & (ys < top[None, :] + band)
    img = np.where(ground[..., None], np.where(is_sand[..., None], sand, g), img)
    labels[ground] = GRASS
    labels[is_sand] = SAND
    if rng.random() < (0.15 if has_water else 0.4):
        vx, bx = rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.8)
        yv = float(np.interp(vx, xs, top)) + 0.004
        bend, half = rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.28)
        tt = np.clip((ys - yv) / (1.0 - yv), 0, 1)
        centre = vx + (bx - vx) * tt + bend * tt * (1 - tt)
        width = 0.003 + half * tt
        off = np.abs(xs[None, :] - centre)
        road = ground & (ys > yv) & (off < width)
        road_col = np.asarray(_jitter(rng, (125, 122, 120), 18), np.float32)
        rc = road_col * (1 + 0.08 * fine)[..., None] * (1 - 0.2 * (off > 0.85 * width))[..., None]
        if rng.random() < 0.6:
            dashes = (off < 0.05 * width) & (np.sin(9.0 / (tt + 0.08)) > 0)
            rc = np.where(dashes[..., None], np.asarray((240, 225, 140), np.float32), rc)
        img = np.where(road[..., None], rc, img)
        labels[road] = ROAD
    if rng.random() < (0.45 if painterly else 0.2):  # flowers dotted in the grass
        fl_img = Image.new("L", (s, s), 0)
        fdraw = ImageDraw.Draw(fl_img)
        flower = [(230, 50, 40), (250, 240, 250), (250, 210, 60), (200, 120, 220)][rng.integers(4)]
        for fx, fy in zip(rng.random(300), rng.uniform(0, 1, 300)):
            fy = float(np.interp(fx, xs, top)) + fy * (1 - float(np.interp(fx, xs, top)))
            r = s * (0.002 + 0.007 * (fy - horizon) / (1 - horizon))
            fdraw.ellipse((fx * s - r, fy * s - r, fx * s + r, fy * s + r), fill=255)
        fl = (np.asarray(fl_img) > 0) & (labels == GRASS)
        img[fl] = flower
    # foreground trees, sorted far to near
    if rng.random() < 0.65:
        fg_img, trunk_img = Image.new("L", (s, s), 0), Image.new("L", (s, s), 0)
        fdraw, tdraw = ImageDraw.Draw(fg_img), ImageDraw.Draw(trunk_img)
        spots = sorted(zip(rng.uniform(0, 1, 8), rng.uniform(0, 1, 8)), key=lambda p: p[1])
        kind = ("round", "conifer", "bush", "mixed")[rng.integers(4)]
        for fx, fy in spots[: int(rng.integers(1, 9))]:
            ty = float(np.interp(fx, xs, top))
            fy = ty + 0.02 + fy * (1.05 - ty)
            if labels[min(s - 1, int(fy * s)), int(fx * s)] != GRASS:
                continue
            depth = (fy - horizon) / (1 - horizon)
            tk = kind if kind != "mixed" else ("round", "conifer", "bush")[rng.integers(3)]
            _tree_shapes(fdraw, tdraw, rng, fx * s, fy * s, s * (0.03 + rng.uniform(0.25, 0.5) * depth), tk)
        _paint_trees(img, labels, fg_img, trunk_img, foliage, trunk_col, ttex)
    return img, labels


def _mountain_light(ridge: np.ndarray, depth: np.ndarray, s: int) -> np.ndarray:
    """Side lighting of a mountain range: the ridge slope, blurred more the deeper below the ridge, so lit and
    shaded flanks widen downwards from the peaks instead of running straight down."""
    grad = np.gradient(ridge) * s
    slopes = []
    for k in range(5):
        box = 1 + 2 * int(k * s / 40)
        padded = np.pad(grad, box, mode="edge")
        slopes.append(np.convolve(padded, np.ones(box) / box, mode="same")[box:-box])
    level = depth * 3.999
    lo = level.astype(int)
    frac = level - lo
    slopes = np.stack(slopes)
    cols = np.arange(s)[None, :]
    slope = slopes[lo, cols] * (1 - frac) + slopes[lo + 1, cols] * frac
    return 1.0 - 0.22 * np.tanh(2.0 * slope) * (1 - 0.6 * depth)


def _majority(labels: np.ndarray, factor: int) -> np.ndarray:
    h = labels.shape[0] // factor
    blocks = labels.reshape(h, factor, h, factor).transpose(0, 2, 1, 3).reshape(h, h, factor * factor)
    counts = (blocks[..., None] == np.arange(len(LANDSCAPE_CLASSES), dtype=np.uint8)).sum(axis=2)
    return counts.argmax(axis=-1).astype(np.uint8)


def _landscape(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    img, labels = _scene(rng, size * 2, painterly=False)
    return np.asarray(Image.fromarray(_to_uint8(img)).reduce(2)), _majority(labels, 2)


_STROKE_ANGLE = {SKY: (0, 14), CLOUD: (0, 25), MOUNTAIN: (35, 30), WATER: (0, 5), GRASS: (90, 22), TREE: (0, 90),
                 SAND: (0, 15), ROAD: (90, 20)}


def _painting(rng: np.random.Generator, size: int) -> np.ndarray:
    ss = 2
    s = size * ss
    img, labels = _scene(rng, s, painterly=True)
    # warmer, lighter, pastel palette with violet shadows
    x = img / 255.0
    lum = (x @ np.array([0.3, 0.59, 0.11], np.float32))[..., None]
    x = lum + 0.8 * (x - lum)
    x = x * np.array([1.06, 1.0, 0.9], np.float32) + np.array([0.04, 0.03, 0.02], np.float32)
    w = (1 - lum) ** 2 * 0.5
    x = x * (1 - w) + np.array([0.42, 0.36, 0.58], np.float32) * w
    x = np.clip(x, 0, 1) ** 0.85 * 255
    pil = Image.fromarray(_to_uint8(x))
    dy, dx = rng.integers(-2, 3, 2) * ss
    src = np.asarray(pil.filter(ImageFilter.GaussianBlur(s * 0.008)), np.float32)
    src = np.pad(src, ((abs(dy), abs(dy)), (abs(dx), abs(dx)), (0, 0)), mode="edge")
    src = src[abs(dy) + dy: abs(dy) + dy + s, abs(dx) + dx: abs(dx) + dx + s]
    canvas = pil.filter(ImageFilter.GaussianBlur(s * 0.03))
    draw = ImageDraw.Draw(canvas)
    lum = src @ np.array([0.3, 0.59, 0.11], np.float32)
    gy, gx = np.gradient(lum)
    edge = np.hypot(gx, gy) * s / 255.0
    contour = np.arctan2(gy, gx) + np.pi / 2
    mean = np.deg2rad(np.array([_STROKE_ANGLE[c][0] for c in range(8)], np.float32))
    std = np.deg2rad(np.array([_STROKE_ANGLE[c][1] for c in range(8)], np.float32))
    bias = np.deg2rad(rng.normal(0, 8))
    area = (size / 64) ** 2
    # broad strokes cover the canvas, then smaller ones, the smallest only along edges
    for scale, count, edges_only in ((1.0, 900, False), (0.65, 1000, False), (0.4, 1400, True)):
        n = int(count * area)
        px, py = rng.uniform(0, s, n), rng.uniform(0, s, n)
        ix, iy = px.astype(int), py.astype(int)
        if edges_only:
            keep = edge[iy, ix] > 6.0
            px, py, ix, iy = px[keep], py[keep], ix[keep], iy[keep]
            n = len(px)
        cls = labels[iy, ix]
        ang = mean[cls] + bias + std[cls] * rng.standard_normal(n)
        ang = np.where(edge[iy, ix] > 6.0, contour[iy, ix] + rng.normal(0, 0.15, n), ang)
        length = s * scale * rng.uniform(0.045, 0.09, n)
        width = np.maximum(1, np.rint(s * scale * rng.uniform(0.018, 0.03, n))).astype(int)
        col = src[iy, ix] * rng.uniform(0.94, 1.06, (n, 1)) + rng.normal(0, 3, (n, 3))
        accent = rng.random(n) < 0.04  # a few strokes of violet in the darks and warm yellow in the lights
        tint = np.where((lum[iy, ix] < 128)[:, None], [[150, 120, 190]], [[255, 225, 150]])
        col = np.where(accent[:, None], 0.6 * col + 0.4 * tint, col)
        col = _to_uint8(col)
        dx, dy = np.cos(ang) * length / 2, np.sin(ang) * length / 2
        for k in range(n):
            draw.line((px[k] - dx[k], py[k] - dy[k], px[k] + dx[k], py[k] + dy[k]), fill=tuple(col[k]),
                      width=int(width[k]))
    out = np.asarray(canvas.reduce(ss), np.float32)
    grain = _noise(rng, (size, size), (32, 32), 1)
    return _to_uint8(out * (1 + 0.02 * grain[..., None]))


# ----------------------------------------------------------------------------------------------------------------
# drawings


def _eyes(pen, x, y, r, ink, look=(0.0, 0.0)):
    pen.ellipse(x, y, r, 1.15 * r, (255, 255, 255), ink, 0.05)
    pen.ellipse(x + look[0] * r, y + look[1] * r + 0.15 * r, 0.55 * r, 0.65 * r, ink)
    pen.ellipse(x + look[0] * r - 0.18 * r, y + look[1] * r - 0.1 * r, 0.18 * r, 0.18 * r, (255, 255, 255))


def _smile(pen, y, w, ink, open_mouth=False):
    if open_mouth:
        pen.fill(_ellipse_xy(0, y, w, 0.8 * w, 0, 180, 14), (170, 50, 60), ink, 0.05)
    else:
        pen.stroke(_ellipse_xy(0, y - 0.3 * w, w, 0.6 * w, 25, 155, 10), ink, 0.06)


def _draw_creature(pen, rng, ink, col):
    light = _mix(col, (255, 255, 255), 0.45)
    for side in (-1, 1):
        pen.ellipse(side * 0.38, 0.88, 0.2, 0.12, _shade(col, 0.85), ink, 0.06)
        pen.ellipse(side * 0.86, 0.28, 0.2, 0.12, col, ink, 0.06, rot=side * 40)
    extra = rng.integers(3)
    if extra == 0:
        for side in (-1, 1):
            pen.fill([[side * 0.3, -0.6], [side * 0.55, -1.05], [side * 0.62, -0.5]], light, ink, 0.06)
    elif extra == 1:
        for side in (-1, 1):
            pen.stroke([[side * 0.2, -0.6], [side * 0.4, -1.0]], ink, 0.05)
            pen.ellipse(side * 0.42, -1.02, 0.1, 0.1, _vivid(rng), ink, 0.05)
    body = _superellipse(0, 0.12, rng.uniform(0.7, 0.85), rng.uniform(0.7, 0.85), rng.uniform(2.0, 3.2))
    pen.fill(body, col, ink, 0.07)
    pen.ellipse(0, 0.42, 0.42, 0.3, light)
    if rng.random() < 0.4:
        _eyes(pen, 0, -0.15, 0.3, ink, (rng.uniform(-0.3, 0.3), 0))
    else:
        for side in (-1, 1):
            _eyes(pen, side * 0.26, -0.15, 0.19, ink, (rng.uniform(-0.3, 0.3), 0))
    _smile(pen, 0.2, 0.18, ink, rng.random() < 0.5)


def _draw_animal(pen, rng, ink, col):
    kind = rng.integers(3)
    inner = _mix(col, (255, 160, 180), 0.55)
    for side in (-1, 1):
        if kind == 0:  # cat
            pen.fill([[side * 0.3, -0.5], [side * 0.78, -1.05], [side * 0.88, -0.3]], col, ink, 0.07)
            pen.fill([[side * 0.42, -0.5], [side * 0.74, -0.86], [side * 0.78, -0.42]], inner)
        elif kind == 1:  # bear
            pen.ellipse(side * 0.62, -0.62, 0.28, 0.28, col, ink, 0.07)
            pen.ellipse(side * 0.62, -0.62, 0.15, 0.15, inner)
        else:  # bunny
            pen.ellipse(side * 0.35, -0.95, 0.17, 0.5, col, ink, 0.07, rot=side * 12)
            pen.ellipse(side * 0.35, -0.92, 0.08, 0.36, inner, rot=side * 12)
    pen.ellipse(0, 0.05, 0.9, 0.76, col, ink, 0.07)
    if kind == 1:
        pen.ellipse(0, 0.3, 0.32, 0.24, _mix(col, (255, 255, 255), 0.5), ink, 0.05)
    for side in (-1, 1):
        pen.ellipse(side * 0.34, -0.05, 0.1, 0.13, ink)
        pen.ellipse(side * 0.34 - 0.03, -0.09, 0.035, 0.035, (255, 255, 255))
        pen.ellipse(side * 0.56, 0.25, 0.12, 0.07, (250, 150, 160))
        if kind == 0:
            for dy in (-0.05, 0.08):
                pen.stroke([[side * 0.5, 0.18 + dy], [side * 0.98, 0.12 + 2 * dy]], ink, 0.035)
    pen.ellipse(0, 0.2, 0.08, 0.055, ink)
    for side in (-1, 1):
        pen.stroke(_ellipse_xy(side * 0.08, 0.28, 0.08, 0.07, 20, 160, 8), ink, 0.045)


def _draw_fruit(pen, rng, ink, col):
    kind = rng.integers(4)
    leaf = _jitter(rng, (80, 170, 60), 20)
    if kind == 3:  # cherries
        red = _jitter(rng, (210, 30, 50), 20)
        for side in (-1, 1):
            stem = _bezier((side * 0.4, 0.3), (side * 0.25, -0.4), (0.05, -0.85), 10)
            pen.stroke(stem, _jitter(rng, (90, 60, 30)), 0.07)
        pen.ellipse(0.3, -0.8, 0.3, 0.13, leaf, ink, 0.06, rot=-20)
        for side in (-1, 1):
            pen.ellipse(side * 0.42, 0.52, 0.38, 0.38, red, ink, 0.07)
            pen.ellipse(side * 0.42 - 0.14, 0.4, 0.08, 0.11, (255, 240, 240), rot=20)
        return
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    if kind == 0:  # apple
        body = np.stack([0.9 * np.sin(t), -0.8 * np.cos(t) + 0.22 * np.exp(-(np.minimum(t, 2 * np.pi - t) / 0.45) ** 2)
                         + 0.06 * np.exp(-((t - np.pi) / 0.4) ** 2) + 0.1], 1)
        col = col if rng.random() < 0.3 else _jitter(rng, (220, 40, 50), 20)
    elif kind == 1:  # pear
        y = -np.cos(t)
        body = np.stack([np.sin(t) * (0.45 + 0.4 * (y + 1) / 2) ** 1.1 * 1.15, 0.95 * y + 0.1], 1)
        col = _jitter(rng, (200, 210, 70), 20)
    else:  # orange
        body = _ellipse_xy(0, 0.1, 0.88, 0.85)
        col = _jitter(rng, (245, 150, 40), 15)
    pen.stroke([[0.0, -0.6], [0.08, -1.0]], _jitter(rng, (100, 65, 35)), 0.09)
    pen.ellipse(0.34, -0.82, 0.3, 0.13, leaf, ink, 0.06, rot=-25)
    pen.fill(body, col, ink, 0.07)
    if kind == 2:
        for _ in range(9):
            pen.ellipse(rng.uniform(-0.6, 0.6), rng.uniform(-0.45, 0.65), 0.025, 0.025, _shade(col, 0.8))
    pen.ellipse(-0.42, -0.2, 0.1, 0.2, _mix(col, (255, 255, 255), 0.7), rot=25)


def _draw_house(pen, rng, ink, col):
    roof = _jitter(rng, [(200, 60, 50), (80, 90, 160), (90, 60, 40), (60, 130, 90)][rng.integers(4)], 20)
    pen.fill([[0.4, -0.8], [0.6, -0.8], [0.6, -0.35], [0.4, -0.35]], _shade(roof, 0.8), ink, 0.06)
    pen.fill([[-0.75, -0.15], [0.75, -0.15], [0.75, 0.9], [-0.75, 0.9]], _mix(col, (255, 255, 255), 0.5), ink, 0.07)
    pen.fill([[-0.98, -0.1], [0.0, -0.95], [0.98, -0.1]], roof, ink, 0.07)
    door = _jitter(rng, (140, 90, 50), 20)
    dx = rng.uniform(-0.35, 0.35)
    pen.fill(np.concatenate([[[dx - 0.18, 0.9]], _ellipse_xy(dx, 0.4, 0.18, 0.15, 180, 360, 10), [[dx + 0.18, 0.9]]]),
             door, ink, 0.06)
    pen.ellipse(dx + 0.1, 0.65, 0.03, 0.03, ink)
    glass = _jitter(rng, (170, 220, 245), 10)
    for wx in (-0.48, 0.48):
        if abs(wx - dx) > 0.4:
            pen.fill([[wx - 0.17, 0.1], [wx + 0.17, 0.1], [wx + 0.17, 0.42], [wx - 0.17, 0.42]], glass, ink, 0.06)
            pen.stroke([[wx, 0.1], [wx, 0.42]], ink, 0.04, caps=False)
            pen.stroke([[wx - 0.17, 0.26], [wx + 0.17, 0.26]], ink, 0.04, caps=False)
    pen.ellipse(0, -0.42, 0.13, 0.13, glass, ink, 0.05)


def _draw_star(pen, rng, ink, col):
    col = col if rng.random() < 0.4 else _jitter(rng, (250, 210, 60), 15)
    t = np.deg2rad(np.arange(10) * 36 - 90)
    r = np.where(np.arange(10) % 2 == 0, 1.0, rng.uniform(0.42, 0.5))
    pen.fill(np.stack([r * np.cos(t), r * np.sin(t) + 0.08], 1), col, ink, 0.07)
    if rng.random() < 0.7:
        for side in (-1, 1):
            pen.ellipse(side * 0.17, 0.0, 0.07, 0.1, ink)
            pen.ellipse(side * 0.17 - 0.025, -0.03, 0.025, 0.025, (255, 255, 255))
        _smile(pen, 0.2, 0.1, ink)


def _draw_cup(pen, rng, ink, col):
    pen.ellipse(0.0, 0.85, 0.95, 0.16, _mix(col, (255, 255, 255), 0.6), ink, 0.06)
    pen.stroke(_ellipse_xy(0.62, 0.2, 0.28, 0.26, -100, 100, 16), ink, 0.2)
    pen.stroke(_ellipse_xy(0.62, 0.2, 0.28, 0.26, -100, 100, 16), col, 0.09)
    body = np.concatenate([[[-0.62, -0.35], [0.62, -0.35]], [[0.55 * np.cos(a) ** 0.6, 0.35 + 0.45 * np.sin(a)]
                                                             for a in np.linspace(0, np.pi / 2, 6)],
                           [[-0.55 * np.cos(a) ** 0.6, 0.35 + 0.45 * np.sin(a)] for a in np.linspace(np.pi / 2, 0, 6)]])
    pen.fill(body, col, ink, 0.07)
    if rng.random() < 0.6:
        pen.fill([[-0.6, 0.0], [0.6, 0.0], [0.58, 0.15], [-0.58, 0.15]], _mix(col, (255, 255, 255), 0.6))
    pen.ellipse(0, -0.35, 0.62, 0.12, _jitter(rng, (110, 60, 35), 15), ink, 0.06)
    for k in range(int(rng.integers(0, 4))):
        x = -0.25 + 0.25 * k
        pen.stroke(_bezier((x, -0.55), (x + 0.15, -0.75), (x, -0.95), 8), (150, 150, 160), 0.05)


def _draw_fish(pen, rng, ink, col):
    fin = _shade(col, 0.8)
    pen.fill([[0.6, 0.0], [1.05, -0.45], [1.0, 0.45]], fin, ink, 0.07)
    pen.fill([[-0.3, -0.45], [0.05, -0.78], [0.3, -0.42]], fin, ink, 0.06)
    pen.ellipse(-0.1, 0.0, 0.82, 0.52, col, ink, 0.07)
    stripe = _mix(col, (255, 255, 255), 0.55) if rng.random() < 0.5 else _shade(col, 0.7)
    for x in (0.05, 0.3):
        pen.stroke(_ellipse_xy(x - 0.3, 0, 0.32, 0.45, -50, 50, 8), stripe, 0.06)
    pen.ellipse(-0.55, -0.1, 0.12, 0.12, (255, 255, 255), ink, 0.05)
    pen.ellipse(-0.57, -0.09, 0.06, 0.07, ink)
    pen.stroke(_ellipse_xy(-0.82, 0.12, 0.07, 0.06, 200, 340, 6), ink, 0.04)
    pen.ellipse(0.05, 0.18, 0.16, 0.08, fin, ink, 0.05, rot=20)


def _draw_flower(pen, rng, ink, col):
    green = _jitter(rng, (70, 160, 60), 20)
    potted = rng.random() < 0.5
    pen.stroke([[0.0, -0.2], [0.02, 0.75 if potted else 1.0]], green, 0.08)
    pen.ellipse(0.22, 0.5, 0.22, 0.09, green, ink, 0.05, rot=-30)
    if potted:
        pot = _jitter(rng, (200, 100, 60), 15)
        pen.fill([[-0.45, 0.55], [0.45, 0.55], [0.35, 1.05], [-0.35, 1.05]], pot, ink, 0.06)
        pen.fill([[-0.5, 0.5], [0.5, 0.5], [0.5, 0.65], [-0.5, 0.65]], _shade(pot, 1.1), ink, 0.06)
    k = int(rng.integers(5, 9))
    for j in range(k):
        a = 2 * np.pi * j / k
        pen.ellipse(0.38 * np.cos(a), -0.35 + 0.38 * np.sin(a), 0.3, 0.2, col, ink, 0.06, rot=np.rad2deg(a))
    pen.ellipse(0, -0.35, 0.24, 0.24, _jitter(rng, (250, 200, 60), 15), ink, 0.06)


def _draw_mushroom(pen, rng, ink, col):
    col = col if rng.random() < 0.3 else _jitter(rng, (215, 45, 45), 15)
    stem = _jitter(rng, (245, 232, 205), 8)
    pen.fill(_superellipse(0, 0.45, 0.3, 0.45, 3.0), stem, ink, 0.07)
    cap = np.concatenate([_ellipse_xy(0, 0.1, 0.95, 0.9, 180, 360, 28), [[0.9, 0.18], [-0.9, 0.18]]])
    pen.fill(cap, col, ink, 0.07)
    for _ in range(int(rng.integers(3, 7))):
        a = rng.uniform(195, 345)
        rr = rng.uniform(0.35, 0.75)
        pen.ellipse(rr * np.cos(np.deg2rad(a)), 0.1 + 0.9 * rr * np.sin(np.deg2rad(a)), 0.13, 0.1,
                    (255, 255, 250), ink, 0.035)
    if rng.random() < 0.5:
        for side in (-1, 1):
            pen.ellipse(side * 0.1, 0.45, 0.035, 0.05, ink)
        pen.stroke(_ellipse_xy(0, 0.52, 0.07, 0.05, 20, 160, 6), ink, 0.04)


def _draw_heart(pen, rng, ink, col):
    col = col if rng.random() < 0.4 else _jitter(rng, (235, 60, 90), 15)
    t = np.linspace(0, 2 * np.pi, 56, endpoint=False)
    x = 16 * np.sin(t) ** 3 / 17
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)) / 17
    pen.fill(np.stack([x, y + 0.1], 1), col, ink, 0.07)
    pen.ellipse(-0.5, -0.3, 0.1, 0.17, _mix(col, (255, 255, 255), 0.7), rot=35)
    if rng.random() < 0.6:
        for side in (-1, 1):
            pen.ellipse(side * 0.25, 0.0, 0.07, 0.1, ink)
        _smile(pen, 0.2, 0.1, ink)


def _draw_ghost(pen, rng, ink, col):
    col = _mix(col, (255, 255, 255), 0.8)
    bottom = [[0.75 - 0.25 * k, 0.9 - (0.15 if k % 2 else 0.0)] for k in range(7)]
    body = np.concatenate([_ellipse_xy(0, -0.15, 0.75, 0.8, 180, 360, 24), [[0.75, 0.9]], bottom, [[-0.75, 0.9]]])
    pen.fill(body, col, ink, 0.07)
    for side in (-1, 1):
        pen.ellipse(side * 0.25, -0.15, 0.09, 0.15, ink)
        pen.ellipse(side * 0.45, 0.08, 0.1, 0.05, (250, 170, 180))
    pen.ellipse(0, 0.15, 0.08, 0.1, ink)


_DRAWERS = (_draw_creature, _draw_animal, _draw_fruit, _draw_house, _draw_star, _draw_cup, _draw_fish, _draw_flower,
            _draw_mushroom, _draw_heart, _draw_ghost)


def _drawing(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One flat-colour cartoon object: uint8 (size, size, 3) image and its bool foreground mask."""
    ss = _supersample(size)
    s = size * ss
    draw_fn = _DRAWERS[rng.integers(len(_DRAWERS))]
    bg = _hsv(rng.random(), rng.uniform(0.03, 0.16), rng.uniform(0.94, 1.0))
    ink = _jitter(rng, (40, 32, 44), 10)
    col = _vivid(rng)
    unit = s * rng.uniform(0.34, 0.42)
    center = (s * (0.5 + rng.uniform(-0.05, 0.05)), s * (0.5 + rng.uniform(-0.04, 0.04)))
    angle, flip = float(rng.normal(0, 6)), bool(rng.random() < 0.5)
    canvas = Image.new("RGB", (s, s), bg)
    mask = Image.new("L", (s, s), 0)
    if rng.random() < 0.5:
        _Pen(canvas, center, unit, angle).ellipse(0, 1.02, 0.75, 0.1, _shade(bg, 0.88))
    draw_fn(_Pen(canvas, center, unit, angle, mask=mask, flip=flip), rng, ink, col)
    return np.asarray(canvas.reduce(ss)), np.asarray(mask.reduce(ss)) > 127


# ----------------------------------------------------------------------------------------------------------------
# pixel art


def _pixelate(drawing: np.ndarray, mask: np.ndarray, cell: int, colors: int, outline: bool) -> np.ndarray:
    """Cells aligned to the top-left corner take the median colour of their majority side (object or background),
    so sprites stay crisp; then median-cut quantisation, an outer dark outline and nearest upscaling."""
    size = drawing.shape[0]
    m = -(-size // cell)
    pad = ((0, m * cell - size), (0, m * cell - size))
    img = np.pad(drawing.astype(np.float32), pad + ((0, 0),), mode="edge")
    fg = np.pad(mask, pad, mode="edge")
    blocks = img.reshape(m, cell, m, cell, 3).transpose(0, 2, 1, 3, 4).reshape(m, m, cell * cell, 3)
    fg_blocks = fg.reshape(m, cell, m, cell).transpose(0, 2, 1, 3).reshape(m, m, cell * cell)
    small_fg = fg_blocks.mean(axis=2) > 0.5
    keep = fg_blocks == small_fg[..., None]
    small = np.nanmedian(np.where(keep[..., None], blocks, np.nan), axis=2)
    pal = Image.fromarray(_to_uint8(small)).quantize(colors, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small = np.asarray(pal.convert("RGB")).copy()
    if outline and cell > 1:
        ring = np.zeros_like(small_fg)
        ring[1:] |= small_fg[:-1]
        ring[:-1] |= small_fg[1:]
        ring[:, 1:] |= small_fg[:, :-1]
        ring[:, :-1] |= small_fg[:, 1:]
        small[ring & ~small_fg] = (28, 22, 36)
    return np.repeat(np.repeat(small, cell, 0), cell, 1)[:size, :size]


# ----------------------------------------------------------------------------------------------------------------
# public numpy API


def make_faces(n: int, image_size: int = 64, seed: int = 0) -> np.ndarray:
    """Generates cartoon/anime-style faces that fill the frame (stand-in for the anime-faces dataset).

    Each face varies head shape, skin tone, hair colour and style (long, bob, short, twin tails; bangs, side locks,
    shine), large eyes with coloured irises and white highlights, brows, mouth, blush, accessories, clothes,
    pose/scale jitter and a plain or gradient background.

    Args:
        n: number of images (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer; image ``i`` depends only on ``(seed, i)``.

    Returns:
        uint8 array of shape ``(n, image_size, image_size, 3)``.

    Example:
    >>> make_faces(2, image_size=32).shape
    (2, 32, 32, 3)
    """
    n, image_size, seed = _check_args(n, image_size, seed)
    return np.stack([_face(_rng(seed, "faces", i), image_size) for i in range(n)])


def make_landscapes(n: int, image_size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generates landscapes with aligned label maps (GauGAN/SPADE photo domain).

    Scenes combine a gradient sky (sometimes a sunset) with clouds, one or two mountain ranges (hazy far ranges,
    snow), a lake with mirrored reflections, grass or desert, beaches, roads and trees. Class ids and colours are
    ``LANDSCAPE_CLASSES`` and ``LANDSCAPE_PALETTE``; the label of a pixel is the class that covers most of it.

    Args:
        n: number of images (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer; image ``i`` depends only on ``(seed, i)``.

    Returns:
        ``(images, labels)``: uint8 ``(n, H, W, 3)`` and uint8 ``(n, H, W)`` with ids in ``0..7``.

    Example:
    >>> images, labels = make_landscapes(2, image_size=32)
    >>> images.shape, labels.shape
    ((2, 32, 32, 3), (2, 32, 32))
    """
    n, image_size, seed = _check_args(n, image_size, seed)
    pairs = [_landscape(_rng(seed, "landscapes", i), image_size) for i in range(n)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def make_paintings(n: int, image_size: int = 64, seed: int = 0) -> np.ndarray:
    """Generates impressionist paintings of landscapes (stand-in for the Monet set of CycleGAN).

    The scenes come from the landscape generator on a separate seed stream (never the same scene as
    ``make_landscapes`` with the same seed), shifted to a lighter, warmer pastel palette with violet shadows, and
    re-painted with thousands of short strokes whose colour is sampled from a blurred, shifted copy of the scene
    and whose direction follows the content (horizontal on water and sky, upright in grass).

    Args:
        n: number of images (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer; image ``i`` depends only on ``(seed, i)``.

    Returns:
        uint8 array of shape ``(n, image_size, image_size, 3)``.

    Example:
    >>> make_paintings(2, image_size=32).shape
    (2, 32, 32, 3)
    """
    n, image_size, seed = _check_args(n, image_size, seed)
    return np.stack([_painting(_rng(seed, "paintings", i), image_size) for i in range(n)])


def make_drawings(n: int, image_size: int = 64, seed: int = 0) -> np.ndarray:
    """Generates flat-colour cartoon drawings with dark outlines on light backgrounds.

    Kinds: creatures, animal faces (cat, bear, bunny), fruit (apple, pear, orange, cherries), houses, stars, cups,
    fish, flowers, mushrooms, hearts and ghosts, with random colours, size, position, tilt and mirroring.

    Args:
        n: number of images (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer; image ``i`` depends only on ``(seed, i)``.

    Returns:
        uint8 array of shape ``(n, image_size, image_size, 3)``.

    Example:
    >>> make_drawings(2, image_size=32).shape
    (2, 32, 32, 3)
    """
    n, image_size, seed = _check_args(n, image_size, seed)
    return np.stack([_drawing(_rng(seed, "drawings", i), image_size)[0] for i in range(n)])


def make_pixel_art(
    n: int,
    image_size: int = 64,
    seed: int = 0,
    cell_sizes: Sequence[int] = (1, 2, 3, 4, 5, 6, 7),
    outline: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generates pixel art by pixelating drawings, returned with the drawings for exact pairs.

    Drawing ``i`` is ``make_drawings(n, image_size, seed)[i]``. Each gets a nominal cell size ``c`` drawn from
    ``cell_sizes`` (pixels per art pixel at 64 px; the real cell is ``max(1, floor(c * image_size / 64 + 0.5))``), is
    box-averaged over cells aligned to the top-left corner, quantised to 8..16 colours (median cut, no dithering),
    optionally outlined in a dark colour around the object, and upscaled with nearest neighbour.

    Args:
        n: number of images (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer; image ``i`` depends only on ``(seed, i)``.
        cell_sizes: nominal cell sizes to pick from, each in 1..16.
        outline: draw a one-art-pixel dark outline around the object (cells > 1).

    Returns:
        ``(pixel_art, cell_size, drawings)``: uint8 ``(n, H, W, 3)``, int32 ``(n,)`` nominal cell sizes,
        uint8 ``(n, H, W, 3)`` source drawings.

    Example:
    >>> art, cells, drawings = make_pixel_art(2, image_size=32, cell_sizes=(4,))
    >>> art.shape, cells.tolist(), drawings.shape
    ((2, 32, 32, 3), [4, 4], (2, 32, 32, 3))
    """
    n, image_size, seed = _check_args(n, image_size, seed)
    cells = _check_cell_sizes(cell_sizes)
    arts, sizes, drawings = [], [], []
    for i in range(n):
        drawing, mask = _drawing(_rng(seed, "drawings", i), image_size)
        rng = _rng(seed, "pixel_art", i)
        c = cells[int(rng.integers(len(cells)))]
        colors = int(rng.integers(8, 17))
        cell = max(1, int(c * image_size / 64 + 0.5))
        arts.append(_pixelate(drawing, mask, cell, colors, bool(outline)))
        sizes.append(c)
        drawings.append(drawing)
    return np.stack(arts), np.asarray(sizes, np.int32), np.stack(drawings)


def colorize_labels(label_map: np.ndarray) -> np.ndarray:
    """Maps landscape class ids to their ``LANDSCAPE_PALETTE`` colours (``DONTCARE_ID`` becomes black).

    Args:
        label_map: integer array of any shape (e.g. ``(H, W)`` or ``(N, H, W)``) with ids 0..7 or 255.

    Returns:
        uint8 array of shape ``label_map.shape + (3,)``.

    Example:
    >>> colorize_labels(np.array([[0, 255]], np.uint8)).tolist()
    [[[110, 160, 230], [0, 0, 0]]]
    """
    labels = np.asarray(label_map)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"label_map must hold integer class ids. Received dtype={labels.dtype}")
    bad = (labels >= len(LANDSCAPE_CLASSES)) & (labels != DONTCARE_ID) | (labels < 0)
    if bad.any():
        raise ValueError(f"label_map ids must be in 0..{len(LANDSCAPE_CLASSES) - 1} or {DONTCARE_ID}. "
                         f"Received ids: {sorted(np.unique(labels[bad]).tolist())[:10]}")
    lut = np.zeros((256, 3), np.uint8)
    lut[: len(LANDSCAPE_CLASSES)] = LANDSCAPE_PALETTE
    return lut[labels.astype(np.int64)]


# ----------------------------------------------------------------------------------------------------------------
# tf.data wrappers (TensorFlow is imported on use, so the numpy generators stay light)


def faces(n: int = 512, image_size: int = 64, seed: int = 0):
    """``tf.data.Dataset`` of ``make_faces`` images: unbatched uint8 ``(H, W, 3)`` tensors.

    Example:
    >>> ds = faces(4, image_size=32)
    >>> tuple(next(iter(ds)).shape)
    (32, 32, 3)
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(make_faces(n, image_size, seed))


def landscapes(n: int = 512, image_size: int = 64, seed: int = 0):
    """``tf.data.Dataset`` of ``(image, label)`` pairs: uint8 ``(H, W, 3)`` and uint8 ``(H, W)`` class ids.

    Example:
    >>> image, label = next(iter(landscapes(2, image_size=32)))
    >>> tuple(image.shape), tuple(label.shape)
    ((32, 32, 3), (32, 32))
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(make_landscapes(n, image_size, seed))


def paintings(n: int = 512, image_size: int = 64, seed: int = 0):
    """``tf.data.Dataset`` of ``make_paintings`` images: unbatched uint8 ``(H, W, 3)`` tensors.

    Example:
    >>> tuple(next(iter(paintings(2, image_size=32))).shape)
    (32, 32, 3)
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(make_paintings(n, image_size, seed))


def drawings(n: int = 512, image_size: int = 64, seed: int = 0):
    """``tf.data.Dataset`` of ``make_drawings`` images: unbatched uint8 ``(H, W, 3)`` tensors.

    Example:
    >>> tuple(next(iter(drawings(2, image_size=32))).shape)
    (32, 32, 3)
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(make_drawings(n, image_size, seed))


def pixel_art(
    n: int = 512,
    image_size: int = 64,
    seed: int = 0,
    cell_sizes: Sequence[int] = (1, 2, 3, 4, 5, 6, 7),
    min_cell: int | None = None,
):
    """``tf.data.Dataset`` of ``{"image", "cell_size", "drawing"}`` dicts from ``make_pixel_art``.

    Args:
        n: number of elements (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer.
        cell_sizes: nominal cell sizes to pick from, each in 1..16.
        min_cell: keep only cell sizes ``>= min_cell``. The filter is applied to ``cell_sizes`` before generating,
            so the dataset still holds ``n`` elements (and the drawings are the same as without the filter).

    Returns:
        A dataset of dicts: ``image`` uint8 ``(H, W, 3)``, ``cell_size`` int32 scalar, ``drawing`` uint8 ``(H, W, 3)``.

    Example:
    >>> ds = pixel_art(4, image_size=32, min_cell=4)
    >>> all(int(e["cell_size"]) >= 4 for e in ds)
    True
    """
    import tensorflow as tf

    cells = _check_cell_sizes(cell_sizes)
    if min_cell is not None:
        min_cell = _check_int("min_cell", min_cell, 1, MAX_CELL_SIZE)
        kept = tuple(c for c in cells if c >= min_cell)
        if not kept:
            raise ValueError(f"min_cell={min_cell} removes every entry of cell_sizes={cell_sizes!r}; "
                             f"pass a min_cell <= {max(cells)}.")
        cells = kept
    art, cell, drawing = make_pixel_art(n, image_size, seed, cell_sizes=cells)
    return tf.data.Dataset.from_tensor_slices({"image": art, "cell_size": cell, "drawing": drawing})


def write_folder(
    family: str, path: str | os.PathLike, n: int, image_size: int = 64, seed: int = 0
) -> list[pathlib.Path]:
    """Writes ``n`` images of a toy family as PNG files ``<path>/<family>_<i:05d>.png``.

    Landscapes also write their label maps (raw class ids, mode ``L``) as ``<path>/labels/<same name>``. Folder
    loaders that walk subfolders will see ``labels/``: point them at the images only, or filter by folder.

    Args:
        family: one of ``FAMILIES``.
        path: output folder (created if needed).
        n: number of images (>= 1).
        image_size: height and width in pixels, 32..256.
        seed: non-negative integer.

    Returns:
        Sorted list of the image paths written (label paths are the same names under ``labels/``).

    Example:
    >>> import tempfile
    >>> paths = write_folder("drawings", tempfile.mkdtemp(), 2, image_size=32)
    >>> [p.name for p in paths]
    ['drawings_00000.png', 'drawings_00001.png']
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}. Received: family={family!r}")
    labels = None
    if family == "landscapes":
        images, labels = make_landscapes(n, image_size, seed)
    elif family == "pixel_art":
        images = make_pixel_art(n, image_size, seed)[0]
    else:
        images = {"faces": make_faces, "paintings": make_paintings, "drawings": make_drawings}[family](
            n, image_size, seed)
    root = pathlib.Path(path)
    root.mkdir(parents=True, exist_ok=True)
    if labels is not None:
        (root / "labels").mkdir(exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        target = root / f"{family}_{i:05d}.png"
        Image.fromarray(image).save(target)
        if labels is not None:
            Image.fromarray(labels[i]).save(root / "labels" / target.name)
        paths.append(target)
    return paths
