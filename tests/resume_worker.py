"""Subprocess for tests/test_resume.py: trains a tiny DCGAN to a given number of steps in a run directory.

Usage: python tests/resume_worker.py RUN_DIR EPOCHS OUT.npz [--slow]
It resumes from RUN_DIR when a checkpoint is there, checkpoints every step, and at the end saves every generator,
discriminator and optimizer variable to OUT.npz. --slow sleeps a little per step so the parent can kill it mid-run.
"""

import sys
import time

import numpy as np


def main(run_dir: str, epochs: int, out: str, slow: bool) -> None:
    from kitlib import runtime

    runtime.setup(seed=7, deterministic=True, precision="float32")
    import keras
    import tensorflow as tf

    from kitlib.models.dcgan import build_dcgan
    from kitlib.train import GAN

    images = np.random.default_rng(0).uniform(-1, 1, (24, 32, 32, 3)).astype("float32")
    # The same construction as kitlib.data.prepare: an infinite stream that is a pure function of the seed.
    ds = tf.data.Dataset.from_tensor_slices(images).repeat().shuffle(24, seed=3, reshuffle_each_iteration=False).batch(4)
    ds.steps_per_epoch = 6
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = GAN(g, d, loss="bce", seed=5)
    gan.compile()

    class Slow(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(0.3)

    gan.fit(ds, epochs=epochs, run_dir=run_dir, checkpoint_every=1, callbacks=[Slow()] if slow else [], verbose=0)
    state = {f"g/{v.path}": np.asarray(v) for v in g.weights}
    state.update({f"d/{v.path}": np.asarray(v) for v in d.weights})
    for name, opt in gan.optimizers().items():
        state.update({f"opt_{name}/{i}/{v.path}": np.asarray(v) for i, v in enumerate(opt.variables)})
    state["step"] = np.asarray(gan.global_step)
    np.savez(out, **state)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], "--slow" in sys.argv)
