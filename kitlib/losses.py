"""Losses for image generation and translation, each findable by name.

Every function takes raw tensors (discriminator *logits*, never probabilities), casts them to float32 (so the
losses are exact under ``mixed_bfloat16`` / ``mixed_float16`` policies) and returns a float32 scalar: the mean over
the LOCAL batch. Under a distribution strategy the trainer divides by the number of replicas itself.

Adversarial losses are chosen by name (``ADVERSARIAL_LOSSES``):

| name    | discriminator (real term + fake term)          | generator            |
|---------|------------------------------------------------|----------------------|
| "bce"   | softplus(-r) + softplus(f)  (BCE from logits)  | softplus(-f) (non-saturating) |
| "lsgan" | (r - 1)^2 + f^2                                | (f - 1)^2            |
| "hinge" | relu(1 - r) + relu(1 + f)                      | -f                   |
| "wgan"  | -r + f  (critic loss; add `gradient_penalty`)  | -f                   |

each term averaged over every element of the logits (batch and, for PatchGAN outputs, patches).
Multiscale discriminators (pix2pixHD, SPADE) return one logits tensor per scale: pass the list and each term is
averaged over the scales.

Example:
>>> import numpy as np
>>> from kitlib import losses
>>> r, f = np.array([[2.0]]), np.array([[-1.0]])
>>> round(float(losses.discriminator_loss("hinge", r, f)), 6)
0.0
>>> round(float(losses.generator_loss("wgan", f)), 6)
1.0
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import tensorflow as tf
from keras import ops

ADVERSARIAL_LOSSES = ("bce", "lsgan", "hinge", "wgan")

# name -> (real term, fake term, generator term), each mapping float32 logits to elementwise losses.
_ADVERSARIAL: dict[str, tuple[Callable, Callable, Callable]] = {
    "bce": (lambda r: ops.softplus(-r), lambda f: ops.softplus(f), lambda f: ops.softplus(-f)),
    "lsgan": (lambda r: ops.square(r - 1.0), lambda f: ops.square(f), lambda f: ops.square(f - 1.0)),
    "hinge": (lambda r: ops.relu(1.0 - r), lambda f: ops.relu(1.0 + f), lambda f: -f),
    "wgan": (lambda r: -r, lambda f: f, lambda f: -f),
}


def _f32(x):
    return ops.cast(x, "float32")


def _check_name(name: str) -> tuple[Callable, Callable, Callable]:
    if name not in _ADVERSARIAL:
        raise ValueError(
            f"Adversarial loss name must be one of {ADVERSARIAL_LOSSES}. Received: name={name!r}. "
            "(For WGAN-GP use name='wgan' and add kitlib.losses.gradient_penalty.)"
        )
    return _ADVERSARIAL[name]


def _as_scales(logits) -> list:
    scales = list(logits) if isinstance(logits, (list, tuple)) else [logits]
    if not scales:
        raise ValueError("Received an empty list of logits; a multiscale discriminator must return >= 1 scale.")
    return scales


def _scale_mean(term: Callable, logits):
    """Mean of ``term`` over all elements of each scale, then over the scales."""
    scales = _as_scales(logits)
    return ops.mean(ops.stack([ops.mean(term(_f32(x))) for x in scales]))


def discriminator_loss_terms(name: str, real_logits, fake_logits) -> tuple:
    """The real and fake terms of a discriminator loss, separately (for logging).

    Args:
        name: one of ``ADVERSARIAL_LOSSES``: ``"bce"``, ``"lsgan"``, ``"hinge"``, ``"wgan"``.
        real_logits: D's raw outputs on real images: a tensor of any shape, or a list of tensors (one per scale
            of a multiscale discriminator; each term is then averaged over the scales).
        fake_logits: same on generated images.

    Returns:
        ``(real_term, fake_term)``, float32 scalars; ``discriminator_loss`` is their sum.

    Example:
    >>> import numpy as np
    >>> real, fake = discriminator_loss_terms("lsgan", np.array([0.0]), np.array([1.0]))
    >>> float(real), float(fake)
    (1.0, 1.0)
    """
    real_term, fake_term, _ = _check_name(name)
    return _scale_mean(real_term, real_logits), _scale_mean(fake_term, fake_logits)


def discriminator_loss(name: str, real_logits, fake_logits):
    """Discriminator (critic) loss: real term + fake term, NOT halved.

    The seed DCGAN and most tutorials sum the two terms; pix2pix/CycleGAN halve D's objective: trainers apply
    that 0.5 factor themselves where a recipe says so.

    Reference: Goodfellow et al. 2014 (bce) https://arxiv.org/abs/1406.2661 ; Mao et al. 2017 (lsgan)
    https://arxiv.org/abs/1611.04076 ; Lim & Ye 2017 (hinge) https://arxiv.org/abs/1705.02894 ;
    Arjovsky et al. 2017 (wgan) https://arxiv.org/abs/1701.07875

    Args:
        name: one of ``ADVERSARIAL_LOSSES``.
        real_logits: D's raw outputs on real images (tensor, or list of tensors for a multiscale D).
        fake_logits: D's raw outputs on generated images (same structure).

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(discriminator_loss("wgan", np.array([3.0]), np.array([1.0])))
    -2.0
    """
    real, fake = discriminator_loss_terms(name, real_logits, fake_logits)
    return real + fake


def generator_loss(name: str, fake_logits):
    """Generator loss against a discriminator trained with ``discriminator_loss(name, ...)``.

    ``"bce"`` is the non-saturating loss ``-log sigmoid(f)`` (targets "real" = 1), as in the seed report.

    Args:
        name: one of ``ADVERSARIAL_LOSSES``.
        fake_logits: D's raw outputs on generated images (tensor, or list of tensors for a multiscale D).

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(generator_loss("lsgan", np.array([1.0, 3.0])))
    2.0
    """
    _, _, g_term = _check_name(name)
    return _scale_mean(g_term, fake_logits)


def _critic_sum(outputs):
    """Scalar whose gradient is the critic's: sum over outputs, mean over the scales of a multiscale critic."""
    scales = _as_scales(outputs)
    return ops.mean(ops.stack([ops.sum(_f32(x)) for x in scales]))


