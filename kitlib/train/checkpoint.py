"""Run directories and exact-resume checkpoints.

A run directory is self-describing: ``generate``/``translate`` need nothing but its path.
```
RUN_DIR/
  config.json          model name, kind, trainer config, data description, knobs (written at each start)
  kitlib_meta.json     versions, model config, identity (data, batch size, optimizers, replicas), last saved and
                       exported step
  checkpoints/         tf.train.CheckpointManager files: all networks, all optimizers, step, RNG states, pools
  export/NAME.keras    each generator on its own, latest (a subclassed GAN cannot be saved whole in Keras 3)
  export/NAME_epoch_0001.keras       per-epoch generators, the epochs ``KeepEpochs`` names (first, every 5th, last 3)
  samples/epoch_0001.png             sample grids
  history.csv          one row per epoch, appended across resumes
  .kitlib.lock         held while a process trains into the folder (owner pid and host; see ``run_dir.RunLock``)
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
import re
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from typing import Any, Iterable

CONFIG_FILE = "config.json"
META_FILE = "kitlib_meta.json"
CHECKPOINT_DIR = "checkpoints"
EXPORT_DIR = "export"


def write_json_atomic(path: str | os.PathLike, payload: Any) -> pathlib.Path:
    """Writes JSON to a temporary file in the same folder and renames it over ``path`` (never half-written)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide (0644 usually); mkstemp would make the file 0600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk: the old file stays, no temporary file is left
        tmp.unlink(missing_ok=True)
        raise
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


ALLOW_REPLICA_CHANGE = "KITLIB_ALLOW_REPLICA_CHANGE"  # 1: resume on another number of replicas (not bit-exact)


class RunMismatchError(ValueError):
    """Resuming a run with another model, data, batch size, seed or optimizer, or from damaged or deleted
    checkpoints (``problem``): refused before anything is written.

    ``differences`` lists ``"key: saved X vs now Y"``; ``with_fix(text)`` words the fix for another caller (the CLI
    names ``--out``/``--no-resume``).
    """

    PYTHON_FIX = ("use another run_dir for a new run, or fit(..., resume=False) to start over (the old run is moved "
                  "aside, not deleted).")

    def __init__(self, run_dir: pathlib.Path, differences: list[str], fix: str = PYTHON_FIX, *,
                 problem: str | None = None):
        self.run_dir, self.differences, self.problem = run_dir, differences, problem
        shown = "; ".join(differences[:6]) + (" ..." if len(differences) > 6 else "")
        super().__init__(f"Cannot resume the run in {run_dir}: {problem or f'it differs from this one in {shown}'}. "
                         f"Nothing was changed. Fix: {fix}")

    def with_fix(self, fix: str) -> "RunMismatchError":
        return RunMismatchError(self.run_dir, self.differences, fix, problem=self.problem)


def optimizer_identity(optimizer) -> dict:
    """What must not change when a run resumes: the optimizer's class and hyper-parameters (the learning rate and
    its schedule may change).

    Example:
    >>> import keras
    >>> optimizer_identity(keras.optimizers.SGD(0.1, momentum=0.9))["momentum"]
    0.9
    """
    inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer: the wrapped optimizer decides
    optimizer = inner if inner is not None else optimizer
    config = {k: v for k, v in optimizer.get_config().items() if k not in ("name", "learning_rate")}
    return json.loads(json.dumps({"class": type(optimizer).__name__, **config}, default=str))


def _differences(saved: Any, now: Any, prefix: str) -> list[str]:
    if isinstance(saved, dict) and isinstance(now, dict):
        return [d for k in sorted(set(saved) | set(now), key=str)
                for d in _differences(saved.get(k), now.get(k), f"{prefix}.{k}" if prefix else str(k))]
    return [] if saved == now else [f"{prefix}: saved {saved!r} vs now {now!r}"]


def _as_recorded(now: dict, saved: dict) -> dict:
    """``now``'s identity keys that ``saved`` records; a data content hash only if the saved run has one (runs made
    before kitlib hashed small data folders' contents resume)."""
    now = {k: v for k, v in now.items() if k in saved}
    data, saved_data = now.get("data"), saved.get("data")
    if isinstance(data, dict) and isinstance(saved_data, dict) and "content_sha256" not in saved_data:
        now["data"] = {k: v for k, v in data.items() if k != "content_sha256"}
    return now


