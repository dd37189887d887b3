"""runtime.strategy(): notebooks 02 and 05 train data-parallel under it. On two logical CPUs (the same code path as
Kaggle's two T4s) a CycleGAN step with one image per replica equals the one-device step on both images, and pix2pix
trains."""

import subprocess
import sys

TWO_REPLICAS = """
import keras, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kitlib import data, runtime
from kitlib.train.cyclegan import build_cyclegan, unpaired
from kitlib.train.pix2pix import build_pix2pix

runtime.setup(seed=0, precision="float32")
photos = tf.data.Dataset.from_tensor_slices(data.toy.make_landscapes(8, 32, 0)[0])
paintings = tf.data.Dataset.from_tensor_slices(data.toy.make_paintings(8, 32, 0))


def cyclegan(strategy):  # as notebook 02: build and compile in scope, a global batch of one image per replica
    keras.utils.set_random_seed(0)
    with strategy.scope():
        gan = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=4, loss="lsgan", pool_size=0)
        gan.compile()
    batches = unpaired(data.prepare(photos, 2, seed=0), data.prepare(paintings, 2, seed=1))
    gan.fit(batches, epochs=1, steps_per_epoch=2, verbose=0)
    return [w.numpy() for w in gan.generator_ab.weights + gan.discriminator_b.weights]


mirrored = runtime.strategy()
assert type(mirrored).__name__ == "MirroredStrategy" and mirrored.num_replicas_in_sync == 2, mirrored
one, two = cyclegan(tf.distribute.get_strategy()), cyclegan(mirrored)
print("cyclegan", max(float(np.max(np.abs(a - b))) for a, b in zip(one, two)))
with mirrored.scope():  # as notebook 05
    p2p = build_pix2pix((32, 32, 3), filters=4)
    p2p.compile()
pairs = tf.data.Dataset.zip((photos, paintings))
history = p2p.fit(data.prepare(pairs, 2, seed=0), epochs=1, steps_per_epoch=2, verbose=0)
print("pix2pix", p2p.distribute_strategy.num_replicas_in_sync, float(history.history["g_loss"][-1]))
"""


def test_cyclegan_and_pix2pix_train_data_parallel_on_two_logical_cpus():
    done = subprocess.run([sys.executable, "-c", TWO_REPLICAS], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())
    assert float(lines["cyclegan"]) < 1e-5, lines  # two replicas of one image == one device with both images
    replicas, g_loss = lines["pix2pix"].split()
    assert replicas == "2" and float(g_loss) == float(g_loss) and float(g_loss) < float("inf"), lines