def gradient_penalty(discriminator: Callable, real, fake, *, seed=None, weight: float = 10.0, conditioning=None):
    """WGAN-GP gradient penalty: ``weight * mean((||grad_x D(x_hat)||_2 - 1)^2)``.

    ``x_hat = alpha * real + (1 - alpha) * fake`` with one ``alpha ~ U[0, 1)`` per sample. The gradient norm is
    taken per sample over all of H, W, C. For a scalar critic this is exactly the paper's penalty; for a PatchGAN
    critic the gradient is that of the sum of its patch outputs, and for a multiscale critic (a list of outputs)
    that of the mean over scales of those sums. Use it with ``discriminator_loss("wgan", ...)`` and a critic
    without batch norm (``norm="layer"`` or ``"none"``), since batch norm couples the samples the penalty treats
    independently.

    Reference: Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028

    Args:
        discriminator: callable ``D(images, training=True) -> logits`` (tensor or list of tensors).
        real: real images ``(batch, H, W, C)``.
        fake: generated images, same shape. Both are treated as constants (no gradient flows into G).
        seed: ``None`` (stateful random op), a Python int, or a shape-``(2,)`` integer tensor for
            ``tf.random.stateless_uniform`` (what trainers pass so steps are reproducible).
        weight: lambda of the paper (10).
        conditioning: optional tensor ``(batch, H, W, C')`` (e.g. a label map or source image of a conditional
            critic) concatenated to ``x_hat`` on the channel axis before calling D; it is not interpolated and
            the gradient is taken with respect to the image channels only.

    Returns:
        float32 scalar.

    Example:
    >>> import keras, numpy as np
    >>> critic = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    >>> x = np.zeros((2, 4, 4, 1), "float32")
    >>> float(gradient_penalty(critic, x, x, seed=0)) >= 0.0
    True
    """
    real = tf.stop_gradient(_f32(real))
    fake = tf.stop_gradient(_f32(fake))
    shape = tf.stack([tf.shape(real)[0], 1, 1, 1])
    if seed is None:
        alpha = tf.random.uniform(shape, dtype="float32")
    else:
        if isinstance(seed, numbers.Integral):
            stateless_seed = tf.constant([int(seed), 0], "int32")
        else:
            stateless_seed = tf.cast(seed, "int32")
        alpha = tf.random.stateless_uniform(shape, seed=stateless_seed, dtype="float32")
    interpolated = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        inputs = interpolated
        if conditioning is not None:
            inputs = tf.concat([interpolated, tf.cast(conditioning, interpolated.dtype)], axis=-1)
        scores = _critic_sum(discriminator(inputs, training=True))
    grads = _f32(tape.gradient(scores, interpolated))
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=tf.range(1, tf.rank(grads))) + 1e-12)
    return float(weight) * tf.reduce_mean(tf.square(norms - 1.0))


