"""``GauGAN``: semantic image synthesis with SPADE (label map -> image) on the shared engine (notebook 06).

The losses and settings are those of NVlabs/SPADE's ``pix2pix_model.py`` and ``pix2pix_trainer.py``. One train
step generates once: a discriminator step on the detached fake, then the generator step against the updated D (the
junyanz pix2pix order). SPADE runs the generator step first and generates again for the discriminator step; the
single pass saves about a fifth of the step (a generator forward pass), which matters on CPUs.

- Generator (and encoder) loss: hinge ``-mean(D(fake))`` averaged over the discriminator scales
  + ``feature_matching_weight`` (10) x discriminator feature matching (per scale the sum over layers of
  ``L1(fake features, real features)``, averaged over scales)
  + ``vgg_weight`` (10) x VGG19 perceptual loss (``sum_i w_i L1(relu_i_1(fake), relu_i_1(real))``,
  ``w = 1/32, 1/16, 1/8, 1/4, 1``) when ImageNet VGG19 weights are available, otherwise left out with a printed
  message (a random VGG is never used silently)
  + ``kl_weight`` (0.05) x KL divergence of the encoder's style code, when there is an encoder.
- Discriminator loss: hinge ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))`` averaged over scales. D sees
  ``concat(label one-hot, image)``; fake and real pairs go through D as one batch, as in the reference.
- Optimisers (TTUR): Adam with beta = (0, 0.9), lr 1e-4 for the generator (and encoder), 4e-4 for D.

Differences from the reference: the KL term is the per-sample mean over the batch (``losses.kl_divergence``)
where SPADE sums over the batch; the perceptual loss uses Keras' Caffe-style VGG19 weights with their own
preprocessing where SPADE feeds [-1, 1] images to torchvision's VGG19.

Reference: [Park et al., 2019, Semantic Image Synthesis with Spatially-Adaptive Normalization](
https://arxiv.org/abs/1903.07291), https://github.com/NVlabs/SPADE

Using a trained generator: ``kitlib.infer.spade`` (``synthesize``, ``synthesize_folder``); label maps:
``kitlib.data.labels`` (``read_label_map``, ``paint``); the sketch pad: ``kitlib.widgets.sketch_pad``; the VGG
loss: ``kitlib.losses.vgg_perceptual_loss``.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kitlib import losses
from kitlib._deprecation import deprecated_alias, moved_names
from kitlib.data import labels as data_labels
from kitlib.data.domains import load_label_maps
from kitlib.data.labels import labels_to_one_hot, one_hot_labels
from kitlib.data.toy import DONTCARE_ID
from kitlib.eval.labels import colorize, default_palette
from kitlib.images import to_float
from kitlib.infer import spade as infer_spade
from kitlib.infer.spade import latent_dim, synthesize
from kitlib.method import Method
from kitlib.models import spade as spade_models
from kitlib.models.layers import CONV_LAYERS
from kitlib.train.base import Trainer, replica_rows
from kitlib.train.optimizers import FusedAdam
from kitlib.train.schedules import LinearDecay


def resolve_vgg(vgg: Any = "auto", *, image_size: int | None = None) -> tuple[keras.Model | None, str]:
    """The VGG19 feature model of the perceptual loss, or None with the reason, never random weights unannounced.

    Args:
        vgg: ``"auto"`` (ImageNet VGG19 from the Keras cache, or downloaded when online; None when unavailable),
            a path to the VGG19 ``.h5`` weights file, a ready feature ``keras.Model``, or None (disabled).
        image_size: input size of the model (None: any).

    Returns:
        ``(model_or_None, message)``.
    """
    if vgg is None:
        return None, "VGG perceptual loss disabled (vgg=None)."
    if isinstance(vgg, keras.Model):
        return vgg, f"VGG perceptual loss uses the feature model {vgg.name!r} given (its weights are the caller's)."
    if not isinstance(vgg, (str, os.PathLike)):
        raise ValueError(f"vgg must be 'auto', a weights path, a keras.Model or None. Received: vgg={vgg!r}")
    from kitlib.models import vgg as kvgg

    weights, message = kvgg.resolve_vgg_weights(vgg)
    if weights is None:
        return None, (f"VGG perceptual loss DISABLED: no ImageNet VGG19 weights here (looked in "
                      f"{kvgg.vgg19_cache_path()}, no internet). GauGAN trains with the hinge + feature-matching "
                      f"(+ KL) losses only. To enable it, download {kvgg.VGG19_WEIGHTS_URL} to that path.")
    shape = (image_size, image_size, 3) if image_size else (None, None, 3)
    model = kvgg.vgg19(weights, losses.VGG_LAYERS, input_shape=shape, value_range=(-1.0, 1.0), name="vgg19_perceptual")
    return model, f"VGG perceptual loss enabled: {message}"


class GauGAN(Trainer):
    """Trains a SPADE generator ``G(label one-hot, z) -> image`` against a multiscale discriminator (GauGAN).

    Batches are ``(images, labels)``: images float in [-1, 1] ``(B, H, W, 3)``; labels class ids ``(B, H, W)``
    (uint8/int; 255 and any id >= num_classes become an all-zero "dontcare" vector) or one-hot ``(B, H, W, C)``.
    This is what ``kitlib.data.prepare(kitlib.data.toy.landscapes(...))`` and
    ``prepare(kitlib.data.labels.label_map_pairs(...))`` yield.

    Args:
        generator: ``models.spade_generator`` (inputs ``[label, z]``, or ``label`` alone when built with
            ``z_dim=None``).
        discriminator: ``models.multiscale_discriminator`` on ``[label, image]`` returning per-scale
            ``[features..., logits]``.
        encoder: optional ``models.spade_encoder`` (VAE style encoder; needs a generator with ``z``). Without it the
            codes are drawn from N(0, I).
        vgg: perceptual-loss network: ``"auto"`` (ImageNet VGG19 when available, otherwise the loss is disabled
            with a printed message), a path to the VGG19 ``.h5`` weights, a feature ``keras.Model`` taking [-1, 1]
            images (returning ``{layer: features}`` for ``VGG_LAYERS`` or a list of 5 features), or None.
        feature_matching_weight: lambda_feat (10); 0 disables.
        vgg_weight: lambda_vgg (10); 0 disables.
        kl_weight: lambda_kld (0.05), used with an encoder.
        palette: ``(num_classes, 3)`` uint8 colours for the label column of sample grids (default: a generated
            palette); stored in the run config so ``python -m kitlib translate`` can read colour-coded sketches.
        num_samples: fixed latent codes for sample grids.
        seed: seed of the trainer's random generator and of the fixed codes.

    Example:
    >>> from kitlib.models.spade import build_gaugan                      # doctest: +SKIP
    >>> g, d, e = build_gaugan(64, num_classes=8, ngf=16, ndf=32)          # doctest: +SKIP
    >>> gaugan = GauGAN(g, d, e, palette=kitlib.data.toy.LANDSCAPE_PALETTE); gaugan.compile()   # doctest: +SKIP
    >>> batches = kitlib.data.prepare(kitlib.data.toy.landscapes(512, 64), 8)                 # doctest: +SKIP
    >>> gaugan.fit(batches, epochs=5, run_dir="runs/gaugan")                                  # doctest: +SKIP
    """

    kind = "translation"

    def __init__(self, generator: keras.Model, discriminator: keras.Model, encoder: keras.Model | None = None, *,
                 vgg: Any = "auto", feature_matching_weight: float = 10.0, vgg_weight: float = 10.0,
                 kl_weight: float = 0.05, palette=None, num_samples: int = 8, seed: int = 0, name: str = "gaugan"):
        if len(generator.inputs) not in (1, 2):
            raise ValueError(f"generator must take [label, z] or label alone. Received a model with "
                             f"{len(generator.inputs)} inputs; build it with models.spade_generator.")
        if len(discriminator.inputs) != 2:
            raise ValueError(f"discriminator must take [label, image] (models.multiscale_discriminator). Received a "
                             f"model with {len(discriminator.inputs)} input(s).")
        num_classes = int(generator.inputs[0].shape[-1])
        if int(discriminator.inputs[0].shape[-1]) != num_classes:
            raise ValueError(f"generator and discriminator disagree on the number of classes: "
                             f"{num_classes} vs {int(discriminator.inputs[0].shape[-1])}.")
        z_dim = latent_dim(generator)
        if encoder is not None:
            if z_dim is None:
                raise ValueError("An encoder needs a generator with a latent input: build it with z_dim=... "
                                 "(or pass encoder=None).")
            if int(encoder.output[0].shape[-1]) != z_dim:
                raise ValueError(f"encoder codes have size {int(encoder.output[0].shape[-1])} but the generator's z "
                                 f"has size {z_dim}; build both with the same z_dim.")
        for arg, value in (("feature_matching_weight", feature_matching_weight), ("vgg_weight", vgg_weight),
                           ("kl_weight", kl_weight)):
            if value < 0:
                raise ValueError(f"{arg} must be >= 0. Received: {arg}={value}")
        image_size = int(generator.output_shape[1])
        vgg_model, vgg_message = resolve_vgg(vgg, image_size=image_size) if vgg_weight > 0 else (
            None, "VGG perceptual loss disabled (vgg_weight=0).")
        print(vgg_message)
        names = ["g_loss", "g_adv"]
        names += ["g_feat"] if feature_matching_weight > 0 else []
        names += ["g_vgg"] if vgg_model is not None else []
        names += ["g_kl"] if encoder is not None else []
        names += ["d_loss", "d_real", "d_fake"]
        super().__init__(loss_names=names, seed=seed, name=name)
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        self.vgg = vgg_model
        self.vgg_message = vgg_message
        self.num_classes = num_classes
        self.z_dim = z_dim
        self.feature_matching_weight = float(feature_matching_weight)
        self.vgg_weight = float(vgg_weight) if vgg_model is not None else 0.0
        self.kl_weight = float(kl_weight) if encoder is not None else 0.0
        palette = default_palette(num_classes) if palette is None else np.asarray(palette, np.uint8)
        if palette.shape != (num_classes, 3):
            raise ValueError(f"palette must have shape ({num_classes}, 3). Received {palette.shape}.")
        self.palette = palette  # numpy: not tracked by Keras
        if z_dim is not None:
            fixed = keras.random.normal((num_samples, z_dim), seed=seed + 1)
            self.fixed_latents = keras.Variable(fixed, trainable=False, name="fixed_latents")
        else:
            self.fixed_latents = None
        self.sample_labels = self.sample_real = None

    # -- engine contract ------------------------------------------------------------------------------------------
    def networks(self):
        nets = {"generator": self.generator, "discriminator": self.discriminator}
        if self.encoder is not None:
            nets["encoder"] = self.encoder
        return nets

    def generators(self):
        """Exports the generator and, when there is one, the encoder as ``style_encoder`` (for style-guided synthesis).

        Run configs list exports in sorted order and ``load_generator`` / ``translate`` default to the first, so the
        encoder's export name must sort after ``generator``.
        """
        nets = {"generator": self.generator}
        if self.encoder is not None:
            nets["style_encoder"] = self.encoder
        return nets

    def extra_state(self):
        return [] if self.fixed_latents is None else [self.fixed_latents]

    def run_config(self):
        return {
            "adversarial": "hinge", "feature_matching_weight": self.feature_matching_weight,
            "vgg_weight": self.vgg_weight, "kl_weight": self.kl_weight,
            "vgg": None if self.vgg is None else self.vgg.name,
            "num_classes": self.num_classes, "z_dim": self.z_dim, "palette": self.palette.tolist(),
            "image_shape": list(self.generator.output_shape[1:]),
            **{k: v.name for k, v in self.networks().items()},
        }

    def compile(self, *, g_learning_rate: float = 1e-4, d_learning_rate: float = 4e-4, beta_1: float = 0.0,
                beta_2: float = 0.9, constant_steps: int | None = None, decay_steps: int = 0,
                optimizers: dict | None = None, **kwargs):
        """Adam per network with SPADE's TTUR settings: G (and encoder) 1e-4, D 4e-4, beta = (0, 0.9).

        Args:
            g_learning_rate, d_learning_rate: learning rates (the reference's ``lr / 2`` and ``lr * 2``, lr 2e-4).
            beta_1, beta_2: Adam betas of all optimizers.
            constant_steps, decay_steps: optimizer steps at constant LR, then of linear decay to 0 (SPADE's
                ``niter`` / ``niter_decay``); ``decay_steps=0`` keeps the LR constant.
            optimizers: optional ``{network_name: optimizer}`` overriding the defaults.
            **kwargs: passed to ``keras.Model.compile``.
        """
        def make(lr):
            schedule = LinearDecay(lr, constant_steps or 0, decay_steps) if decay_steps else lr
            return FusedAdam(schedule, beta_1=beta_1, beta_2=beta_2)

        chosen = {"generator": make(g_learning_rate), "discriminator": make(d_learning_rate)}
        if self.encoder is not None:
            chosen["encoder"] = make(g_learning_rate)
        chosen.update(optimizers or {})
        self._compile_optimizers(chosen, **kwargs)
        self.build_optimizers()  # slots now: a step that creates variables would be traced twice

    # -- training -------------------------------------------------------------------------------------------------
    def _segmap(self, labels):
        """Class ids (B, H, W) -> one-hot float (dontcare 255 gives zeros); one-hot maps pass through."""
        if labels.shape.rank == 4 and labels.shape[-1] == self.num_classes and labels.dtype.is_floating:
            return tf.cast(labels, "float32")
        return one_hot_labels(labels[..., 0] if labels.shape.rank == 4 else labels, self.num_classes)

    def _generate(self, seg, real, training: bool):
        """Returns ``(fake, kl)``: the style code from the encoder (reparameterised) or N(0, I)."""
        kl = None
        if self.encoder is not None:
            mu, logvar = self.encoder(real, training=training)
            eps = replica_rows(lambda rows: keras.random.normal((rows, self.z_dim), seed=self.seed_generator),
                               tf.shape(mu)[0])
            z = tf.cast(mu, "float32") + tf.exp(0.5 * tf.cast(logvar, "float32")) * eps
            kl = losses.kl_divergence(mu, logvar)
        elif self.z_dim is not None:
            z = replica_rows(lambda rows: keras.random.normal((rows, self.z_dim), seed=self.seed_generator),
                             tf.shape(seg)[0])
        inputs = seg if self.z_dim is None else [seg, z]
        return self.generator(inputs, training=training), kl

    def _discriminate(self, seg, fake, real):
        """D on fake and real pairs in one batch; returns (fake outputs, real outputs), each per scale."""
        n = tf.shape(fake)[0]
        outputs = self.discriminator([tf.concat([seg, seg], 0), tf.concat([tf.cast(fake, "float32"), real], 0)],
                                     training=True)
        return [[t[:n] for t in scale] for scale in outputs], [[t[n:] for t in scale] for scale in outputs]

    def train_step(self, data):
        images, labels = data
        real = tf.cast(images, "float32")
        seg = self._segmap(labels)
        with tf.GradientTape() as tape:
            fake, kl = self._generate(seg, real, training=True)
            with tape.stop_recording():
                values = self._d_step(seg, tf.stop_gradient(fake), real)
            pred_fake, pred_real = self._discriminate(seg, fake, real)
            g_adv = losses.generator_loss("hinge", [scale[-1] for scale in pred_fake])
            g_loss = values["g_adv"] = g_adv
            if self.feature_matching_weight > 0:
                g_feat = losses.feature_matching_loss([s[:-1] for s in pred_real], [s[:-1] for s in pred_fake],
                                                      layer_reduction="sum")
                values["g_feat"] = g_feat
                g_loss += self.feature_matching_weight * g_feat
            if self.vgg is not None:
                g_vgg = losses.vgg_perceptual_loss(self.vgg, fake, real)
                values["g_vgg"] = g_vgg
                g_loss += self.vgg_weight * g_vgg
            if kl is not None:
                values["g_kl"] = kl
                g_loss += self.kl_weight * kl
            scaled = self.scale_loss("generator", g_loss)
        if self.encoder is not None:
            self.minimize_joint(("generator", "encoder"), tape, scaled)
        else:
            self.minimize("generator", tape, scaled)
        values["g_loss"] = g_loss
        return self.update_trackers(values)

    def _d_step(self, seg, fake, real):
        with tf.GradientTape() as tape:
            pred_fake, pred_real = self._discriminate(seg, fake, real)
            d_real, d_fake = losses.discriminator_loss_terms(
                "hinge", [s[-1] for s in pred_real], [s[-1] for s in pred_fake])
            d_loss = d_real + d_fake
            scaled = self.scale_loss("discriminator", d_loss)
        self.minimize("discriminator", tape, scaled)
        return {"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake}

    # -- inference ------------------------------------------------------------------------------------------------
    def synthesize(self, label_maps, z=None, *, style_images=None, seed: int = 0) -> np.ndarray:
        """Images (float32 numpy in [-1, 1]) for label maps; see the module-level ``synthesize``.

        Args:
            label_maps: class ids ``(N, H, W)`` / ``(H, W)`` or one-hot ``(N, H, W, C)``.
            z: latent codes ``(N, z_dim)`` or ``(z_dim,)``; default random from ``seed``.
            style_images: images whose style (encoder code) the outputs take (needs the encoder).
            seed: seed of the random codes.
        """
        return synthesize(self.generator, label_maps, z=z, style_images=style_images, encoder=self.encoder, seed=seed)

    def colorize(self, label_maps) -> np.ndarray:
        """Class ids or one-hot maps -> uint8 colour images with the trainer's palette (dontcare: black)."""
        seg = labels_to_one_hot(label_maps, self.num_classes)
        return colorize(np.where(seg.sum(-1) > 0, seg.argmax(-1), DONTCARE_ID), self.palette)

    def set_sample_inputs(self, labels, images) -> None:
        """Fixes the label maps and real images shown by ``sample_images`` (and ``SampleGrid``) every epoch."""
        self.sample_labels = labels_to_one_hot(keras.ops.convert_to_numpy(labels), self.num_classes)
        real = keras.ops.convert_to_numpy(images)
        self.sample_real = to_float(real)

    def sample_images(self):
        """Rows of [label colours, generated, real] for the fixed sample inputs; show with ``ncols=3`` (or 6).

        The codes are the fixed latent vectors, or with an encoder the style code (mean) of each real image, as
        SPADE's test mode uses the encoder on the real image.
        """
        if self.sample_labels is None:
            raise ValueError("Call set_sample_inputs(labels, images) before using SampleGrid with GauGAN.")
        n = len(self.sample_labels)
        if self.encoder is not None:
            fake = self.synthesize(self.sample_labels, style_images=self.sample_real)
        elif self.fixed_latents is not None:
            z = keras.ops.convert_to_numpy(self.fixed_latents)[np.arange(n) % len(self.fixed_latents)]
            fake = self.synthesize(self.sample_labels, z=z)
        else:
            fake = self.synthesize(self.sample_labels)
        colours = to_float(self.colorize(self.sample_labels))
        return np.stack([colours, fake, self.sample_real], axis=1).reshape(3 * n, *fake.shape[1:])


# Names that moved out of this module (kept for existing notebooks and scripts; each warns once used).
SKETCH_SHAPES = data_labels.SKETCH_SHAPES
VGG_LAYERS, VGG_LAYER_WEIGHTS = losses.VGG_LAYERS, losses.VGG_LAYER_WEIGHTS
paint = deprecated_alias(data_labels.paint, "kitlib.train.gaugan.paint", "kitlib.data.labels.paint")
read_label_map = deprecated_alias(data_labels.read_label_map, "kitlib.train.gaugan.read_label_map",
                                  "kitlib.data.labels.read_label_map")
synthesize_folder = deprecated_alias(infer_spade.synthesize_folder, "kitlib.train.gaugan.synthesize_folder",
                                     "kitlib.infer.synthesize_folder")
vgg_perceptual_loss = deprecated_alias(losses.vgg_perceptual_loss, "kitlib.train.gaugan.vgg_perceptual_loss",
                                       "kitlib.losses.vgg_perceptual_loss")
__getattr__ = moved_names(__name__, {"sketch_pad": "kitlib.widgets.sketch_pad"})

__all__ = [
    "GauGAN", "resolve_vgg", "synthesize", "labels_to_one_hot",
]


METHODS = (Method(
    name="gaugan", title="GauGAN / SPADE: semantic image synthesis (label map -> image)",
    kind="translation", notebook="06_gaugan_spade", trainer=GauGAN, builders={"networks": spade_models.build_gaugan},
    losses=(), infer=synthesize, exports=("generator", "style_encoder"), data=load_label_maps,
    default_data="toy:landscapes", custom_layers=(spade_models.SPADE, spade_models.SPADEResBlock) + CONV_LAYERS,
    inputs="label_maps",
    profiles={
        "quick": {"image_size": 32, "num_images": 64, "ngf": 4, "batch_size": 8, "epochs": 1, "use_encoder": True,
                  "num_classes": 8},
        "demo": {"image_size": 64, "num_images": 1024, "ngf": 16, "batch_size": 8, "epochs": 3, "use_encoder": True,
                 "num_classes": 8},
        "full": {"image_size": 256, "num_images": 8000, "ngf": 64, "batch_size": 32, "epochs": 50,
                 "use_encoder": True, "num_classes": 8},
    }),)