class Checkpointer:
    """Saves and restores everything a trainer needs to continue exactly where it stopped.

    What is saved: every network and every optimizer of the trainer (optimizers are built before restoring so
    Adam moments come back), the global step, every random-generator state (dropout, latent sampling) and the
    trainer's extra state (image pools, ...). TensorFlow writes checkpoint data to temporary files and the
    ``checkpoint`` index is replaced atomically, so a crash while saving leaves the previous checkpoint as latest.
    Non-finite weights are never saved. ``kitlib_meta.json`` records the run's identity (model configuration,
    data, batch size, optimizers) checked by ``check_compatible`` before a resume, and the step of the last
    export, so that a run whose final export was interrupted is finished by the next call.

    Args:
        trainer: a ``kitlib.train.base.Trainer`` (compiled).
        run_dir: the run directory.
        max_to_keep: how many checkpoints to keep.
        identity: JSON-able description of what the run trains on (``Trainer.fit`` passes data, batch size,
            steps per epoch and optimizers).
    """

    def __init__(self, trainer, run_dir: str | os.PathLike, *, max_to_keep: int = 3, identity: dict | None = None):
        import tensorflow as tf

        self.trainer = trainer
        self.run_dir = pathlib.Path(run_dir)
        self.directory = self.run_dir / CHECKPOINT_DIR
        self.identity = json.loads(json.dumps(identity or {}, default=str))
        trainer.build_optimizers()
        objects = {f"net_{k}": v for k, v in trainer.networks().items()}
        objects.update({f"opt_{k}": v for k, v in trainer.optimizers().items()})
        objects["state"] = list(trainer.state_variables())
        self._objects = objects
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.max_to_keep = max_to_keep
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=max_to_keep)
        self._usable: tuple[str | None, list[str]] | None = None  # (newest readable checkpoint, damaged ones)
        self._replica_change_noted = False  # KITLIB_ALLOW_REPLICA_CHANGE's note is printed once
        meta_path = self.run_dir / META_FILE
        self.exported_step = read_json(meta_path).get("exported_step") if meta_path.exists() and self.latest else None

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint

    def _meta(self) -> dict:
        return {
            "versions": _versions(),
            "trainer": type(self.trainer).__name__,
            "model_config": self.trainer.run_config(),
            "identity": self.identity,
            "step": int(self.trainer.global_step.numpy()),
            "exported_step": self.exported_step,
        }

    def weights_finite(self) -> bool:
        """True when every weight of every network is finite (no NaN/inf)."""
        import numpy as np

        return all(np.isfinite(np.asarray(w)).all() for net in self.trainer.networks().values() for w in net.weights)

    def save(self) -> str:
        """Saves a checkpoint numbered by the global step and updates ``kitlib_meta.json``; returns its path.

        Raises:
            ValueError: when a weight is NaN/inf (the last good checkpoint stays the latest).
            OSError: when the disk is full or not writable (the message names the folder; the previous checkpoint
                stays the latest and the partial files are removed).
        """
        import tensorflow as tf

        step = int(self.trainer.global_step.numpy())
        if self.latest and self.latest.endswith(f"-{step}"):
            return self.latest
        if not self.weights_finite():
            raise ValueError(f"Refusing to checkpoint non-finite (NaN/inf) weights at step {step} in {self.directory}; "
                             f"the latest good checkpoint is {self.latest or 'none'}.")
        try:
            path = self.manager.save(checkpoint_number=step)
        except tf.errors.OpError as err:
            remove_partial_checkpoints(self.directory)
            raise OSError(f"Could not write the checkpoint of step {step} to {self.directory}: {err.message.strip()}. "
                          "Free disk space (or fix the folder's permissions) and rerun the same command: it resumes "
                          f"from the last saved checkpoint ({self.latest or 'none'}).") from None
        write_json_atomic(self.run_dir / META_FILE, self._meta())
        self._usable = (path, [])
        return path

    def mark_exported(self) -> None:
        """Records in ``kitlib_meta.json`` that the exports match the latest checkpoint's step."""
        self.exported_step = int(self.trainer.global_step.numpy())
        write_json_atomic(self.run_dir / META_FILE, self._meta())

    def usable(self) -> tuple[str | None, list[str]]:
        """``(path, damaged)``: the newest checkpoint whose files read whole (None when none does) and what is wrong
        with each newer one (``"checkpoints/ckpt-4.index is missing"`` ...). Reads, never changes anything."""
        if self._usable is None:
            damaged = []
            for path in reversed(self.manager.checkpoints):
                problem = checkpoint_damage(path)
                if problem is None:
                    self._usable = (path, damaged)
                    break
                damaged.append(problem)
            else:
                self._usable = (None, damaged)
        return self._usable

    def check_compatible(self) -> None:
        """Raises ``RunMismatchError`` naming each difference (saved and current value) when the run directory was
        made by another trainer, model configuration, data, batch size, seed or optimizer (read from
        ``kitlib_meta.json`` and ``config.json``, with or without a checkpoint), when its checkpoint holds a variable
        of another shape than this trainer's (or lacks one of its variables), when every checkpoint is damaged, or
        when ``checkpoints/`` was deleted but ``export/`` holds trained networks. Reads, never restores."""
        meta_path, config_path = self.run_dir / META_FILE, self.run_dir / CONFIG_FILE
        meta = read_json(meta_path) if meta_path.exists() else {}
        config = read_json(config_path) if config_path.exists() else {}
        model_config = json.loads(json.dumps(self.trainer.run_config(), default=str))
        trainer = type(self.trainer).__name__
        diffs = []
        for saved in (meta, {"trainer": config.get("trainer"), "model_config": config.get("model"),
                             "identity": {k: config[k] for k in ("data", "batch_size") if k in config}}):
            if saved.get("trainer") is None:
                continue
            saved_identity = saved.get("identity", {})  # runs made before identities were recorded: what is known
            diffs += _differences(saved["trainer"], trainer, "trainer") or (
                _differences(saved.get("model_config") or {}, model_config, "")
                + _differences({k: v for k, v in saved_identity.items() if k in self.identity},
                               _as_recorded(self.identity, saved_identity), ""))
        diffs = list(dict.fromkeys(diffs))
        if diffs and all(d.startswith(("replicas:", "workers:")) for d in diffs):
            self._check_replicas(meta.get("identity", {}))
        elif diffs:
            raise RunMismatchError(self.run_dir, diffs)
        latest, damaged = self.usable()
        if latest is None:
            if damaged:
                raise RunMismatchError(self.run_dir, damaged, problem=f"{'; '.join(damaged)}; no checkpoint is "
                                       "usable, so the run cannot continue")
            exports = sorted(p.name for p in (self.run_dir / EXPORT_DIR).glob("*.keras"))
            if exports:
                raise RunMismatchError(self.run_dir, [], problem=(
                    f"{self.directory} holds no checkpoint (deleted?) but {self.run_dir / EXPORT_DIR} holds trained "
                    f"networks ({', '.join(exports[:3])}{' ...' if len(exports) > 3 else ''}): the run cannot continue "
                    "without its checkpoint, and starting over here would replace them"))
            return
        diffs = _layout_differences(self._restore_target(latest), latest)
        if diffs:  # what identities do not describe (e.g. a network's width): refused before TensorFlow fails
            raise RunMismatchError(self.run_dir, diffs)
        saved_keras = meta.get("versions", {}).get("keras")
        now_keras = _versions().get("keras")
        if saved_keras and now_keras and saved_keras.split(".")[:2] != now_keras.split(".")[:2]:
            import warnings

            warnings.warn(
                f"{meta_path} was written with Keras {saved_keras}; this is Keras {now_keras}. Restoring anyway.",
                stacklevel=2,
            )

    def _check_replicas(self, saved: dict) -> None:
        """A run resumed on another number of replicas (GPUs, machines): refused, unless ``KITLIB_ALLOW_REPLICA_CHANGE=1``
        (then it continues, not bit-exact: each replica draws its own random numbers and sums its share of the batch
        in its own order, so the steps after the resume differ in the last bits from an uninterrupted run)."""
        was = f"{saved.get('replicas')} replica(s) on {saved.get('workers', 1)} machine(s)"
        now = f"{self.identity.get('replicas')} replica(s) on {self.identity.get('workers', 1)} machine(s)"
        if os.environ.get(ALLOW_REPLICA_CHANGE, "").strip().lower() in ("1", "true", "yes", "on"):
            if not self._replica_change_noted:
                print(f"{self.run_dir} was trained on {was} and continues on {now} ({ALLOW_REPLICA_CHANGE}=1): the "
                      "model and optimizer state carry over exactly, the steps that follow are not bit-exact.",
                      flush=True)
                self._replica_change_noted = True
            return
        raise RunMismatchError(self.run_dir, [], problem=(
            f"it was trained on {was} and this process has {now}; an exact resume needs the same replicas (the batch "
            f"split and each replica's random draws depend on them). Run it on {saved.get('replicas')} replica(s) "
            f"again (the same GPUs, or TF_CONFIG naming the same machines), or set {ALLOW_REPLICA_CHANGE}=1 to "
            f"continue on {self.identity.get('replicas')} (not bit-exact)"))

    def restore(self) -> int:
        """Restores the newest usable checkpoint if there is one; returns the restored global step (0 if none).

        Newer damaged checkpoints (truncated or deleted files) are moved to ``checkpoints/damaged-*/`` and the
        fallback is printed; with none usable, ``check_compatible`` raises ``RunMismatchError`` naming the files.
        """
        self.check_compatible()
        latest, damaged = self.usable()
        if not latest:
            return 0
        if damaged:
            self._set_aside_damaged(latest)
            print(f"{'; '.join(damaged)}: resuming from the previous good checkpoint {pathlib.Path(latest).name} "
                  f"instead (the damaged files were moved to {self.directory}/damaged-*).")
        self._restore_target(latest).restore(latest).assert_existing_objects_matched()
        return int(self.trainer.global_step.numpy())

    def _set_aside_damaged(self, latest: str) -> None:
        """Moves the files of the checkpoints newer than ``latest`` to a new ``checkpoints/damaged-*`` folder and
        makes ``latest`` the newest checkpoint of the index (written atomically)."""
        import tempfile

        import tensorflow as tf

        paths = list(self.manager.checkpoints)
        kept = paths[: paths.index(latest) + 1]
        folder = pathlib.Path(tempfile.mkdtemp(dir=self.directory, prefix="damaged-"))
        for path in paths[len(kept):]:
            prefix = pathlib.Path(path)
            for file in prefix.parent.glob(f"{prefix.name}.*"):
                os.replace(file, folder / file.name)
        keep_in_index(self.directory, kept)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=self.max_to_keep)
        self._usable = (latest, [])

    def _restore_target(self, path: str):
        """The ``tf.train.Checkpoint`` to restore ``path`` into: ``self.checkpoint``, or, where an optimizer was
        saved with a plain-number learning rate and now has a schedule (or the reverse), the same objects with that
        optimizer seen in its saved layout (``_saved_layout``)."""
        import tensorflow as tf

        saved = dict(tf.train.list_variables(path))
        objects = {name: _saved_layout(obj, name, saved) if name.startswith("opt_") else obj
                   for name, obj in self._objects.items()}
        if all(objects[name] is obj for name, obj in self._objects.items()):
            return self.checkpoint
        return tf.train.Checkpoint(**objects)