def l1_loss(a, b):
    """Mean absolute error ``mean(|a - b|)`` in float32 (pix2pix's L1 term).

    Example:
    >>> import numpy as np
    >>> float(l1_loss(np.array([1.0, -1.0]), np.array([0.0, 0.0])))
    1.0
    """
    return ops.mean(ops.abs(_f32(a) - _f32(b)))


def cycle_loss(real, cycled):
    """CycleGAN cycle-consistency loss ``mean(|real - F(G(real))|)`` (weight it by lambda_cyc, 10 in the paper).

    Reference: Zhu et al. 2017, https://arxiv.org/abs/1703.10593

    Example:
    >>> import numpy as np
    >>> float(cycle_loss(np.ones((1, 2, 2, 3)), np.zeros((1, 2, 2, 3))))
    1.0
    """
    return l1_loss(real, cycled)


def identity_loss(real, same):
    """CycleGAN identity loss ``mean(|y - G(y)|)`` (weight it by 0.5 * lambda_cyc as in the paper).

    Reference: Zhu et al. 2017, https://arxiv.org/abs/1703.10593

    Example:
    >>> import numpy as np
    >>> float(identity_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 3))))
    0.0
    """
    return l1_loss(real, same)


def gram_matrix(features):
    """Gram matrix of NHWC features normalised by H*W: ``einsum('bijc,bijd->bcd') / (H * W)``.

    As in the TensorFlow style-transfer tutorial (https://www.tensorflow.org/tutorials/generative/style_transfer).

    Args:
        features: ``(batch, H, W, C)``.

    Returns:
        float32 ``(batch, C, C)``.

    Example:
    >>> import numpy as np
    >>> tuple(gram_matrix(np.ones((1, 2, 2, 3))).shape)
    (1, 3, 3)
    """
    x = _f32(features)
    gram = tf.einsum("bijc,bijd->bcd", x, x)
    hw = tf.cast(tf.shape(x)[1] * tf.shape(x)[2], "float32")
    return gram / hw


def _as_layers(feats, what: str) -> list:
    layers = list(feats) if isinstance(feats, (list, tuple)) else [feats]
    if not layers:
        raise ValueError(f"{what} must be a non-empty list of tensors (one per layer). Received an empty list.")
    return layers


