"""``python -m kitlib bench MODEL``: training throughput of the real train steps, with an optional fp32 baseline.

For each model the benchmark builds the networks and trainer exactly as the notebooks do, feeds a synthetic batch,
runs warm-up steps, then times N steps of the same ``train_step`` the trainers use (through ``Model.fit``), and
reports images/s, the precision and XLA setting actually used, and the peak resident memory. ``--baseline`` also
times a straightforward fp32 implementation in the style of the TensorFlow tutorials (a ``tf.function`` train step,
``GroupNormalization`` for instance norm, no mixed precision) so the speed-up is measured in one run (dcgan,
cyclegan and pix2pix have one). ``conv`` measures the machine itself: the GFLOP/s of a 3x3 convolution in float32
and in the policy's compute dtype, the ceiling of any precision speed-up of a convolution-bound step.

Example:
    python -m kitlib bench dcgan --baseline
    python -m kitlib bench pix2pix --baseline
    python -m kitlib bench cyclegan --image-size 128 --batch-size 1 --steps 10 --json
    python -m kitlib bench conv      # this machine's float32 vs bfloat16/float16 convolution throughput
"""

from __future__ import annotations

import resource
import time
from typing import Callable

import keras

from kitlib import methods

# GauGAN is timed at the demo profile of its registry entry (its full one, 256 px x 32, is for GPUs).
GAUGAN_DEMO = methods.get("gaugan").defaults("demo")
GAUGAN_NGF = GAUGAN_DEMO["ngf"]  # ndf = min(64, 2 ngf), spade_hidden = min(128, 2 ngf), as the recipe builds them