def _saved_layout(optimizer, path: str, saved: dict):
    """``optimizer`` as its checkpoint at ``path`` (its key prefix) holds it, for restoring an older run.

    A Keras optimizer built with a plain-number learning rate keeps it in a variable, second in its ``_variables``
    list (checkpoint keys ``_variables/0``, ``/1``, ``/2`` ...); built with a ``LearningRateSchedule`` it has no such
    variable, so each slot (Adam moment) moves one place up. Where the saved optimizer had the learning-rate variable
    and this one has a schedule (runs written before kitlib's trainers always used a schedule, e.g. a CycleGAN of
    one epoch), or the reverse, this returns a stand-in holding the same variables in the saved order: the saved
    learning rate goes to a throw-away variable (the schedule decides now); a learning-rate variable the checkpoint
    lacks keeps its value. Otherwise ``optimizer`` itself. A ``LossScaleOptimizer`` is looked into.
    """
    import keras
    import tensorflow as tf

    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:  # LossScaleOptimizer: its own variables, and the wrapped optimizer under inner_optimizer
        stand_in = _saved_layout(inner, f"{path}/inner_optimizer", saved)
        if stand_in is inner:
            return optimizer
        children = dict(optimizer._trackable_children(save_type="checkpoint"), inner_optimizer=stand_in)
        return _trackable(children)
    rate = getattr(optimizer, "_learning_rate", None)
    has_rate = isinstance(rate, keras.Variable)
    saved_rate = f"{path}/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE" in saved
    if not isinstance(optimizer, keras.optimizers.Optimizer) or has_rate == saved_rate:
        return optimizer
    slots = [v for v in optimizer._variables if v is not optimizer._iterations and v is not rate]
    if not saved_rate:
        return _trackable({"_iterations": optimizer._iterations, "_variables": [optimizer._iterations, *slots]})
    old_rate = tf.Variable(0.0, dtype=tf.as_dtype(keras.config.floatx()), trainable=False)  # read, then dropped
    return _trackable({"_iterations": optimizer._iterations, "_learning_rate": old_rate,
                       "_variables": [optimizer._iterations, old_rate, *slots]})


