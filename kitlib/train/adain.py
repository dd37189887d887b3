"""``AdaINTrainer``: trains the AdaIN decoder (fast arbitrary style transfer) on the shared engine.

Each step encodes a content batch and a style batch with the frozen VGG19 encoder, forms the AdaIN target
``t = AdaIN(f_c, f_s)`` at ``block4_conv1``, decodes it, re-encodes the result ``g(t)`` and minimises

    content_weight * mean((f(g(t)) - t)^2)  +  style_weight * sum_l [MSE(mean_l) + MSE(std_l)]

(the style term compares channel means and standard deviations of ``g(t)`` and the style image at
``block1_conv1`` ... ``block4_conv1``). Only the decoder trains; the encoder is rebuilt from its weights on
resume and a fingerprint of them is stored in the run configuration, so a run is never continued on other
features.

Reference: Huang & Belongie 2017, https://arxiv.org/abs/1703.06868 ; https://github.com/naoto0804/pytorch-AdaIN
"""

from __future__ import annotations

import hashlib

import keras
import numpy as np
import tensorflow as tf

from kitlib import losses
from kitlib.data.domains import load_unpaired
from kitlib.method import Method
from kitlib.models.layers import CONV_LAYERS
from kitlib.models.vgg import VGGPreprocess
from kitlib.models.adain import ADAIN_LAYERS, AdaIN, adain_decoder, adain_encoder, stylize
from kitlib.train.base import Trainer
from kitlib.train.optimizers import FusedAdam


def _fingerprint(model: keras.Model) -> str:
    digest = hashlib.sha1()
    for w in model.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(w)).tobytes())
    return digest.hexdigest()[:16]


