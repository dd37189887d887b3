"""``VAE``: a variational autoencoder trained on the shared engine, its loss, its recipe and its registry entry.

Kingma & Welling 2014, https://arxiv.org/abs/1312.6114: maximise the evidence lower bound
``E_q[log p(x|z)] - KL(q(z|x) || N(0, I))`` with the reparameterisation ``z = mean + exp(log_var / 2) * eps``.
The decoder is exported (``RUN_DIR/export/decoder.keras``) and ``python -m kitlib generate RUN_DIR`` samples it.

Example:
>>> from kitlib.models.vae import build_vae
>>> vae = VAE(*build_vae(16, latent_dim=4, filters=4)); vae.compile()
>>> sorted(vae.generators())
['decoder']
"""

from __future__ import annotations

import pathlib

import keras
import tensorflow as tf

from kitlib.data.domains import load_images
from kitlib.infer import gan as infer_gan
from kitlib.method import Method
from kitlib.models.layers import CONV_LAYERS
from kitlib.models.vae import build_vae
from kitlib.train.base import Trainer, replica_rows
from kitlib.train.budget import budget_epochs
from kitlib.train.optimizers import FusedAdam


def gaussian_kl(z_mean, z_log_var):
    """``KL(N(mean, exp(log_var)) || N(0, I))`` per example, summed over the latent dimensions (the paper's
    appendix B): ``-0.5 * sum(1 + log_var - mean**2 - exp(log_var))``.

    Example:
    >>> import numpy as np
    >>> float(gaussian_kl(np.array([[1.0, 0.0]]), np.zeros((1, 2)))[0])
    0.5
    """
    z_mean, z_log_var = tf.cast(z_mean, "float32"), tf.cast(z_log_var, "float32")
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=-1)


def gaussian_nll(images, reconstructions, sigma: float):
    """Negative log-likelihood of ``images`` under ``N(reconstructions, sigma^2 I)`` per example, without the
    constant: ``sum((x - x_hat)^2) / (2 sigma^2)`` over pixels and channels.

    Example:
    >>> import numpy as np
    >>> float(gaussian_nll(np.ones((1, 2, 2, 1)), np.zeros((1, 2, 2, 1)), sigma=1.0)[0])
    2.0
    """
    diff = tf.cast(images, "float32") - tf.cast(reconstructions, "float32")
    return tf.reduce_sum(tf.square(diff), axis=[1, 2, 3]) / (2.0 * sigma**2)