def _trackable(children: dict):
    """A stand-in object whose checkpoint children are ``children`` (lists become numbered children)."""
    import tensorflow as tf

    stand_in = tf.__internal__.tracking.AutoTrackable()
    for name, child in children.items():
        setattr(stand_in, name, child)
    return stand_in


def _layout_differences(root, path: str) -> list[str]:
    """``"NAME shape: saved X vs now Y"`` for each variable reachable from ``root`` (a ``tf.train.Checkpoint``)
    whose counterpart in the checkpoint at ``path`` has another shape, ``"NAME: not in the checkpoint"`` for one
    the checkpoint lacks, and ``"NAME: in the checkpoint, not in this network"`` for a network variable saved but
    gone (batch norm's moving statistics after a switch to layer norm: restore would pass and train another
    network): what would make ``restore`` fail or mislead, found without assigning anything by walking the
    saved object graph next to the live objects, networks first. NAME is the entry (``net_generator``,
    ``opt_generator`` ...) and the Keras variable path."""
    import keras
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(path)
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    shapes = reader.get_variable_to_shape_map()
    diffs, missing, matched, seen = [], {}, set(), {0}

    def named(where, obj):
        keras_path = getattr(obj, "path", None)
        return f"{where.split('/')[0]}/{keras_path}" if isinstance(keras_path, str) else where

    def children(node, live, where):
        saved = {child.local_name: child.node_id for child in node.children}
        for name, child in live.items():
            place = f"{where}/{name}" if where else name
            if name in saved:
                yield saved[name], child, place
            elif isinstance(child, (tf.Variable, keras.Variable)):  # unless the checkpoint has it elsewhere
                missing.setdefault(id(child), f"{named(place, child)}: not in the checkpoint")

    entries = sorted(children(graph.nodes[0], root._trackable_children(save_type="checkpoint"), ""),
                     key=lambda entry: entry[2].startswith("opt_"))
    for entry in entries:  # each entry whole (networks before optimizers, which also reach the weights)
        queue = [entry]
        while queue:
            node_id, obj, where = queue.pop(0)
            if node_id in seen:
                continue
            seen.add(node_id)
            matched.add(id(obj))
            node = graph.nodes[node_id]
            for attribute in node.attributes:
                if attribute.name == "VARIABLE_VALUE" and getattr(obj, "shape", None) is not None:
                    saved, now = shapes.get(attribute.checkpoint_key), tuple(obj.shape)
                    if saved is not None and tuple(saved) != now:
                        diffs.append(f"{named(where, obj)} shape: saved {tuple(saved)} vs now {now}")
            live = obj._trackable_children(save_type="checkpoint")
            queue.extend(children(node, live, where))
            if not where.startswith("opt_"):  # a network's saved variable it no longer has: another architecture
                diffs.extend(f"{named(where, obj)}/{child.local_name}: in the checkpoint, not in this network"
                             for child in node.children if child.local_name not in live
                             and any(a.name == "VARIABLE_VALUE" for a in graph.nodes[child.node_id].attributes))
    return diffs + [text for key, text in missing.items() if key not in matched]