class AdaINTrainer(Trainer):
    """Trains an AdaIN decoder against a frozen VGG19 encoder (one Adam, decoder weights only).

    Args:
        encoder: ``kitlib.models.adain.adain_encoder(...)`` (frozen; returns the four ``ADAIN_LAYERS``).
        decoder: ``kitlib.models.adain.adain_decoder(...)``.
        style_weight: lambda of the paper (10 in the official code).
        content_weight: weight of the content term (1).
        seed: seed of the trainer's random generator (kept for the engine's exact resume).

    Example:
    >>> from kitlib.models.adain import adain_encoder, adain_decoder      # doctest: +SKIP
    >>> trainer = AdaINTrainer(adain_encoder("imagenet"), adain_decoder())  # doctest: +SKIP
    >>> trainer.compile()                                                   # doctest: +SKIP
    >>> trainer.fit(data.prepare(content_style_pairs(c, s), 8), epochs=4, run_dir="runs/adain")  # doctest: +SKIP
    """

    kind = "style"

    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, style_weight: float = 10.0,
                 content_weight: float = 1.0, seed: int = 0, name: str = "adain"):
        if style_weight < 0 or content_weight < 0:
            raise ValueError(f"style_weight and content_weight must be >= 0. Received: {style_weight=}, "
                             f"{content_weight=}")
        missing = [n for n in ADAIN_LAYERS if n not in encoder.output]
        if missing:
            raise ValueError(f"encoder must return the layers {ADAIN_LAYERS} (use kitlib.models.adain.adain_encoder); "
                             f"it lacks {missing}.")
        if encoder.trainable_weights:
            raise ValueError("The encoder must be frozen (encoder.trainable = False): only the decoder trains.")
        super().__init__(loss_names=("loss", "content_loss", "style_loss"), seed=seed, name=name)
        self.encoder = encoder
        self.decoder = decoder
        self.adain = AdaIN(dtype="float32", name="adain")  # the AdaIN target in float32 under mixed precision
        # weightless, but built now: under a distribution strategy Keras's fit would trace an unbuilt layer's model
        self.adain.build([encoder.output[ADAIN_LAYERS[-1]].shape] * 2)
        self.style_weight = float(style_weight)
        self.content_weight = float(content_weight)
        self.encoder_fingerprint = _fingerprint(encoder)
        self.sample_content = self.sample_style = None

    def networks(self):
        return {"decoder": self.decoder}

    def generators(self):
        return {"decoder": self.decoder}

    def run_config(self):
        return {"style_weight": self.style_weight, "content_weight": self.content_weight,
                "encoder": self.encoder.name, "encoder_fingerprint": self.encoder_fingerprint,
                "decoder": self.decoder.name, "decoder_parameters": int(self.decoder.count_params())}

    def compile(self, optimizer=None, *, learning_rate: float = 1e-4, lr_decay: float = 5e-5, **kwargs):
        """Adam on the decoder, learning rate ``learning_rate / (1 + lr_decay * step)`` (official AdaIN code).

        Args:
            optimizer: a Keras optimizer to use instead.
            learning_rate, lr_decay: the default schedule (1e-4, 5e-5); its position is the optimizer's step
                counter, so it resumes exactly.
        """
        if optimizer is None:
            schedule = keras.optimizers.schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=lr_decay)
            optimizer = FusedAdam(schedule)
        self._compile_optimizers({"decoder": optimizer}, **kwargs)

    def train_step(self, data):
        content, style = data
        content, style = tf.cast(content, "float32"), tf.cast(style, "float32")
        last = ADAIN_LAYERS[-1]
        content_feats = self.encoder(content, training=False)
        style_feats = self.encoder(style, training=False)
        target = tf.stop_gradient(self.adain([content_feats[last], style_feats[last]]))
        with tf.GradientTape() as tape:
            output = self.decoder(target, training=True)
            output_feats = self.encoder(output, training=False)
            content_loss = losses.content_loss(output_feats[last], target)
            style_loss = losses.mean_std_loss([output_feats[n] for n in ADAIN_LAYERS],
                                              [style_feats[n] for n in ADAIN_LAYERS])
            loss = self.content_weight * content_loss + self.style_weight * style_loss
            scaled = self.scale_loss("decoder", loss)
        self.minimize("decoder", tape, scaled)
        return self.update_trackers({"loss": loss, "content_loss": content_loss, "style_loss": style_loss})

    # -- samples ------------------------------------------------------------------------------------------------
    def set_sample_inputs(self, content, style) -> None:
        """Fixes the content and style batches shown by ``sample_images`` (and ``SampleGrid``) every epoch."""
        self.sample_content = np.asarray(content, "float32")
        self.sample_style = np.asarray(style, "float32")

    def sample_images(self):
        """Rows of [content, style, stylised] for the fixed sample batches (floats in [-1, 1])."""
        if self.sample_content is None:
            raise ValueError("Call set_sample_inputs(content, style) before using SampleGrid with an AdaINTrainer.")
        out = self.stylize(self.sample_content, self.sample_style)
        n = min(len(self.sample_content), len(self.sample_style), len(out))
        return np.concatenate([np.stack([self.sample_content[i], self.sample_style[i], out[i]]) for i in range(n)])

    def stylize(self, content, style, **kwargs):
        """``kitlib.models.adain.stylize`` with this trainer's encoder and decoder."""
        return stylize(self.encoder, self.decoder, content, style, **kwargs)