DEFAULTS = {  # image_size, batch_size, steps
    "dcgan": (64, 64, 20),
    "cyclegan": (128, 1, 10),
    "pix2pix": (256, 1, 10),  # U-Net256 at 256 px, batch 1: the paper's setting
    "gaugan": (GAUGAN_DEMO["image_size"], GAUGAN_DEMO["batch_size"], 10),
    "data": (64, 64, 10_000),
    "gatys": (256, 1, 10),
    "adain": (256, 4, 5),
    "conv": (32, 8, 10),  # 3x3 conv 256 -> 256 channels on 32x32 maps: a ResNet-9 block's, near peak throughput
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _time_fit(trainer, data, steps: int, warmup: int) -> float:
    """Seconds per step of ``trainer.fit`` (after ``warmup`` steps) on ``data``: an infinite ``tf.data`` stream, or
    one synthetic batch, repeated."""
    import tensorflow as tf

    from kitlib.train.callbacks import BatchTimes

    if not isinstance(data, tf.data.Dataset):
        data = tf.data.Dataset.from_tensors(data).repeat()
    timer = BatchTimes()
    trainer.fit(data, epochs=1, steps_per_epoch=warmup + steps, callbacks=[timer], verbose=0)
    return (timer.times[-1] - timer.times[warmup - 1]) / steps


def _time_function(step: Callable, batch, steps: int, warmup: int) -> float:
    for _ in range(warmup):
        step(batch)
    start = time.perf_counter()
    for _ in range(steps):
        out = step(batch)
    float(out)  # wait for the last step
    return (time.perf_counter() - start) / steps


def _setup(precision: str, xla: str):
    from kitlib import runtime

    return runtime.setup(seed=0, precision=precision, xla=xla)


# ------------------------------------------------------------------------------------------------------------ dcgan


def _seed_dcgan(image_size: int):
    """The report's DCGAN (notebook 01's default) with its trainer, compiled."""
    from kitlib.models.dcgan import build_dcgan
    from kitlib.train import GAN

    g, d = build_dcgan("seed", image_size=image_size)
    gan = GAN(g, d, loss="bce")
    gan.compile()
    return gan


def _synthetic_images(batch_size: int, image_size: int):
    import numpy as np

    return np.random.default_rng(0).uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32")


def _dcgan(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    choice = _setup(precision, xla)
    seconds = _time_fit(_seed_dcgan(image_size), _synthetic_images(batch_size, image_size), steps, warmup)
    return {"seconds_per_step": seconds, "precision": choice.precision, "xla": choice.xla}


def _dcgan_baseline(image_size: int, batch_size: int, steps: int, warmup: int) -> dict:
    """TF DCGAN tutorial style: fp32, two tapes in one tf.function, BinaryCrossentropy(from_logits=True)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from kitlib.models.dcgan import build_dcgan

    _setup("float32", "off")
    g, d = build_dcgan("seed", image_size=image_size)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
    latent = int(g.input_shape[-1])

    @tf.function
    def step(images):
        noise = tf.random.normal([batch_size, latent])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = g(noise, training=True)
            real_out, fake_out = d(images, training=True), d(fake, training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        return g_loss

    batch = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch_size, image_size, image_size, 3)), tf.float32)
    return {"seconds_per_step": _time_function(step, batch, steps, warmup), "precision": "float32", "xla": False}


# --------------------------------------------------------------------------------------------------------- cyclegan


def _cyclegan_networks(image_size: int, norm_layer: str):
    import keras

    from kitlib.models.patchgan import patchgan_discriminator
    from kitlib.models.resnet import resnet_generator

    shape = (image_size, image_size, 3)
    nets = [resnet_generator(shape, num_blocks=9, name="g_ab"), resnet_generator(shape, num_blocks=9, name="g_ba"),
            patchgan_discriminator(shape, name="d_a"), patchgan_discriminator(shape, name="d_b")]
    if norm_layer == "group":  # the tutorial's instance norm: GroupNormalization(groups=-1)
        from kitlib.models.layers import InstanceNormalization

        def swap(layer):
            if isinstance(layer, InstanceNormalization):
                return keras.layers.GroupNormalization(groups=-1, epsilon=layer.epsilon, name=layer.name)
            return layer.__class__.from_config(layer.get_config())

        nets = [keras.models.clone_model(n, clone_function=swap) for n in nets]
    return nets


def _cyclegan(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    import numpy as np

    from kitlib.train import CycleGAN

    choice = _setup(precision, xla)
    gab, gba, da, db = _cyclegan_networks(image_size, "instance")
    gan = CycleGAN(gab, gba, da, db)
    gan.compile()
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32") for _ in range(2))
    seconds = _time_fit(gan, batch, steps, warmup)
    return {"seconds_per_step": seconds, "precision": choice.precision, "xla": choice.xla}


def _cyclegan_baseline(image_size: int, batch_size: int, steps: int, warmup: int) -> dict:
    """TF CycleGAN tutorial style: fp32, GroupNormalization, one persistent tape, four gradient calls."""
    import keras
    import numpy as np
    import tensorflow as tf

    _setup("float32", "off")
    gab, gba, da, db = _cyclegan_networks(image_size, "group")
    mse = keras.losses.MeanSquaredError()
    opts = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)]
    lam = 10.0

    def gen_loss(out):
        return mse(tf.ones_like(out), out)

    def disc_loss(real, fake):
        return 0.5 * (mse(tf.ones_like(real), real) + mse(tf.zeros_like(fake), fake))

    @tf.function
    def step(batch):
        real_a, real_b = batch
        with tf.GradientTape(persistent=True) as tape:
            fake_b, fake_a = gab(real_a, training=True), gba(real_b, training=True)
            cycled_a, cycled_b = gba(fake_b, training=True), gab(fake_a, training=True)
            same_a, same_b = gba(real_a, training=True), gab(real_b, training=True)
            cycle = lam * (tf.reduce_mean(tf.abs(real_a - cycled_a)) + tf.reduce_mean(tf.abs(real_b - cycled_b)))
            g_ab_loss = gen_loss(db(fake_b, training=True)) + cycle + 0.5 * lam * tf.reduce_mean(tf.abs(real_b - same_b))
            g_ba_loss = gen_loss(da(fake_a, training=True)) + cycle + 0.5 * lam * tf.reduce_mean(tf.abs(real_a - same_a))
            da_loss = disc_loss(da(real_a, training=True), da(fake_a, training=True))
            db_loss = disc_loss(db(real_b, training=True), db(fake_b, training=True))
        for loss, net, opt in zip((g_ab_loss, g_ba_loss, da_loss, db_loss), (gab, gba, da, db), opts):
            opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
        return g_ab_loss

    rng = np.random.default_rng(0)
    batch = tuple(tf.constant(rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)), tf.float32) for _ in range(2))
    return {"seconds_per_step": _time_function(step, batch, steps, warmup), "precision": "float32", "xla": False}


# ---------------------------------------------------------------------------------------------------------- pix2pix


def _pix2pix(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    """``build_pix2pix`` as the recipe builds it: U-Net (1x1 bottleneck; U-Net256 at 256 px), PatchGAN 70, filters 64."""
    import numpy as np

    from kitlib.train.pix2pix import build_pix2pix

    choice = _setup(precision, xla)
    p2p = build_pix2pix((image_size, image_size, 3))
    p2p.compile()
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32") for _ in range(2))
    seconds = _time_fit(p2p, batch, steps, warmup)
    return {"seconds_per_step": seconds, "precision": choice.precision, "xla": choice.xla}


def _pix2pix_tutorial_networks(image_size: int):
    """The TF pix2pix tutorial's Generator and Discriminator, with the U-Net depth reaching 1x1 at any size.

    At 256 px this is the tutorial's code (8 down / 7 up blocks, 64 filters). Differences from kitlib's
    ``build_pix2pix`` networks (same layout otherwise): the tutorial's convs have no bias even where no norm follows
    (the first conv of each network, the U-Net's innermost one), and it batch-normalises the 1x1 innermost block.
    """
    import math

    import keras

    initializer = keras.initializers.RandomNormal(0.0, 0.02)

    def downsample(filters, apply_batchnorm=True):
        block = keras.Sequential()
        block.add(keras.layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=initializer,
                                      use_bias=False))
        if apply_batchnorm:
            block.add(keras.layers.BatchNormalization())
        block.add(keras.layers.LeakyReLU())
        return block

    def upsample(filters, apply_dropout=False):
        block = keras.Sequential()
        block.add(keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=initializer,
                                               use_bias=False))
        block.add(keras.layers.BatchNormalization())
        if apply_dropout:
            block.add(keras.layers.Dropout(0.5))
        block.add(keras.layers.ReLU())
        return block

    channels = [64 * min(2**i, 8) for i in range(int(math.log2(image_size)))]  # 64, 128, 256, 512, 512, ...
    down_stack = [downsample(channels[0], apply_batchnorm=False)] + [downsample(c) for c in channels[1:]]
    up_stack = [upsample(c, apply_dropout=i < 3) for i, c in enumerate(reversed(channels[:-1]))]
    last = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", kernel_initializer=initializer,
                                        activation="tanh")
    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    skips = []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    for up, skip in zip(up_stack, reversed(skips[:-1])):
        x = keras.layers.Concatenate()([up(x), skip])
    generator = keras.Model(inputs, last(x), name="tutorial_generator")

    inp = keras.Input((image_size, image_size, 3), name="input_image")
    tar = keras.Input((image_size, image_size, 3), name="target_image")
    x = keras.layers.Concatenate()([inp, tar])
    x = downsample(256)(downsample(128)(downsample(64, apply_batchnorm=False)(x)))
    x = keras.layers.Conv2D(512, 4, strides=1, kernel_initializer=initializer, use_bias=False)(
        keras.layers.ZeroPadding2D()(x))
    x = keras.layers.LeakyReLU()(keras.layers.BatchNormalization()(x))
    x = keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=initializer)(keras.layers.ZeroPadding2D()(x))
    discriminator = keras.Model([inp, tar], x, name="tutorial_discriminator")
    return generator, discriminator


def _pix2pix_baseline(image_size: int, batch_size: int, steps: int, warmup: int) -> dict:
    """TF pix2pix tutorial style: fp32, BCE from logits + 100 x L1, two tapes in one tf.function."""
    import keras
    import numpy as np
    import tensorflow as tf

    _setup("float32", "off")
    generator, discriminator = _pix2pix_tutorial_networks(image_size)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
    lam = 100.0

    @tf.function
    def step(batch):
        input_image, target = batch
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)
            disc_real_output = discriminator([input_image, target], training=True)
            disc_generated_output = discriminator([input_image, gen_output], training=True)
            gen_loss = (bce(tf.ones_like(disc_generated_output), disc_generated_output)
                        + lam * tf.reduce_mean(tf.abs(target - gen_output)))
            disc_loss = (bce(tf.ones_like(disc_real_output), disc_real_output)
                         + bce(tf.zeros_like(disc_generated_output), disc_generated_output))
        g_opt.apply_gradients(zip(gen_tape.gradient(gen_loss, generator.trainable_variables),
                                  generator.trainable_variables))
        d_opt.apply_gradients(zip(disc_tape.gradient(disc_loss, discriminator.trainable_variables),
                                  discriminator.trainable_variables))
        return gen_loss

    rng = np.random.default_rng(0)
    shape = (batch_size, image_size, image_size, 3)
    batch = tuple(tf.constant(rng.uniform(-1, 1, shape), tf.float32) for _ in range(2))
    return {"seconds_per_step": _time_function(step, batch, steps, warmup), "precision": "float32", "xla": False}


# ----------------------------------------------------------------------------------------------------------- gaugan

def _gaugan(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    """``build_gaugan`` + ``GauGAN`` (with the style encoder) as the recipe builds them, on random class-id maps.

    The labels are class ids, as the recipe's batches carry them, so the one-hot encoding inside the train step is
    timed too. The VGG perceptual loss is on only where ImageNet VGG19 weights are present (``vgg_loss``).
    """
    import contextlib
    import sys

    import numpy as np

    from kitlib.data.toy import LANDSCAPE_CLASSES
    from kitlib.models.spade import build_gaugan
    from kitlib.train.gaugan import GauGAN

    choice = _setup(precision, xla)
    num_classes, ngf = len(LANDSCAPE_CLASSES), GAUGAN_NGF
    g, d, e = build_gaugan(image_size, num_classes, ngf=ngf, ndf=min(64, 2 * ngf), spade_hidden=min(128, 2 * ngf))
    with contextlib.redirect_stdout(sys.stderr):  # GauGAN prints the VGG message; stdout stays the result alone
        gaugan = GauGAN(g, d, e)
    gaugan.compile()
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32")
    labels = rng.integers(0, num_classes, (batch_size, image_size, image_size)).astype("uint8")
    seconds = _time_fit(gaugan, (images, labels), steps, warmup)
    return {"seconds_per_step": seconds, "precision": choice.precision, "xla": choice.xla, "ngf": ngf,
            "num_classes": num_classes, "vgg_loss": gaugan.vgg is not None}


# ------------------------------------------------------------------------------------------------------------- data


def _data(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    """Decode + augment throughput of a folder of ``steps`` JPEGs, then the DCGAN step fed by that pipeline vs a
    synthetic batch (the pipeline must never be the bottleneck)."""
    import tempfile

    from kitlib.data.augment import jitter
    from kitlib.data.bench import data_throughput, write_jpeg_folder
    from kitlib.data.folders import image_folder
    from kitlib.data.pipeline import prepare

    with tempfile.TemporaryDirectory(prefix="kitlib_bench_") as tmp:
        folder = write_jpeg_folder(tmp, steps, image_size)
        result = data_throughput(folder, image_size=image_size, batch_size=batch_size)
        choice = _setup(precision, xla)
        gan = _seed_dcgan(image_size)
        batch = min(batch_size, steps)
        real = _time_fit(gan, prepare(image_folder(folder, image_size), batch, seed=0, augment=jitter(image_size)),
                         5, warmup)
    synthetic = _time_fit(gan, _synthetic_images(batch, image_size), 5, warmup)
    return {"images_per_second": result["images_per_second"], "seconds_per_step": batch_size / result["images_per_second"],
            "precision": "n/a", "xla": False, "scan_seconds": result.get("scan_seconds"),
            "train_step_seconds_real_input": real, "train_step_seconds_synthetic_input": synthetic,
            "train_step_precision": choice.precision,
            **{k: result[k] for k in ("cached", "decoded_mb", "rss_before_mb", "peak_rss_growth_mb")}}


# ------------------------------------------------------------------------------------------------- style transfer


def _style(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    """Gatys optimisation iterations (reported as images/s = iterations/s for one image)."""
    from kitlib.style import gatys_speed

    choice = _setup(precision, xla)
    result = gatys_speed(image_size, steps=steps, warmup=warmup)
    return {"seconds_per_step": result["seconds_per_iteration"], "steps_per_second": result["iterations_per_second"],
            "images_per_second": result["iterations_per_second"], "batch_size": 1,
            "precision": choice.precision, "xla": choice.xla}


def _adain(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    from kitlib.train.adain import adain_speed

    choice = _setup(precision, xla)
    result = adain_speed(image_size, batch_size=batch_size, steps=steps, warmup=warmup)
    return {"seconds_per_step": batch_size / result["train_images_per_second"],
            "inference_images_per_second": result["inference_images_per_second"],
            "precision": choice.precision, "xla": choice.xla}


# ------------------------------------------------------------------------------------------------------ roofline

CONV_CHANNELS = 256


def _conv(image_size: int, batch_size: int, steps: int, precision: str, xla: str, warmup: int) -> dict:
    """Throughput of one 3x3 convolution (forward, input gradient, kernel gradient) in float32 and in the compute
    dtype of the chosen policy: the ceiling of what mixed precision alone can give a convolution-bound train step.

    A GAN step at batch 1-64 spends 85-95% of its time in convolutions, so its speed-up over an fp32 step doing the
    same convolutions cannot exceed this ratio by much (only by the element-wise work it saves).
    """
    import numpy as np
    import tensorflow as tf

    choice = _setup(precision, xla)
    fast = keras.mixed_precision.Policy(choice.precision).compute_dtype
    channels = CONV_CHANNELS
    shape = (batch_size, image_size, image_size, channels)
    flops = 3 * 2 * float(np.prod(shape)) * 9 * channels  # forward, input gradient, kernel gradient
    rng = np.random.default_rng(0)
    rates = {}
    for dtype in dict.fromkeys(("float32", fast)):
        x = tf.constant(rng.normal(size=shape), dtype)
        kernel = tf.Variable(rng.normal(0, 0.02, (3, 3, channels, channels)).astype("float32"))

        @tf.function(jit_compile=choice.xla)
        def step(x, dtype=dtype, kernel=kernel):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.nn.conv2d(x, tf.cast(kernel, dtype), 1, "SAME")
                loss = tf.reduce_sum(tf.cast(y, "float32"))
            dx, dk = tape.gradient(loss, [x, kernel])
            return tf.reduce_sum(tf.cast(dx[0, 0, 0], "float32")) + tf.reduce_sum(dk[0, 0, 0])

        rates[dtype] = flops / _time_function(step, x, steps, warmup) / 1e9
    seconds = flops / (rates[fast] * 1e9)
    return {"seconds_per_step": seconds, "precision": choice.precision, "xla": choice.xla,
            "compute_dtype": fast, "gflops_float32": rates["float32"], f"gflops_{fast}": rates[fast],
            "precision_speedup_ceiling": rates[fast] / rates["float32"]}


MODELS = {"dcgan": (_dcgan, _dcgan_baseline), "cyclegan": (_cyclegan, _cyclegan_baseline),
          "pix2pix": (_pix2pix, _pix2pix_baseline), "gaugan": (_gaugan, None), "gatys": (_style, None),
          "adain": (_adain, None), "data": (_data, None), "conv": (_conv, None)}
ALIASES = {"style": "gatys"}  # the old name of the Gatys benchmark


def unbenched() -> list[str]:
    """The registry's methods without a benchmark (benchmarks use the registry's names).

    Example:
    >>> "ddim" in unbenched() and "dcgan" not in unbenched()
    True
    """
    return [name for name in methods.names() if name not in MODELS]


def run(model: str, *, image_size: int | None = None, batch_size: int | None = None, steps: int | None = None,
        precision: str = "auto", xla: str = "auto", baseline: bool = False, warmup: int = 3) -> dict:
    """Runs one benchmark and returns a JSON-able dict.

    Keys: ``model``, ``images_per_second``, ``seconds_per_step``, ``precision``, ``xla``, ``peak_rss_mb``,
    ``image_size``, ``batch_size``, ``steps``, plus the model's own; with ``baseline``: ``baseline_images_per_second``
    and ``speedup`` (``baseline_note`` for models without a baseline: gaugan, gatys, adain, data, conv).
    """
    model = ALIASES.get(model, model)
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}. Received: model={model!r}")
    size, batch, n = DEFAULTS[model]
    image_size, batch_size, steps = image_size or size, batch_size or batch, steps or n
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1. Received: steps={steps}, batch_size={batch_size}")
    fast, slow = MODELS[model]
    result = fast(image_size, batch_size, steps, precision, xla, warmup)
    out = {"model": model, "image_size": image_size, "batch_size": batch_size, "steps": steps, **result}
    out.setdefault("images_per_second", batch_size / result["seconds_per_step"])
    if baseline and slow is not None:
        base = slow(image_size, batch_size, steps, warmup)
        out["baseline_seconds_per_step"] = base["seconds_per_step"]
        out["baseline_images_per_second"] = batch_size / base["seconds_per_step"]
        out["speedup"] = out["images_per_second"] / out["baseline_images_per_second"]
    elif baseline:
        out["baseline_note"] = f"no tutorial-style baseline for {model}"
    out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return out


def format_result(result: dict) -> str:
    """One human-readable paragraph for a ``run`` result."""
    rate = (f"{result['steps_per_second']:.2f} iterations/s" if "steps_per_second" in result
            else f"{result['images_per_second']:.2f} images/s")
    lines = [f"{result['model']}: {rate} "
             f"({result['seconds_per_step']:.3f} s/step, {result['image_size']} px, batch {result['batch_size']}, "
             f"{result['steps']} steps) precision={result['precision']} xla={'on' if result['xla'] else 'off'} "
             f"peak RSS {result['peak_rss_mb']:.0f} MB"]
    if "inference_images_per_second" in result:
        lines.append(f"  inference (stylisation): {result['inference_images_per_second']:.2f} images/s")
    if "vgg_loss" in result:
        lines.append(f"  ngf {result['ngf']}, {result['num_classes']} classes, VGG perceptual loss "
                     + ("on" if result["vgg_loss"] else "off (no ImageNet VGG19 weights here)"))
    if "precision_speedup_ceiling" in result:
        lines.append(f"  3x3 conv {CONV_CHANNELS}->{CONV_CHANNELS} (forward + both gradients): "
                     f"{result['gflops_float32']:.0f} GFLOP/s in float32, "
                     f"{result['gflops_' + result['compute_dtype']]:.0f} in {result['compute_dtype']}: mixed precision "
                     f"can make a convolution-bound step at most x{result['precision_speedup_ceiling']:.2f} faster here")
    if "decoded_mb" in result:
        lines.append(f"  {result['decoded_mb']:.0f} MB decoded, "
                     + ("cached in memory" if result["cached"] else "streamed (over the KITLIB_CACHE_MB budget)")
                     + f": resident memory grew by {result['peak_rss_growth_mb']:.0f} MB over two passes "
                       f"(from {result['rss_before_mb']:.0f} MB)")
    if "train_step_seconds_real_input" in result:
        lines.append(f"  DCGAN train step ({result['train_step_precision']}) fed by this pipeline: "
                     f"{result['train_step_seconds_real_input']:.3f} s/step; by a synthetic batch: "
                     f"{result['train_step_seconds_synthetic_input']:.3f} s/step")
    if "baseline_note" in result:
        lines.append(f"  {result['baseline_note']}")
    if "speedup" in result:
        lines.append(f"  fp32 tutorial-style baseline: {result['baseline_images_per_second']:.2f} images/s "
                     f"({result['baseline_seconds_per_step']:.3f} s/step) -> speed-up x{result['speedup']:.2f}")
    return "\n".join(lines)
