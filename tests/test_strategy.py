"""Every trainer under ``tf.distribute.MirroredStrategy`` equals one device (docs/ARCHITECTURE.md, "Several devices").

One subprocess (TensorFlow's import is slow; its two logical CPUs are the code path of Kaggle's two T4s) builds each
trainer at a tiny size twice from the same seed, under the default strategy and under two replicas, trains both 2
steps on the same global batch and prints, per trainer, the largest difference of any checkpointed variable (weights,
weight averages, moving statistics, image pools, random-generator states), the largest difference between the two
replicas' copies of a variable, and the largest difference of the logged epoch means. Covered: DCGAN with a weight
average and DiffAugment, DCGAN (the report's networks, with dropout) with WGAN-GP and half batches, CycleGAN with the
pool of 50 and dropout, pix2pix (batch norm, dropout), GauGAN with its encoder (trained with SGD: see its entry),
DDIM, Palette, VAE, AdaIN.

The steps run eagerly (tracing 18 step functions for 2 steps each took longer than running them). Wall time of
``test_every_trainer_on_two_replicas_equals_one_device``: 84 s in the full suite on the project's 2-core machine
(two test processes; Keras 3.15 / TF 2.21), about 150 s at a load average of 9-12. Eager steps do not test the traced
path: tests/test_multiworker.py and `bench replicas` train every recipe traced under a strategy.
"""

import subprocess
import sys

EVERY_TRAINER = """
import keras, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kitlib import runtime
from kitlib.models.adain import adain_decoder, adain_encoder
from kitlib.models.dcgan import build_dcgan
from kitlib.models.diffusion import diffusion_unet
from kitlib.models.layers import ReplicaDropout
from kitlib.models.spade import build_gaugan
from kitlib.models.vae import build_vae
from kitlib.train.adain import AdaINTrainer
from kitlib.train.cyclegan import build_cyclegan
from kitlib.train.diffusion import DiffusionModel
from kitlib.train.gan import GAN
from kitlib.train.gaugan import GauGAN
from kitlib.train.pix2pix import build_pix2pix
from kitlib.train.vae import VAE

runtime.setup(seed=0, precision="float32")
mirrored = runtime.strategy()
assert type(mirrored).__name__ == "MirroredStrategy" and mirrored.num_replicas_in_sync == 2, mirrored
# one instance per process: a second MirroredStrategy renumbers its collectives and can meet the first one's
assert runtime.strategy() is mirrored
rng = np.random.default_rng(0)
def images(n, size=16):
    return rng.uniform(-1, 1, (n, size, size, 3)).astype("float32")

TRAINERS = {  # name: (build, global batch of training data[, compile arguments made in the scope])
    "dcgan_ema_diffaugment": (lambda: GAN(*build_dcgan("radford", image_size=32, latent_dim=8, filters=4), ema=0.9,
                                          diff_augment="color,translation,cutout", num_samples=4), images(4, 32)),
    "dcgan_report_wgan_gp_half_batch": (lambda: GAN(*build_dcgan("seed", image_size=32, latent_dim=8),
                                                    loss="wgan-gp", half_batch=True, n_critic=2, num_samples=4),
                                        images(4, 32)),
    "cyclegan_pool_50": (lambda: build_cyclegan("resnet_6blocks", "patchgan_16", image_size=16, filters=4,
                                                loss="lsgan", pool_size=50), (images(2), images(2))),
    "pix2pix": (lambda: build_pix2pix((16, 16, 3), filters=4, patch="patchgan_16"), (images(4), images(4))),
    # GauGAN trains with plain SGD here (its own Adam has beta_1 = 0): float32 noise is not a replica mistake, and
    # Adam turns it into +-lr steps. The one device's fused batch norm and the replicas' synchronised one differ in the
    # last bits (~1e-6 on O(1) activations), and a LeakyReLU input of this batch lies within that of 0 (8.7e-8 at up_1's
    # norm_1 in step 1): one element's slope (1 vs 0.2) moves every generator and encoder gradient upstream by 0.5-2 %
    # (those gradients are ~1e-7-1e-5), and Adam's first steps (about lr * sign(g)) flip the small ones (9.7e-4 after 2
    # steps). Biases right before a batch norm (fc, the blocks' convs) and D's logits bias at init (hinge: -1 + 1) have
    # gradients that are 0 up to noise, which Adam also makes ~lr. SGD moves weights by lr * gradient, so that noise
    # stays ~lr * 1e-2 * |g| while a replica mistake (a copied noise row, unsynchronised statistics, a loss not
    # divided by the replica count, which Adam's scale invariance would hide) moves them by ~lr * |g| (measured: 1e-6
    # against 1.2e-4, 0.1 and 0.17 at these learning rates).
    "gaugan": (lambda: GauGAN(*build_gaugan(32, 4, ngf=4, ndf=4, z_dim=8, spade_hidden=4, num_d=2, n_layers=2),
                              vgg=None, num_samples=4),
               (images(4, 32), rng.integers(0, 4, (4, 32, 32)).astype("uint8")),
               lambda: {"optimizers": {"generator": keras.optimizers.SGD(3e-6), "encoder": keras.optimizers.SGD(3e-6),
                                       "discriminator": keras.optimizers.SGD(1e-5)}}),
    "ddim": (lambda: DiffusionModel(diffusion_unet(16, widths=(4, 8), block_depth=1), num_samples=4), images(4)),
    "palette": (lambda: DiffusionModel(diffusion_unet(16, widths=(4, 8), block_depth=1, condition_channels=3),
                                       num_samples=4), (images(4), images(4))),
    "vae": (lambda: VAE(*build_vae(16, latent_dim=4, filters=4), num_samples=4), images(4)),
    "adain": (lambda: AdaINTrainer(adain_encoder(None, input_shape=(16, 16, 3)), adain_decoder(filters=4)),
              (images(2), images(2))),
}


def variables(trainer):
    nets = [v for net in trainer.networks().values() for v in net.variables]
    return list({id(v): v for v in nets + trainer.state_variables()}.values())


def copies(v):
    value = v.value if isinstance(v, keras.Variable) else v  # Keras wraps a tf.Variable (mirrored under a strategy)
    return [np.asarray(c) for c in getattr(value, "values", [value])]


def train(build, data, strategy, options=dict):
    keras.utils.set_random_seed(0)  # the same initial weights and layer seeds on both sides
    with strategy.scope():
        trainer = build()
        # 2 steps: tracing each step function would take longer than running it
        trainer.compile(run_eagerly=True, **options())
    batches = tf.data.Dataset.from_tensor_slices(data).batch(len(keras.tree.flatten(data)[0]), drop_remainder=True)
    history = trainer.fit(batches.repeat(2), epochs=1, verbose=0)
    return trainer, {k: v[-1] for k, v in history.history.items()}


for name, (build, data, *options) in TRAINERS.items():
    (one, one_logs), (two, two_logs) = (train(build, data, tf.distribute.get_strategy(), *options),
                                        train(build, data, mirrored, *options))
    weights = max(float(np.max(np.abs(copies(a)[0].astype("float64") - copies(b)[0].astype("float64")), initial=0))
                  for a, b in zip(variables(one), variables(two)))
    spread = max(float(np.max(np.abs(c[0].astype("float64") - c[-1].astype("float64")), initial=0))
                 for c in map(copies, variables(two)))
    logs = max(abs(one_logs[k] - two_logs[k]) / max(1.0, abs(one_logs[k])) for k in one_logs)
    print(name, weights, spread, logs, flush=True)

# Keras's own Dropout draws the same masks on both replicas; ReplicaDropout draws one device's masks, row for row.
def masks(layer_class, strategy):
    with strategy.scope():
        layer = layer_class(0.5, seed=3)
    run = tf.function(lambda x: strategy.run(lambda r: layer(r, training=True), args=(x,)))
    per_replica = run(next(iter(strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors(tf.ones((4, 64)))))))
    return [np.asarray(m) for m in strategy.experimental_local_results(per_replica)]

keras_halves = masks(keras.layers.Dropout, mirrored)
print("keras_dropout_halves_equal", bool(np.array_equal(*keras_halves)))
ours = np.concatenate(masks(ReplicaDropout, mirrored))
print("replica_dropout_equals_one_device", bool(np.array_equal(ours, masks(ReplicaDropout, tf.distribute.get_strategy())[0])))
"""