def content_style_pairs(content, style, *, num_pairs: int | None = None, seed: int = 0) -> tf.data.Dataset:
    """Unbatched ``(content, style)`` uint8 image pairs for ``kitlib.data.prepare``: every content image in turn
    with a style image drawn at random (seeded), so that each content image meets many styles.

    Args:
        content: uint8 images ``(N, H, W, 3)``, or an unbatched ``tf.data.Dataset`` of them (read into memory).
        style: the same for the style images (may be a different count, same size).
        num_pairs: pairs per pass (default: ``max(len(content), len(style))``).
        seed: seed of the style draw.

    Returns:
        A finite ``tf.data.Dataset`` of ``(content_image, style_image)`` uint8 tuples.

    Example:
    >>> import numpy as np
    >>> ds = content_style_pairs(np.zeros((3, 8, 8, 3), np.uint8), np.ones((5, 8, 8, 3), np.uint8), seed=0)
    >>> int(ds.cardinality())
    5
    """
    def as_array(images, what):
        if isinstance(images, tf.data.Dataset):
            images = np.stack(list(images.as_numpy_iterator())) if int(images.cardinality()) != 0 else np.zeros(0)
        arr = np.asarray(images)
        if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8 or len(arr) == 0:
            raise ValueError(f"{what} must be a non-empty uint8 array (N, H, W, 3) or a dataset of such images. "
                             f"Received shape {arr.shape}, dtype {arr.dtype}.")
        return arr

    content, style = as_array(content, "content"), as_array(style, "style")
    if content.shape[1:] != style.shape[1:]:
        raise ValueError(f"content and style images must have the same size to be batched together. Received "
                         f"{content.shape[1:]} and {style.shape[1:]}: resize them first.")
    n = int(num_pairs or max(len(content), len(style)))
    if n < 1:
        raise ValueError(f"num_pairs must be >= 1. Received: num_pairs={num_pairs!r}")
    rng = np.random.default_rng(seed)
    content_index = np.arange(n) % len(content)
    style_index = rng.integers(0, len(style), n)
    return tf.data.Dataset.from_tensor_slices((content[content_index], style[style_index]))


def adain_speed(size: int = 256, *, batch_size: int = 4, steps: int = 5, warmup: int = 1, filters: int = 64) -> dict:
    """Measures AdaIN stylisation (inference) and training throughput in images/s at ``size`` px, with random
    encoder weights (speed does not depend on them) and the active precision policy.

    Returns:
        ``{"size", "batch_size", "inference_images_per_second", "train_images_per_second", "precision"}``.

    Example:
    >>> adain_speed(32, batch_size=1, steps=1, filters=8)["size"]
    32
    """
    import time

    if int(steps) < 1 or int(warmup) < 0 or int(batch_size) < 1:
        raise ValueError(f"steps, batch_size must be >= 1 and warmup >= 0. Received: {steps=}, {batch_size=}, "
                         f"{warmup=}")
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch_size, size, size, 3)).astype("float32")
    trainer = AdaINTrainer(adain_encoder(None), adain_decoder(filters=filters))
    trainer.compile()
    for _ in range(warmup):
        trainer.stylize(images, images, batch_size=batch_size)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.stylize(images, images, batch_size=batch_size)
    inference = steps * batch_size / (time.perf_counter() - start)
    data = tf.data.Dataset.from_tensors((images, images)).repeat()
    trainer.fit(data, epochs=1, steps_per_epoch=max(warmup, 1), verbose=0)  # traces the step
    start = time.perf_counter()
    trainer.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    train = steps * batch_size / (time.perf_counter() - start)
    return {"size": int(size), "batch_size": int(batch_size), "inference_images_per_second": inference,
            "train_images_per_second": train, "precision": keras.mixed_precision.global_policy().name}


__all__ = ["AdaINTrainer", "content_style_pairs", "adain_speed"]


METHODS = (Method(
    name="adain", title="AdaIN: fast arbitrary style transfer (one forward pass per image)", kind="stylization",
    notebook="04_style_transfer", trainer=AdaINTrainer, builders={"encoder": adain_encoder, "decoder": adain_decoder},
    losses=(), infer=stylize, exports=("decoder",), data=load_unpaired, default_data="toy:landscapes,paintings",
    custom_layers=(AdaIN, VGGPreprocess) + CONV_LAYERS,
    profiles={  # quick: random VGG weights (no download in CI); demo: ImageNet weights when present
        "quick": {"image_size": 32, "num_pairs": 16, "decoder_filters": 8, "epochs": 1, "batch_size": 8,
                  "vgg_weights": None},
        "demo": {"image_size": 64, "num_pairs": 384, "decoder_filters": 32, "epochs": 2, "batch_size": 8,
                 "vgg_weights": "auto"},
        "full": {"image_size": 256, "num_pairs": 80000, "decoder_filters": 64, "epochs": 2, "batch_size": 8,
                 "vgg_weights": "imagenet"},
    }),)