def checkpoint_damage(path: str) -> str | None:
    """None when every file of the checkpoint ``path`` (a ``ckpt-N`` prefix) is there and reads whole; else what is
    wrong, naming the file (``"checkpoints/ckpt-4.data-00000-of-00001 is damaged or truncated (...)"``)."""
    import tensorflow as tf

    prefix = pathlib.Path(path)
    index = prefix.with_name(f"{prefix.name}.index")
    shown = pathlib.Path(prefix.parent.name)
    if not index.is_file():
        return f"{shown / index.name} is missing"
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except (tf.errors.OpError, IndexError, ValueError) as err:
        return f"{shown / index.name} is damaged or truncated ({_first_line(err)})"
    shards = sorted(prefix.parent.glob(f"{prefix.name}.data-*"))
    if not shards:
        return f"{shown / prefix.name}.data-00000-of-00001 is missing"
    for name in reader.get_variable_to_shape_map():
        try:
            reader.get_tensor(name)
        except (tf.errors.OpError, IndexError, ValueError) as err:
            files = " or ".join(str(shown / s.name) for s in shards)
            return f"{files} is damaged, truncated or missing ({_first_line(err)})"
    return None


def _first_line(err: Exception) -> str:
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    return text.strip().splitlines()[0][:200]


def remove_partial_checkpoints(directory: str | os.PathLike) -> list[pathlib.Path]:
    """Deletes what an interrupted checkpoint write leaves in ``directory``: TensorFlow's ``*_temp`` folders and
    ``ckpt-N`` files the ``checkpoint`` index does not list. Returns the removed paths."""
    import tensorflow as tf

    directory = pathlib.Path(directory)
    if not directory.is_dir():
        return []
    state = tf.train.get_checkpoint_state(str(directory))
    listed = {pathlib.Path(p).name for p in (state.all_model_checkpoint_paths if state else [])}
    removed = []
    for path in directory.iterdir():
        match = re.match(r"(ckpt-\d+)(_temp$|\.)", path.name)
        if match and (match.group(2) == "_temp" or match.group(1) not in listed):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed.append(path)
    return removed