def _check_same_length(a: list, b: list, names: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{names} must have one entry per layer/scale each. Received lengths {len(a)} and {len(b)}.")


def style_loss(style_feats, target_grams):
    """Gatys style loss: per layer ``mean((gram(feat) - target)^2)``, averaged over the layers.

    Same as the TensorFlow style-transfer tutorial's ``style_loss`` before its ``style_weight``.

    Reference: Gatys et al. 2015, https://arxiv.org/abs/1508.06576

    Args:
        style_feats: list of ``(batch, H, W, C)`` features of the image being optimised (one per style layer).
        target_grams: list of target Gram matrices ``(batch or 1, C, C)`` from ``gram_matrix``, same order.

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> f = np.ones((1, 2, 2, 3), "float32")
    >>> float(style_loss([f], [gram_matrix(f)]))
    0.0
    """
    feats = _as_layers(style_feats, "style_feats")
    grams = _as_layers(target_grams, "target_grams")
    _check_same_length(feats, grams, "style_feats and target_grams")
    per_layer = [ops.mean(ops.square(gram_matrix(f) - _f32(g))) for f, g in zip(feats, grams)]
    return ops.mean(ops.stack(per_layer))


def content_loss(content_feats, target_feats):
    """Content loss: per layer ``mean((feat - target)^2)``, averaged over the layers.

    Reference: Gatys et al. 2015, https://arxiv.org/abs/1508.06576

    Args:
        content_feats: a tensor or a list of tensors (features of the generated image).
        target_feats: the same structure for the content image.

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(content_loss(np.ones((1, 2, 2, 3)), np.zeros((1, 2, 2, 3))))
    1.0
    """
    feats = _as_layers(content_feats, "content_feats")
    targets = _as_layers(target_feats, "target_feats")
    _check_same_length(feats, targets, "content_feats and target_feats")
    return ops.mean(ops.stack([ops.mean(ops.square(_f32(f) - _f32(t))) for f, t in zip(feats, targets)]))


def total_variation_loss(images):
    """Total variation: per image the sum of absolute differences of neighbouring pixels, averaged over the batch.

    Equals ``mean(tf.image.total_variation(images))`` (the TF style-transfer tutorial's regulariser).

    Args:
        images: ``(batch, H, W, C)``.

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(total_variation_loss(np.array([[[[0.0], [1.0]]]])))
    1.0
    """
    x = _f32(images)
    dh = ops.sum(ops.abs(x[:, 1:, :, :] - x[:, :-1, :, :]), axis=(1, 2, 3))
    dw = ops.sum(ops.abs(x[:, :, 1:, :] - x[:, :, :-1, :]), axis=(1, 2, 3))
    return ops.mean(dh + dw)


_LAYER_REDUCTIONS = ("mean", "sum")


def feature_matching_loss(real_feats, fake_feats, *, layer_reduction: str = "mean"):
    """Discriminator feature-matching loss of pix2pixHD / SPADE (GauGAN).

    For each discriminator scale, the L1 distance ``mean(|fake - stop_gradient(real)|)`` of every intermediate
    feature map is reduced over the layers (``"mean"`` by default, ``"sum"`` as in SPADE's code), then averaged
    over the scales. SPADE computes ``sum_layers L1 / num_D``, i.e. ``layer_reduction="sum"``; pass intermediate
    features only (SPADE and pix2pixHD leave out each scale's final logits).

    Reference: Wang et al. 2018 (pix2pixHD) https://arxiv.org/abs/1711.11585 ; Park et al. 2019 (SPADE)
    https://arxiv.org/abs/1903.07291

    Args:
        real_feats: list (one per scale) of lists (one per layer) of D's features on real images; a single
            list of tensors is treated as one scale. Gradients are stopped.
        fake_feats: the same structure on generated images.
        layer_reduction: ``"mean"`` or ``"sum"`` over the layers of a scale.

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> f = [np.ones((1, 4, 4, 8)), np.ones((1, 2, 2, 16))]
    >>> float(feature_matching_loss([f], [f]))
    0.0
    """
    if layer_reduction not in _LAYER_REDUCTIONS:
        raise ValueError(
            f"layer_reduction must be one of {_LAYER_REDUCTIONS}. Received: layer_reduction={layer_reduction!r}")
    real_scales = _as_layers(real_feats, "real_feats")
    fake_scales = _as_layers(fake_feats, "fake_feats")
    if not isinstance(real_scales[0], (list, tuple)):
        real_scales, fake_scales = [real_scales], [fake_scales]
    _check_same_length(real_scales, fake_scales, "real_feats and fake_feats")
    reduce = ops.mean if layer_reduction == "mean" else ops.sum
    per_scale = []
    for real_layers, fake_layers in zip(real_scales, fake_scales):
        real_layers = _as_layers(real_layers, "each scale of real_feats")
        fake_layers = _as_layers(fake_layers, "each scale of fake_feats")
        _check_same_length(real_layers, fake_layers, "the scales of real_feats and fake_feats")
        l1 = [l1_loss(tf.stop_gradient(_f32(r)), f) for r, f in zip(real_layers, fake_layers)]
        per_scale.append(reduce(ops.stack(l1)))
    return ops.mean(ops.stack(per_scale))


def kl_divergence(mu, logvar):
    """KL divergence ``KL(N(mu, exp(logvar)) || N(0, I))`` of a VAE encoder (SPADE's image encoder).

    Per sample ``-0.5 * sum(1 + logvar - mu^2 - exp(logvar))`` over the latent dimensions, then the mean over
    the batch (the per-sample KL of a VAE's ELBO). SPADE's ``KLDLoss`` sums over the batch as well
    (``-0.5 * torch.sum(...)``, weighted by lambda_kld = 0.05), so SPADE's value equals this one times the
    local batch size; scale ``lambda_kld`` accordingly when reproducing it with batches larger than 1.

    Reference: Kingma & Welling 2013, https://arxiv.org/abs/1312.6114 ; Park et al. 2019,
    https://arxiv.org/abs/1903.07291

    Args:
        mu: ``(batch, latent_dim)`` (any trailing shape is summed over).
        logvar: log-variance, same shape.

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(kl_divergence(np.zeros((2, 8)), np.zeros((2, 8))))
    0.0
    """
    mu, logvar = _f32(mu), _f32(logvar)
    per_element = 1.0 + logvar - ops.square(mu) - ops.exp(logvar)
    latent_axes = tuple(range(1, len(per_element.shape)))
    per_sample = -0.5 * ops.sum(per_element, axis=latent_axes)
    return ops.mean(per_sample)


def _mean_std(features, epsilon: float):
    mean, variance = ops.moments(_f32(features), axes=[1, 2])
    return mean, ops.sqrt(variance + epsilon)


def mean_std_loss(a_feats, b_feats, *, epsilon: float = 1e-5):
    """AdaIN style loss: sum over layers of ``MSE(mean_a, mean_b) + MSE(std_a, std_b)`` of channel statistics.

    Channel means and standard deviations are taken over H, W per sample; ``std = sqrt(var + epsilon)`` with the
    biased variance (as in the Keras AdaIN example; the official PyTorch code uses the unbiased variance, a
    difference of a factor ``HW / (HW - 1)`` inside the square root).

    Reference: Huang & Belongie 2017, https://arxiv.org/abs/1703.06868

    Args:
        a_feats: list of ``(batch, H, W, C)`` features (e.g. VGG relu1_1..relu4_1 of the stylised image).
        b_feats: list of features of the style image, same layers.
        epsilon: added to the variance before the square root.

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> f = [np.random.rand(1, 4, 4, 3)]
    >>> float(mean_std_loss(f, f))
    0.0
    """
    a_layers = _as_layers(a_feats, "a_feats")
    b_layers = _as_layers(b_feats, "b_feats")
    _check_same_length(a_layers, b_layers, "a_feats and b_feats")
    total = []
    for a, b in zip(a_layers, b_layers):
        a_mean, a_std = _mean_std(a, epsilon)
        b_mean, b_std = _mean_std(b, epsilon)
        total.append(ops.mean(ops.square(a_mean - b_mean)) + ops.mean(ops.square(a_std - b_std)))
    return ops.sum(ops.stack(total))


# SPADE's perceptual loss: VGG19 relu1_1 .. relu5_1 (Keras layer names) and their weights.
VGG_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


def vgg_perceptual_loss(extractor: Callable, fake, real, *, layers=VGG_LAYERS, layer_weights=VGG_LAYER_WEIGHTS):
    """SPADE's VGG loss: ``sum_i w_i * mean|phi_i(fake) - phi_i(real)|`` with the real features held constant.

    Args:
        extractor: a feature model returning ``{layer_name: features}`` (``kitlib.models.vgg.vgg19``) or a list
            of features in ``layers`` order, taking images in [-1, 1].
        fake, real: ``(batch, H, W, 3)`` images in [-1, 1].
        layers: names of the layers used, in order (relu1_1 ... relu5_1).
        layer_weights: one weight per layer (1/32, 1/16, 1/8, 1/4, 1).

    Returns:
        float32 scalar.

    Example:
    >>> import numpy as np
    >>> identity = lambda images, training: [images] * 5            # five "feature maps": the images themselves
    >>> fake, real = np.zeros((1, 2, 2, 3), "float32"), np.ones((1, 2, 2, 3), "float32")
    >>> round(float(vgg_perceptual_loss(identity, fake, real)), 6)  # sum of the weights x |0 - 1|
    1.46875
    """
    def features(images):
        out = extractor(images, training=False)
        return [out[name] for name in layers] if isinstance(out, dict) else list(out)

    fake_feats, real_feats = features(fake), features(real)
    if len(fake_feats) != len(layer_weights):
        raise ValueError(f"The extractor returned {len(fake_feats)} feature maps for {len(layer_weights)} layer "
                         "weights; return one per layer of `layers`.")
    terms = [w * l1_loss(tf.stop_gradient(tf.cast(r, "float32")), f)
             for w, f, r in zip(layer_weights, fake_feats, real_feats)]
    return tf.add_n(terms)


__all__ = [
    "ADVERSARIAL_LOSSES", "discriminator_loss", "discriminator_loss_terms", "generator_loss", "gradient_penalty",
    "l1_loss", "cycle_loss", "identity_loss", "gram_matrix", "style_loss", "content_loss", "total_variation_loss",
    "feature_matching_loss", "kl_divergence", "mean_std_loss", "VGG_LAYERS", "VGG_LAYER_WEIGHTS", "vgg_perceptual_loss",
]
