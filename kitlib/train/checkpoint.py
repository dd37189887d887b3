"""Run directories and exact-resume checkpoints.

A run directory is self-describing: ``generate``/``translate`` need nothing but its path.
```
RUN_DIR/
  config.json          model name, kind, trainer config, data description, knobs (written once at the start)
  kitlib_meta.json     kitlib/Keras/TF versions + model config + last saved step (checked on restore)
  checkpoints/         tf.train.CheckpointManager files: all networks, all optimizers, step, RNG states, pools
  export/NAME.keras    each generator on its own, latest (a subclassed GAN cannot be saved whole in Keras 3)
  generators/NAME_epoch_0001.keras   per-epoch generators (optional)
  samples/epoch_0001.png             sample grids
  history.csv          one row per epoch, appended across resumes
```

Example:
>>> ckpt = Checkpointer(trainer, "runs/dcgan")      # doctest: +SKIP
>>> ckpt.restore()          # -> step restored (0 when the run is new)   # doctest: +SKIP
>>> ckpt.save()                                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from typing import Any

CONFIG_FILE = "config.json"
META_FILE = "kitlib_meta.json"
CHECKPOINT_DIR = "checkpoints"
EXPORT_DIR = "export"


def write_json_atomic(path: str | os.PathLike, payload: Any) -> pathlib.Path:
    """Writes JSON to a temporary file in the same folder and renames it over ``path`` (never half-written)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read_json(path: str | os.PathLike) -> dict:
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist: is {path.parent} a kitlib run directory?") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}). Delete it or restore it from a backup.") from None


def read_run_config(run_dir: str | os.PathLike) -> dict:
    """Returns ``RUN_DIR/config.json`` with a clear error when ``run_dir`` is not a run directory."""
    run_dir = pathlib.Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"Run directory {run_dir} does not exist. Pass the --out folder of a training run.")
    return read_json(run_dir / CONFIG_FILE)


def _versions() -> dict:
    from kitlib.runtime import versions

    return versions()


class Checkpointer:
    """Saves and restores everything a trainer needs to continue exactly where it stopped.

    What is saved: every network and every optimizer of the trainer (optimizers are built before restoring so
    Adam moments come back), the global step, every random-generator state (dropout, latent sampling) and the
    trainer's extra state (image pools, ...). TensorFlow writes checkpoint data to temporary files and the
    ``checkpoint`` index is replaced atomically, so a crash while saving leaves the previous checkpoint as latest.

    Args:
        trainer: a ``kitlib.train.GANTrainer`` (compiled).
        run_dir: the run directory.
        max_to_keep: how many checkpoints to keep.
    """

    def __init__(self, trainer, run_dir: str | os.PathLike, *, max_to_keep: int = 3):
        import tensorflow as tf

        self.trainer = trainer
        self.run_dir = pathlib.Path(run_dir)
        self.directory = self.run_dir / CHECKPOINT_DIR
        trainer.build_optimizers()
        objects = {f"net_{k}": v for k, v in trainer.networks().items()}
        objects.update({f"opt_{k}": v for k, v in trainer.optimizers().items()})
        objects["state"] = list(trainer.state_variables())
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=max_to_keep)

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint

    def _meta(self) -> dict:
        return {
            "versions": _versions(),
            "trainer": type(self.trainer).__name__,
            "model_config": self.trainer.run_config(),
            "step": int(self.trainer.global_step.numpy()),
        }

    def save(self) -> str:
        """Saves a checkpoint numbered by the global step and updates ``kitlib_meta.json``; returns its path."""
        step = int(self.trainer.global_step.numpy())
        if self.latest and self.latest.endswith(f"-{step}"):
            return self.latest
        path = self.manager.save(checkpoint_number=step)
        write_json_atomic(self.run_dir / META_FILE, self._meta())
        return path

    def check_meta(self) -> None:
        """Raises ``ValueError`` naming the differences when the run was made with another model configuration."""
        meta_path = self.run_dir / META_FILE
        if not meta_path.exists():
            return
        meta = read_json(meta_path)
        saved, current = meta.get("model_config", {}), json.loads(json.dumps(self.trainer.run_config(), default=str))
        if meta.get("trainer") != type(self.trainer).__name__ or saved != current:
            diffs = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
            detail = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {current.get(k)!r}" for k in diffs[:6])
            raise ValueError(
                f"The checkpoint in {self.directory} was made by {meta.get('trainer')} with another configuration "
                f"({detail or 'trainer class differs'}). Fix: use a new run directory, or set the knobs back to the "
                f"saved values, or pass resume=False to start over (the old checkpoints are kept until overwritten)."
            )
        saved_keras = meta.get("versions", {}).get("keras")
        now_keras = _versions().get("keras")
        if saved_keras and now_keras and saved_keras.split(".")[:2] != now_keras.split(".")[:2]:
            import warnings

            warnings.warn(
                f"{meta_path} was written with Keras {saved_keras}; this is Keras {now_keras}. Restoring anyway.",
                stacklevel=2,
            )

    def restore(self) -> int:
        """Restores the latest checkpoint if there is one; returns the restored global step (0 if none)."""
        if not self.latest:
            return 0
        self.check_meta()
        self.checkpoint.restore(self.latest).assert_existing_objects_matched()
        return int(self.trainer.global_step.numpy())


def epoch_exports(run_dir: str | os.PathLike, name: str = "generator") -> dict[int, pathlib.Path]:
    """``{epoch: path}`` of the per-epoch exports ``RUN_DIR/export/NAME_epoch_0001.keras``, sorted by epoch."""
    folder = pathlib.Path(run_dir) / EXPORT_DIR
    found = {}
    for path in folder.glob(f"{name}_epoch_*.keras"):
        try:
            found[int(path.stem.rsplit("_", 1)[1])] = path
        except ValueError:
            continue
    return dict(sorted(found.items()))


def load_generator(run_dir: str | os.PathLike, *, epoch: int | None = None, name: str | None = None):
    """Loads an exported generator of a run directory: the latest, or the one saved at ``epoch``.

    Example:
    >>> g = load_generator("runs/01_dcgan", epoch=3)     # doctest: +SKIP
    """
    import keras

    import kitlib.models.layers  # noqa: F401  (registers kitlib layers for deserialisation)

    run_dir = pathlib.Path(run_dir)
    generators = read_run_config(run_dir).get("generators", {})
    if not generators:
        raise ValueError(f"{run_dir / CONFIG_FILE} lists no generators: was this run trained by kitlib?")
    name = name or next(iter(generators))
    if name not in generators:
        raise ValueError(f"Generator {name!r} is not in {run_dir}; available: {sorted(generators)}")
    if epoch is None:
        path = run_dir / generators[name]
    else:
        exports = epoch_exports(run_dir, name)
        if epoch not in exports:
            raise ValueError(f"No export of {name!r} for epoch {epoch} in {run_dir / EXPORT_DIR}; "
                             f"saved epochs: {list(exports) or 'none'}")
        path = exports[epoch]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the run has not finished an epoch yet (generators are exported "
                                "at each epoch end). Train at least one epoch, then retry.")
    return keras.saving.load_model(path, compile=False)
