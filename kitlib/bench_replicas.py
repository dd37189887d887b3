"""``python -m kitlib bench replicas``: what data-parallel training costs on one machine, for every method.

Each method's ``python -m kitlib train`` recipe (toy data, the quick or demo profile's networks) trains the same
global batch twice, in two fresh processes: on one device, and data-parallel over two replicas
(``runtime.strategy()``: Mirrored over two logical CPUs here, over two GPUs on Kaggle's 2x T4). The median time of
a training step (epoch-end checkpoints and samples excluded) gives the strategy's overhead on this machine: on one
CPU, two replicas share the same cores, so a ratio near 1 means the strategy costs little; on two GPUs the same code
splits the batch between devices.

Example:
    python -m kitlib bench replicas                 # every method, quick profile
    python -m kitlib bench replicas --only dcgan vae --profile demo --json
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import keras

# one process per replica count: logical CPUs must be configured before TensorFlow starts
_CHILD = """
import json, sys
import tensorflow as tf
replicas, methods, steps, warmup, batch = int(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if replicas > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
from kitlib.bench_replicas import time_recipe
for method in methods:
    print(json.dumps(time_recipe(method, steps=steps, warmup=warmup, batch_size=json.loads(batch).get(method))), flush=True)
"""


class _StepClock(keras.callbacks.Callback):
    """Times each training step (begin to end of the batch) and stops training after ``total`` steps."""

    def __init__(self, total: int):
        super().__init__()
        self.total, self.seconds, self._start = total, [], 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        if len(self.seconds) >= self.total:
            self.model.stop_training = True


def time_recipe(method: str, *, steps: int = 10, warmup: int = 3, batch_size: int | None = None) -> dict:
    """Median seconds per training step of ``recipes.train(method)`` on toy data under ``runtime.strategy()`` in
    this process (after ``warmup`` steps), with the global ``batch_size`` (default: the profile's per replica times
    the replicas).

    Example:
    >>> time_recipe("vae", steps=2, warmup=1)["replicas"]   # doctest: +SKIP
    1
    """
    from kitlib import methods, recipes, runtime

    clock = _StepClock(warmup + steps)
    with tempfile.TemporaryDirectory(prefix=f"kitlib-bench-{method}-") as out:
        recipes.train(method, out=os.path.join(out, "run"), epochs=1000, batch_size=batch_size, callbacks=[clock])
    strategy = runtime.strategy()
    if len(clock.seconds) < warmup + steps:
        raise RuntimeError(f"bench replicas {method}: the recipe stopped after {len(clock.seconds)} steps, before "
                           f"the {warmup + steps} to time")
    defaults = methods.get(method).defaults()
    return {"method": method, "replicas": strategy.num_replicas_in_sync, "strategy": type(strategy).__name__,
            "image_size": defaults.get("image_size"),
            "batch_size": batch_size or defaults["batch_size"] * strategy.num_replicas_in_sync,
            "seconds_per_step": statistics.median(clock.seconds[warmup:]), "steps": steps}


def replicas(only: list[str] | None = None, *, profile: str = "quick", steps: int = 10, warmup: int = 3) -> list[dict]:
    """Times every trainable method (or ``only``) on one device and on two logical-CPU replicas, each in a fresh
    process, at the same global batch; returns one dict per method with both times and their ratio
    (``overhead``: two-replica time over one-device time)."""
    from kitlib import methods, recipes

    names = only or recipes.trainable()
    unknown = sorted(set(names) - set(recipes.trainable()))
    if unknown:
        raise ValueError(f"bench replicas takes trainable methods {recipes.trainable()}. Received: {unknown}")
    # the same global batch for both runs: the profile's, made even so that two replicas share it
    batch = {m: -(-methods.get(m).defaults(profile)["batch_size"] // 2) * 2 for m in names}
    env = {**os.environ, "KITLIB_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("KITLIB_QUICK", None)
    env.pop("CI", None)
    runs = {}
    for count in (1, 2):
        done = subprocess.run([sys.executable, "-c", _CHILD, str(count), ",".join(names), str(steps), str(warmup),
                               json.dumps(batch)], capture_output=True, text=True, env=env)
        if done.returncode:
            raise RuntimeError(f"bench replicas on {count} replica(s) failed:\n{done.stderr[-3000:]}")
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                result = json.loads(line)
                runs[result["method"], count] = result
    out = []
    for name in names:
        one, two = runs[name, 1], runs[name, 2]
        out.append({"method": name, "profile": profile, "image_size": one["image_size"], "batch_size": batch[name],
                    "steps": steps, "seconds_per_step_1": one["seconds_per_step"],
                    "seconds_per_step_2": two["seconds_per_step"], "strategy_2": two["strategy"],
                    "overhead": two["seconds_per_step"] / one["seconds_per_step"]})
    return out


def format_replicas(results: list[dict]) -> str:
    """A table of ``replicas`` results."""
    lines = ["method     px  batch  1 replica s/step  2 replicas s/step  2 / 1"]
    for r in results:
        lines.append(f"{r['method']:<9} {r['image_size']:>3}  {r['batch_size']:>5}  {r['seconds_per_step_1']:>16.3f}"
                     f"  {r['seconds_per_step_2']:>17.3f}  {r['overhead']:>5.2f}")
    return "\n".join(lines)