# Float32 sums in another order (each replica sums its half, then the all-reduce adds the halves; synchronised batch
# norm takes E[x^2] - E[x]^2 where one device's fused kernel takes E[(x - mean)^2]) differ in the last bits; after 2
# Adam steps of lr <= 1e-3 these stay below 1e-5 (measured up to 2e-6). A replica-dependent mistake (a copied noise
# row, unsynchronised batch statistics, a loss not divided by the replica count) moves weights by ~lr = 1e-4 or more.
WEIGHT_TOLERANCE = 1e-5
LOG_TOLERANCE = 1e-5  # logged means, relative (above 1): float32 sums in another order
TRAINERS = ("dcgan_ema_diffaugment", "dcgan_report_wgan_gp_half_batch", "cyclegan_pool_50", "pix2pix", "gaugan", "ddim",
            "palette", "vae", "adain")


def test_every_trainer_on_two_replicas_equals_one_device():
    done = subprocess.run([sys.executable, "-c", EVERY_TRAINER], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.strip().splitlines() if line.split(" ", 1)[0] in
                 TRAINERS + ("keras_dropout_halves_equal", "replica_dropout_equals_one_device"))
    for name in TRAINERS:
        weights, spread, logs = map(float, lines[name].split())
        assert weights < WEIGHT_TOLERANCE, (name, lines[name])  # two replicas == one device
        assert spread == 0.0, (name, lines[name])  # the replicas' copies (pools, moving statistics ...) agree exactly
        assert logs < LOG_TOLERANCE, (name, lines[name])  # logged metrics are the global batch's means
    assert lines["keras_dropout_halves_equal"] == "True"  # why the builders use ReplicaDropout
    assert lines["replica_dropout_equals_one_device"] == "True"