KEEP_EPOCHS_ENV = "KITLIB_KEEP_EPOCHS"


@dataclass(frozen=True)
class KeepEpochs:
    """Which per-epoch exports (``export/NAME_epoch_0001.keras``) a run keeps: the first epoch, every ``every``-th
    (0: none) and the ``last`` newest (at least 1). The latest export ``NAME.keras`` is always kept.

    ``fit(..., keep_epochs=...)`` takes a ``KeepEpochs`` or its text (``"last=3,every=5"``; ``"all"`` keeps every
    epoch); without one, the environment variable ``KITLIB_KEEP_EPOCHS`` (same text), else the default.

    Example:
    >>> sorted(KeepEpochs(last=3, every=5).keeps(range(1, 13)))
    [1, 5, 10, 11, 12]
    >>> KeepEpochs.parse("last=2,every=0")
    KeepEpochs(last=2, every=0)
    """

    last: int = 3
    every: int = 5

    def __post_init__(self):
        if not (isinstance(self.last, int) and self.last >= 1 and isinstance(self.every, int) and self.every >= 0):
            raise ValueError(f"keep_epochs needs last >= 1 and every >= 0. Received: last={self.last!r}, "
                             f"every={self.every!r}. Fix the argument or {KEEP_EPOCHS_ENV} (e.g. 'last=3,every=5').")

    @classmethod
    def parse(cls, spec: "KeepEpochs | str | None") -> "KeepEpochs":
        """A policy from a ``KeepEpochs``, its text (``"last=3,every=5"``, either part alone, or ``"all"``) or None
        (``$KITLIB_KEEP_EPOCHS``, else the default)."""
        if isinstance(spec, cls):
            return spec
        spec = os.environ.get(KEEP_EPOCHS_ENV) if spec is None else spec
        if spec is None or not spec.strip():
            return cls()
        if spec.strip() == "all":
            return cls(last=1, every=1)
        values = {}
        for part in spec.split(","):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in ("last", "every") or not value.strip().lstrip("-").isdigit():
                raise ValueError(f"keep_epochs / {KEEP_EPOCHS_ENV} must read like 'last=3,every=5' or 'all'. "
                                 f"Received: {spec!r}")
            values[key.strip()] = int(value)
        return cls(**values)

    def keeps(self, epochs: Iterable[int]) -> set[int]:
        """The epochs of ``epochs`` this policy keeps: the first, every ``every``-th and the ``last`` newest."""
        epochs = sorted(set(epochs))
        return (set(epochs[:1]) | set(epochs[-self.last:])
                | {e for e in epochs if self.every and e % self.every == 0})