class VAE(Trainer):
    """Trains an encoder ``x -> (mean, log_var)`` and a decoder ``z -> x`` on the negative ELBO.

    Args:
        encoder: ``keras.Model`` mapping images in [-1, 1] to ``[z_mean, z_log_var]``.
        decoder: ``keras.Model`` mapping ``(batch, latent_dim)`` to images in [-1, 1] (exported).
        sigma: standard deviation of the Gaussian decoder ``p(x|z)`` on the [-1, 1] scale; smaller weighs the
            reconstruction more against the KL term (sharper, less regular latents).
        num_samples: fixed latent vectors drawn from the prior for sample grids.
        seed: seed of the reparameterisation noise and of the fixed latent vectors.

    Logged: ``loss`` (negative ELBO per image), ``reconstruction`` and ``kl`` (its two terms).
    """

    kind = "unconditional"
    exports = ("decoder",)

    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, sigma: float = 0.1, num_samples: int = 64,
                 seed: int = 0, name: str = "vae"):
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0. Received: sigma={sigma}")
        super().__init__(loss_names=("loss", "reconstruction", "kl"), seed=seed, name=name)
        self.encoder, self.decoder, self.sigma = encoder, decoder, float(sigma)
        self.latent_dim = int(decoder.input_shape[-1])
        if int(encoder.outputs[0].shape[-1]) != self.latent_dim:
            raise ValueError(f"The encoder's latent size {encoder.outputs[0].shape[-1]} differs from the decoder's "
                             f"input size {self.latent_dim}: build both with build_vae(..., latent_dim=N).")
        fixed = keras.random.normal((num_samples, self.latent_dim), seed=seed + 1)
        self.fixed_latents = keras.Variable(fixed, trainable=False, name="fixed_latents")

    def networks(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def extra_state(self):
        return [self.fixed_latents]

    def run_config(self):
        return {"sigma": self.sigma, "latent_dim": self.latent_dim, "image_shape": list(self.decoder.output_shape[1:]),
                "encoder": self.encoder.name, "decoder": self.decoder.name}

    def compile(self, encoder_optimizer=None, decoder_optimizer=None, **kwargs):
        """One Adam per network (default: lr 1e-3, the paper's Adagrad replaced by Adam as usual today)."""
        self._compile_optimizers({"encoder": encoder_optimizer or FusedAdam(1e-3),
                                  "decoder": decoder_optimizer or FusedAdam(1e-3)}, **kwargs)

    def losses_of(self, images, noise):
        """``(negative ELBO, reconstruction, kl)`` batch means for ``images`` with reparameterisation ``noise``."""
        z_mean, z_log_var = self.encoder(images, training=True)
        z = tf.cast(z_mean, "float32") + tf.exp(0.5 * tf.cast(z_log_var, "float32")) * noise
        reconstruction = tf.reduce_mean(gaussian_nll(images, self.decoder(z, training=True), self.sigma))
        kl = tf.reduce_mean(gaussian_kl(z_mean, z_log_var))
        return reconstruction + kl, reconstruction, kl

    def train_step(self, images):
        images = tf.cast(images, "float32")
        noise = replica_rows(lambda rows: keras.random.normal((rows, self.latent_dim), seed=self.seed_generator),
                             tf.shape(images)[0])
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.losses_of(images, noise)
            scaled = self.scale_loss("encoder", loss)
        self.minimize_joint(("encoder", "decoder"), tape, scaled)
        return self.update_trackers({"loss": loss, "reconstruction": reconstruction, "kl": kl})

    def sample_images(self, n: int | None = None):
        """Decoder outputs for the fixed prior samples (float32 in [-1, 1])."""
        z = self.fixed_latents if n is None else self.fixed_latents[:n]
        return self.decoder(z, training=False)


def train_vae(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto", limit=None,
              resume=True, minutes=None, latent_dim=None, filters=None, sigma=None, callbacks=()) -> pathlib.Path:
    """``python -m kitlib train vae``: a VAE on toy faces (the default) or an image folder, at the registry's
    defaults for the active profile; returns the run directory. ``callbacks`` run after the recipe's own.

    Example:
    >>> train_vae(out="runs/vae", epochs=1)     # doctest: +SKIP
    """
    from kitlib import data as kdata
    from kitlib import runtime
    from kitlib.train.callbacks import LossHistory, NaNGuard, SampleGrid, TimeBudget
    from kitlib.train.run_dir import data_identity

    budget = [] if minutes is None else [TimeBudget(minutes)]
    d = METHODS[0].defaults()
    runtime.setup(seed=seed, precision=precision)
    image_size, batch_size = image_size or d["image_size"], batch_size or d["batch_size"]
    epochs = epochs or budget_epochs(d["epochs"], minutes)  # --minutes alone: the budget
    images, info = load_images(data, image_size=image_size, num_images=d["num_images"], limit=limit, seed=seed)
    encoder, decoder = build_vae(image_size, latent_dim=latent_dim or d["latent_dim"], filters=filters or d["filters"])
    vae = VAE(encoder, decoder, sigma=sigma or d["sigma"], seed=seed)
    vae.compile()
    guard = NaNGuard()
    run_dir = pathlib.Path(out)
    vae.fit(kdata.prepare(images, batch_size, seed=seed), epochs=epochs, run_dir=run_dir, resume=resume, verbose=2,
            callbacks=[SampleGrid(run_dir, show=False), LossHistory(run_dir), guard, *budget, *callbacks],
            run_info=dict(data=data_identity(data, info), batch_size=batch_size, image_size=image_size))
    if guard.tripped:
        raise RuntimeError(guard.message)
    return run_dir


METHODS = (Method(
    name="vae", title="VAE: images from a learned latent space (Kingma & Welling)", kind="unconditional",
    notebook="08_vae", trainer=VAE, builders={"networks": build_vae}, losses=(), infer=infer_gan.generate,
    exports=VAE.exports, data=load_images, default_data="toy:faces", custom_layers=CONV_LAYERS, recipe=train_vae,
    profiles={
        "quick": {"image_size": 32, "num_images": 256, "latent_dim": 32, "filters": 16, "sigma": 0.1,
                  "batch_size": 32, "epochs": 4},
        "demo": {"image_size": 32, "num_images": 6000, "latent_dim": 64, "filters": 32, "sigma": 0.1,
                 "batch_size": 64, "epochs": 10},
        "full": {"image_size": 64, "num_images": 20000, "latent_dim": 128, "filters": 64, "sigma": 0.1,
                 "batch_size": 64, "epochs": 50},
    }),)

__all__ = ["METHODS", "VAE", "gaussian_kl", "gaussian_nll", "train_vae"]
