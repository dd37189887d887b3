"""The interactive widgets (ipywidgets) of the notebooks, each the same as a few headless calls it names.

- ``generator_picker``: pick a saved epoch of a run and generate images (notebook 01);
- ``sketch_pad``: paint a label map and see the GauGAN image it becomes (notebook 06).

Both return None with a message when ipywidgets is not installed. This module sits above the trainers (it loads run
directories), so the lower layers never import it.

Example:
>>> from kitlib import widgets
>>> callable(widgets.sketch_pad) and callable(widgets.generator_picker)
True
"""

from __future__ import annotations

import io
import os

import keras
import numpy as np

from kitlib.data.labels import SKETCH_SHAPES, paint
from kitlib.eval.labels import colorize
from kitlib.images import to_uint8
from kitlib.infer.gan import generate
from kitlib.infer.spade import synthesize
from kitlib.train.checkpoint import epoch_exports, load_generator
from kitlib.viz import show_images


def generator_picker(run_dir: str | os.PathLike, *, name: str = "generator", n: int = 16, ncols: int = 8, seed: int = 0):
    """An ipywidgets panel: pick a saved epoch, choose how many images, press *Generate*.

    The same as the headless calls ``infer.generate(train.load_generator(run_dir, epoch=E), n, seed=S)`` followed
    by ``viz.show_images``. Returns the widget (display it as a cell's last expression), or None when ipywidgets is
    not installed (the message says how to do the same with plain calls).
    """
    epochs = list(epoch_exports(run_dir, name))
    if not epochs:
        raise ValueError(f"No per-epoch exports of {name!r} in {run_dir}/export: train at least one epoch first.")
    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed; use: viz.show_images(infer.generate(train.load_generator(RUN_DIR, "
              "epoch=E), N))")
        return None
    epoch = widgets.Dropdown(options=epochs, value=epochs[-1], description="epoch")
    count = widgets.IntSlider(value=n, min=1, max=64, description="images")
    seed_box = widgets.IntText(value=seed, description="seed")
    button = widgets.Button(description="Generate", button_style="primary")
    out = widgets.Output()
    cache: dict = {}

    def on_click(_=None):
        with out:
            out.clear_output(wait=True)
            if epoch.value not in cache:
                cache[epoch.value] = load_generator(run_dir, epoch=epoch.value, name=name)
            images = generate(cache[epoch.value], count.value, seed=seed_box.value)
            show_images(images, ncols=ncols, title=f"epoch {epoch.value}, seed {seed_box.value}")

    button.on_click(on_click)
    on_click()
    return widgets.VBox([widgets.HBox([epoch, count, seed_box, button]), out])


def _png(image: np.ndarray, scale: int) -> bytes:
    from PIL import Image

    img = Image.fromarray(image)
    buffer = io.BytesIO()
    img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(buffer, format="PNG")
    return buffer.getvalue()


def sketch_pad(generator: keras.Model, palette, class_names=None, *, label_map=None, seed: int = 0):
    """An ipywidgets sketch pad, the GauGAN demo: pick a class, place a shape, paint, and see the image it becomes.

    The same as headless calls of ``paint`` (one per stroke) and ``synthesize``. *New style* draws another latent
    code for the same sketch; *Undo* removes the last stroke.

    Args:
        generator: a SPADE generator.
        palette: ``(num_classes, 3)`` class colours.
        class_names: one name per class (default: the ids).
        label_map: the starting sketch ``(H, W)`` (default: class 0 everywhere).
        seed: the first latent code's seed.

    Returns:
        The widget (display it as a cell's last expression), or None when ipywidgets is not installed.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed; sketch headless: label_map = paint(label_map, class_id, shape, box), "
              "then synthesize(generator, label_map).")
        return None
    palette = np.asarray(palette, np.uint8)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(palette))]
    height, width = (int(v) for v in generator.inputs[0].shape[1:3])
    start = np.zeros((height, width), np.uint8) if label_map is None else np.asarray(label_map, np.uint8)
    state = {"strokes": [start], "seed": seed}
    scale = max(1, 192 // width)
    legend = widgets.HTML(" ".join(
        f'<span style="background:rgb{tuple(int(v) for v in c)};padding:0 8px;border:1px solid #444"></span> {n}'
        for c, n in zip(palette, names)))
    brush = widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], description="class")
    shape = widgets.ToggleButtons(options=SKETCH_SHAPES, value="rectangle")
    xs = widgets.FloatRangeSlider(value=(0.2, 0.8), min=0, max=1, step=0.02, description="left-right")
    ys = widgets.FloatRangeSlider(value=(0.4, 0.7), min=0, max=1, step=0.02, description="top-bottom")
    buttons = [widgets.Button(description=d) for d in ("Paint", "Undo", "New style")]
    sketch_view, image_view = widgets.Image(format="png"), widgets.Image(format="png")

    def render():
        labels = state["strokes"][-1]
        image = synthesize(generator, labels, seed=state["seed"])[0]
        sketch_view.value = _png(colorize(labels, palette), scale)
        image_view.value = _png(to_uint8(image), scale)

    def on_paint(_):
        box = (xs.value[0], ys.value[0], xs.value[1], ys.value[1])
        if box[2] > box[0] and box[3] > box[1]:
            state["strokes"].append(paint(state["strokes"][-1], brush.value, shape.value, box))
            render()

    def on_undo(_):
        if len(state["strokes"]) > 1:
            state["strokes"].pop()
            render()

    def on_style(_):
        state["seed"] += 1
        render()

    for button, handler in zip(buttons, (on_paint, on_undo, on_style)):
        button.on_click(handler)
    render()
    return widgets.VBox([legend, widgets.HBox([brush, shape]), xs, ys, widgets.HBox(buttons),
                         widgets.HBox([sketch_view, image_view])])


__all__ = ["generator_picker", "sketch_pad"]