def prunable_epoch_exports(run_dir: str | os.PathLike, names: Iterable[str],
                           keep: KeepEpochs) -> list[pathlib.Path]:
    """The per-epoch exports of ``names`` in ``RUN_DIR/export`` that ``keep`` does not keep: only regular files
    named exactly ``NAME_epoch_NNNN.keras`` (never a link, never the latest ``NAME.keras``, never another file).
    Raises ``ValueError`` when ``export`` is a symbolic link. Reads, never deletes."""
    folder = pathlib.Path(run_dir) / EXPORT_DIR
    if folder.is_symlink():
        raise ValueError(f"{folder} is a symbolic link; kitlib never deletes through links. Nothing was removed.")
    if not folder.is_dir():
        return []
    found = []
    for name in names:
        pattern = re.compile(re.escape(name) + r"_epoch_(\d{4,})\.keras")
        exports = {}
        for path in folder.iterdir():
            match = pattern.fullmatch(path.name)
            if match and path.is_file() and not path.is_symlink():
                exports[int(match.group(1))] = path
        kept = keep.keeps(exports)
        found += [path for epoch, path in sorted(exports.items()) if epoch not in kept]
    return found


def prunable_checkpoints(directory: str | os.PathLike) -> list[pathlib.Path]:
    """The files of the checkpoints older than the newest in ``directory`` (``ckpt-N.index``, ``ckpt-N.data-*``
    regular files the ``checkpoint`` index lists), or none when the newest is damaged (the older ones are then the
    fallback). Reads, never deletes; ``remove_old_checkpoints`` deletes them."""
    import tensorflow as tf

    directory = pathlib.Path(directory)
    if directory.is_symlink():
        raise ValueError(f"{directory} is a symbolic link; kitlib never deletes through links. Nothing was removed.")
    state = tf.train.get_checkpoint_state(str(directory)) if directory.is_dir() else None
    if state is None or not state.model_checkpoint_path or checkpoint_damage(state.model_checkpoint_path):
        return []
    newest = pathlib.Path(state.model_checkpoint_path).name
    older = {pathlib.Path(p).name for p in state.all_model_checkpoint_paths} - {newest}
    return sorted(path for path in directory.iterdir()
                  if re.fullmatch(r"(ckpt-\d+)\.(index|data-\d{5}-of-\d{5})", path.name)
                  and path.name.split(".")[0] in older and path.is_file() and not path.is_symlink())


def keep_in_index(directory: str | os.PathLike, kept: list[str]) -> None:
    """Rewrites ``checkpoints/checkpoint`` (atomically) to list only ``kept`` (oldest first; the last is the
    latest) with their save times, without which ``tf.train.CheckpointManager`` would list none of them."""
    import time

    import tensorflow as tf

    state = tf.train.get_checkpoint_state(str(directory))
    times = dict(zip(state.all_model_checkpoint_paths, state.all_model_checkpoint_timestamps))
    tf.compat.v1.train.update_checkpoint_state(
        str(directory), kept[-1], all_model_checkpoint_paths=kept,
        all_model_checkpoint_timestamps=[times.get(path, time.time()) for path in kept],
        last_preserved_timestamp=state.last_preserved_timestamp)


def remove_old_checkpoints(directory: str | os.PathLike) -> list[pathlib.Path]:
    """Deletes the checkpoints older than the newest (``prunable_checkpoints``): the ``checkpoint`` index is first
    rewritten (atomically) to list the newest alone, so an interrupted removal leaves a valid run. Returns them."""
    import tensorflow as tf

    files = prunable_checkpoints(directory)
    if files:
        keep_in_index(directory, [tf.train.get_checkpoint_state(str(directory)).model_checkpoint_path])
        for path in files:
            path.unlink()
    return files


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
        if run_dir.resolve() not in path.resolve().parents:
            raise ValueError(f"{run_dir / CONFIG_FILE} points generator {name!r} outside the run directory "
                             f"({generators[name]!r}); refusing to load it. Use the run's own export/{name}.keras.")
    else:
        exports = epoch_exports(run_dir, name)
        if epoch not in exports:
            raise ValueError(f"No export of {name!r} for epoch {epoch} in {run_dir / EXPORT_DIR}; "
                             f"saved epochs: {list(exports) or 'none'}")
        path = exports[epoch]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the run has not finished an epoch yet (generators are exported "
                                "at each epoch end). Train at least one epoch, then retry.")
    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as err:
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} cannot be loaded: the file is damaged or truncated (not a complete .keras zip "
                             "archive). Move it elsewhere and rerun the train command on this run directory: it "
                             "exports the networks again from the latest checkpoint.") from None
        raise ValueError(f"{path} cannot be loaded ({_first_line(err)}).") from None
