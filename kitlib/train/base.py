"""The shared training engine: a ``keras.Model`` base for GAN trainers with exact resume.

Subclasses (``GAN``, ``CycleGAN``, ``Pix2Pix``, ...) implement:

- ``__init__``: keep the networks as attributes and call ``super().__init__(loss_names=...)``;
- ``networks()`` -> ``{name: keras.Model}`` and ``generators()`` -> the ones to export;
- ``compile(...)``: create one optimizer per network and call ``self._compile_optimizers({...})``;
- ``train_step(data)``: compute losses under ``tf.GradientTape``, call ``self.minimize(...)`` per network and
  return ``self.update_trackers({...})``;
- optionally ``extra_state()`` (variables such as an image pool) and ``sample_images()`` for sample grids.

``fit(x, epochs=..., run_dir=...)`` then checkpoints every N steps and at every epoch end and, when the run
directory already holds a checkpoint, continues exactly where it stopped, mid-epoch included: the networks,
optimizer moments, learning-rate position and random-generator states come from the checkpoint, and the data
stream is re-created and skipped to the same batch (kitlib pipelines are a pure function of their seed).
Before writing anything it locks the run directory and refuses a resume whose model, data, batch size or optimizer
differ from the checkpoint's (``kitlib.train.run_dir``); a run is complete only once its exports are written.

Several devices (``runtime.strategy()``; docs/ARCHITECTURE.md, "Several devices"): a trainer built and compiled in
``strategy.scope()`` trains as on one device with the global batch. Losses are means over the replica's (local)
batch and ``scale_loss`` divides by the number of replicas; random draws go through ``replica_rows`` (the global
batch's draws, this replica's rows); ``all_replicas``/``this_replica`` gather a global batch and take this replica's
share of it; ``compile`` switches every batch normalization to global-batch statistics.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import sys
import time
from typing import Any, Iterable

import keras
import numpy as np
import tensorflow as tf

from kitlib.train.checkpoint import (CONFIG_FILE, EXPORT_DIR, Checkpointer, KeepEpochs, optimizer_identity,
                                     read_json, write_json_atomic)


class Trainer(keras.Model):
    """Base class of kitlib's trainers: GANs, diffusion, AdaIN (see the module docstring for the subclass contract).

    ``GANTrainer`` is the same class under its old name (kept for existing code).

    Args:
        loss_names: the names of the values ``train_step`` reports; one ``keras.metrics.Mean`` tracker each.
        seed: seed of the trainer's own random generator (latent vectors, pools).
    """

    kind = "unconditional"  # or "translation": tells the CLI whether `generate` or `translate` applies
    exports: tuple[str, ...] = ()  # networks exported on their own (empty: those whose name contains 'generator')

    def __init__(self, *, loss_names: Iterable[str], seed: int | None = None, name: str | None = None):
        super().__init__(name=name)
        self.loss_names = tuple(loss_names)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in self.loss_names}
        self.global_step = keras.Variable(0, dtype="int64", trainable=False, name="global_step")
        self.seed = seed  # part of a run's identity: a resume with another seed is refused
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._optimizers: dict[str, keras.optimizers.Optimizer] = {}
        self.checkpointer: Checkpointer | None = None

    # -- contract -----------------------------------------------------------------------------------------------
    def networks(self) -> dict[str, keras.Model]:
        raise NotImplementedError

    def generators(self) -> dict[str, keras.Model]:
        """The networks exported on their own: those named in the class's ``exports``, else every network whose
        name contains 'generator'. A trainer that would export nothing is an error, not a silent empty export."""
        nets = self.networks()
        unknown = [k for k in self.exports if k not in nets]
        if unknown:
            raise ValueError(f"{type(self).__name__}.exports names {unknown}, which are not among its networks "
                             f"{sorted(nets)}.")
        chosen = {k: nets[k] for k in self.exports} or {k: v for k, v in nets.items() if "generator" in k}
        if not chosen:
            raise ValueError(f"{type(self).__name__} exports no network: none of {sorted(nets)} contains 'generator'. "
                             f"Set `exports = ({next(iter(sorted(nets)), 'NAME')!r},)` on the class.")
        return chosen

    def extra_state(self) -> list:
        """Extra variables to checkpoint (image pools, EMA weights...)."""
        return []

    def run_config(self) -> dict:
        """JSON-able description of the model (stored in the run directory and checked on restore)."""
        return {}

    def method_name(self) -> str | None:
        """The registry name of this trainer's method (``"dcgan"``, ``"palette"`` ...), written to ``config.json`` as
        ``method``: the ``METHODS`` entry declared next to the trainer class (or its nearest parent class that has
        one) whose ``config_match`` fits ``run_config()``; None when no entry names the trainer.

        Example:
        >>> from kitlib.models.diffusion import diffusion_unet
        >>> from kitlib.train import DiffusionModel
        >>> DiffusionModel(diffusion_unet(32, widths=(8, 16), block_depth=1, condition_channels=3)).method_name()
        'palette'
        """
        model = json.loads(json.dumps(self.run_config(), default=str))
        for cls in type(self).__mro__:
            entries = getattr(sys.modules.get(cls.__module__), "METHODS", ())
            found = [m.name for m in entries if m.trainer is cls and m.matches(model)]
            if len(found) > 1:
                raise ValueError(f"{cls.__module__}.METHODS has {len(found)} entries for {cls.__name__} that fit its "
                                 f"run_config() ({found}); give each a config_match that tells them apart.")
            if found:
                return found[0]
        return None

    # -- optimizers ---------------------------------------------------------------------------------------------
    def _compile_optimizers(self, optimizers: dict[str, keras.optimizers.Optimizer], **compile_kwargs) -> None:
        """Registers one optimizer per network, wrapped in ``LossScaleOptimizer`` under a float16 policy."""
        for name in optimizers:
            if name not in self.networks():
                raise ValueError(f"Optimizer {name!r} names no network; networks are {sorted(self.networks())}.")
        if tf.distribute.get_strategy() is not self.distribute_strategy:  # optimizers would live outside the scope
            raise RuntimeError(f"{type(self).__name__} was built under {type(self.distribute_strategy).__name__} but is "
                               f"compiled under {type(tf.distribute.get_strategy()).__name__}: build and compile it "
                               "inside the same `with strategy.scope():`.")
        float16 = keras.mixed_precision.global_policy().compute_dtype == "float16"
        self._optimizers = {
            k: keras.optimizers.LossScaleOptimizer(o) if float16 and not isinstance(o, keras.optimizers.LossScaleOptimizer) else o
            for k, o in optimizers.items()
        }
        for k, o in self._optimizers.items():  # tracked attributes, so Keras and tf.train.Checkpoint see them
            setattr(self, f"{k}_optimizer", o)
        if "jit_compile" not in compile_kwargs:
            from kitlib.runtime import last_choice

            choice = last_choice()
            compile_kwargs["jit_compile"] = bool(choice and choice.xla)
        # No Keras-level optimizer: the trainers' own do the work, and Keras's default (RMSprop) would otherwise
        # create a slot per weight at the first fit, unused.
        compile_kwargs.setdefault("optimizer", None)
        super().compile(**compile_kwargs)
        self.build_optimizers()  # slots exist before the first trace (else Keras traces the train step twice)
        self.synchronize_batch_norm()
        # The networks are built; unbuilt, the trainer would be traced by Keras's fit under a distribution strategy
        # through a call() trainers do not have.
        self.built = True

    def optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        if not self._optimizers:
            raise RuntimeError(f"{type(self).__name__} is not compiled: call .compile(...) before fit/checkpointing.")
        return self._optimizers

    def build_optimizers(self) -> None:
        """Creates optimizer slots now (needed before restoring so that Adam moments come back)."""
        nets = self.networks()
        for k, opt in self.optimizers().items():
            if not opt.built:
                opt.build(nets[k].trainable_variables)

    def minimize(self, name: str, tape: tf.GradientTape, loss, variables=None) -> None:
        """Applies the gradient of ``loss`` (computed under ``tape``) with the optimizer of network ``name``.

        ``loss`` must be the value returned by ``self.scale_loss(name, raw_loss)`` inside the tape.
        """
        variables = self.networks()[name].trainable_variables if variables is None else variables
        grads = tape.gradient(loss, variables)
        self._optimizers[name].apply(grads, variables)

    def minimize_joint(self, names: tuple[str, ...], tape: tf.GradientTape, loss) -> None:
        """One backward pass for a loss shared by several networks (e.g. CycleGAN's two generators), each updated
        by its own optimizer. ``loss`` must be ``self.scale_loss(names[0], raw_loss)``; under float16 the gradients
        of the other networks are rescaled to their own optimizer's loss scale."""
        nets = self.networks()
        groups = [nets[n].trainable_variables for n in names]
        grads = tape.gradient(loss, [v for group in groups for v in group])
        first_scale = _loss_scale(self._optimizers[names[0]])
        start = 0
        for name, group in zip(names, groups):
            part = grads[start: start + len(group)]
            start += len(group)
            scale = _loss_scale(self._optimizers[name])
            if scale is not first_scale:
                part = [None if g is None else g * tf.cast(scale / first_scale, g.dtype) for g in part]
            self._optimizers[name].apply(part, group)

    def scale_loss(self, name: str, loss):
        """Divides by the number of replicas (tf.distribute sums gradients) and applies float16 loss scaling.

        ``loss`` is a mean over this replica's (local) batch; the replicas' gradients then sum to the gradient of the
        global batch's mean, as on one device (the global batch is a multiple of the replica count).
        """
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
        return self._optimizers[name].scale_loss(loss)

    def synchronize_batch_norm(self) -> None:
        """Several replicas: every batch normalization of the networks (nested layers included) normalises with the
        statistics of the global batch (``synchronized=True``: an all-reduce of the sums per layer), as one device
        does; ``compile`` calls it. One replica: nothing changes. Saved networks keep the setting, which is a no-op
        on one device (``FusedBatchNormalization`` then takes its fused kernel)."""
        if self.distribute_strategy.num_replicas_in_sync == 1:
            return
        for net in self.networks().values():
            for layer in net._flatten_layers():
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True

    # -- metrics ------------------------------------------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_trackers(self, values: dict[str, Any]) -> dict[str, Any]:
        """Adds ``values`` (means over the local batch) to the loss trackers; returns their means.

        Several replicas: each replica's tracker holds its own sums (Keras metric variables are sync-on-read, summed
        across replicas when read outside a step), so the epoch's value is the mean over every replica's batches,
        and Keras averages the per-step results over the replicas: the global batch's mean either way.
        """
        for k, v in values.items():
            self.trackers[k].update_state(v)
        results = {k: t.result() for k, t in self.trackers.items()}
        if _multi_worker(tf.distribute.get_strategy()):
            # Keras (3.13 to 3.15) averages a step's outputs over the workers along axis 0, which a scalar lacks
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    # -- state --------------------------------------------------------------------------------------------------
    def state_variables(self) -> list:
        """Global step, every random-generator state (trainer and network layers, e.g. dropout) and extra state."""
        seen, out = set(), [self.global_step, self.seed_generator.state]
        weight_ids = {id(w) for net in self.networks().values() for w in net.weights}
        for net in self.networks().values():
            for v in net.variables:  # Keras `variables` = weights + SeedGenerator states
                if id(v) not in weight_ids and id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out + list(self.extra_state())

    def copy_from_chief(self) -> int:
        """Gives every replica the values of the first one (the chief's first device) of everything a checkpoint
        holds: networks, optimizers, step, random-generator and extra state. Under MultiWorkerMirroredStrategy
        only the chief restores the run's checkpoint, so ``fit`` calls this on every worker after the restore (a
        sum in which the other replicas add zeros: exact). Returns the global step.
        """
        strategy = self.distribute_strategy
        nets = [v for net in self.networks().values() for v in net.variables]
        opts = [v for opt in self.optimizers().values() for v in opt.variables]
        variables = list({id(v): v for v in nets + opts + self.state_variables()}.values())
        wide = [tf.float64 if tf.as_dtype(v.dtype) == tf.float64 else tf.float32 if tf.as_dtype(v.dtype).is_floating
                else tf.int64 for v in variables]  # exact for every float and int dtype of a trainer
        kinds = sorted(set(wide), key=str)
        groups = [[v for v, w in zip(variables, wide) if w == kind] for kind in kinds]

        @tf.function
        def first_replica_values():
            def packed():  # one flat tensor per kind, zero on every replica but the first
                first = tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0)
                flat = [tf.concat([tf.reshape(tf.cast(v, kind), [-1]) for v in group], 0)
                        for kind, group in zip(kinds, groups)]
                return [tf.where(first, f, tf.zeros_like(f)) for f in flat]
            return [strategy.reduce(tf.distribute.ReduceOp.SUM, f, axis=None) for f in strategy.run(packed)]

        for group, flat in zip(groups, first_replica_values()):
            sizes = [math.prod(v.shape) for v in group]
            for v, part in zip(group, tf.split(flat, sizes)):
                v.assign(tf.cast(tf.reshape(part, v.shape), v.dtype))
        return int(self.global_step.numpy())

    # -- fit with exact resume ----------------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        *,
        epochs: int = 1,
        steps_per_epoch: int | None = None,
        run_dir: str | os.PathLike | None = None,
        resume: bool = True,
        checkpoint_every: int | None = None,
        keep_epochs: KeepEpochs | str | None = None,
        run_info: dict | None = None,
        callbacks: list | None = None,
        verbose: Any = "auto",
        **kwargs,
    ):
        """Trains for ``epochs`` epochs; with ``run_dir``, checkpoints and resumes exactly.

        Args:
            x: a ``tf.data.Dataset`` of batches. For exact resume the batch stream must not depend on how many
                iterators were made from it in this process: ``kitlib.data.prepare`` gives an infinite stream
                (repeat, then a seeded shuffle without reshuffling, then stateless augmentation) that is a pure
                function of its seed, and carries ``steps_per_epoch``. A finite dataset is repeated; it resumes
                exactly if each pass yields the same batches (a ``shuffle(..., reshuffle_each_iteration=True)``
                inside it makes mid-epoch resume restart that epoch's order from a different shuffle).
            epochs: total number of epochs of the run (not "more epochs"): resuming a run that stopped in epoch 3
                of 10 trains the remaining part of epoch 3 and epochs 4..10.
            steps_per_epoch: batches per epoch (default: ``x.steps_per_epoch`` set by ``kitlib.data.prepare``,
                else the dataset's cardinality).
            run_dir: run directory for checkpoints, config, samples and exported generators: a new or empty
                folder, or a kitlib run (refused: another process training into it, any other folder). On several
                machines (``TF_CONFIG``) only the chief writes it; the other workers write a temporary folder
                (``runtime.worker_run_dir``) and continue from the chief's checkpoint (``copy_from_chief``); before
                the first step every worker checks that all were started alike and none refused (``_start_together``).
            resume: continue from the latest checkpoint in ``run_dir`` if there is one (refused, before anything
                is written, when the trainer, model config, ``run_info["data"]``/``["batch_size"]``, seed, steps
                per epoch, optimizer hyper-parameters or number of replicas (``KITLIB_ALLOW_REPLICA_CHANGE=1``:
                continue anyway, not bit-exact) differ, checked with or without a checkpoint; a damaged
                latest checkpoint falls back to the previous good one). ``False``: move an old run aside and start
                clean.
            checkpoint_every: also checkpoint every N steps (always at each epoch end).
            keep_epochs: which per-epoch exports ``export/NAME_epoch_0001.keras`` to keep (``KeepEpochs`` or its
                text, e.g. ``"last=3,every=5"`` or ``"all"``); default ``$KITLIB_KEEP_EPOCHS``, else the first,
                every 5th and the last 3 epochs. The others are deleted as training goes; ``NAME.keras`` stays.
            run_info: extra keys for ``RUN_DIR/config.json``, e.g. ``data={"source": ..., "num_files": ...}``
                and ``batch_size``; those two are part of the run's identity.
            callbacks, verbose, **kwargs: passed to ``keras.Model.fit``.

        Returns:
            A ``keras.callbacks.History`` covering the epochs run by this call.
        """
        if not isinstance(x, tf.data.Dataset):
            raise TypeError(f"fit expects a tf.data.Dataset of batches. Received: {type(x).__name__}")
        finite = int(x.cardinality())
        steps_per_epoch = steps_per_epoch or getattr(x, "steps_per_epoch", None)
        if steps_per_epoch is None:
            if finite < 0:
                raise ValueError("The dataset is infinite or of unknown size: pass steps_per_epoch=.")
            steps_per_epoch = finite
        if steps_per_epoch < 1:
            raise ValueError(
                f"The dataset yields no full batch (steps_per_epoch={steps_per_epoch}). "
                "Use more images or a smaller batch_size."
            )
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1 or None. Received: checkpoint_every={checkpoint_every}")
        keep_epochs = KeepEpochs.parse(keep_epochs)
        from kitlib.runtime import cluster_tasks, is_chief, worker_run_dir

        run_info = dict(run_info or {})
        multi_worker = _multi_worker(self.distribute_strategy)
        identity = {"steps_per_epoch": steps_per_epoch,
                    "optimizers": {k: optimizer_identity(o) for k, o in self.optimizers().items()},
                    **({"seed": self.seed} if self.seed is not None else {}),
                    **{k: run_info[k] for k in ("data", "batch_size") if k in run_info},
                    # a resume on another number of replicas is refused (Checkpointer.check_compatible)
                    "replicas": self.distribute_strategy.num_replicas_in_sync,
                    "workers": len(cluster_tasks()) if multi_worker else 1}
        start = {"versions": {"kitlib": _kitlib_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
                 "trainer": type(self).__name__, "model": self.run_config(), "planned_steps": epochs * steps_per_epoch,
                 **identity}
        if run_dir is None:
            if multi_worker:
                _start_together(self.distribute_strategy, start, None)
            return self._fit(x, finite, epochs, steps_per_epoch, 0, list(callbacks or []), verbose, kwargs, None)
        from kitlib.train.callbacks import CheckpointOnInterrupt, RunCheckpoint
        from kitlib.train.run_dir import open_run_dir, size_report

        run_dir = pathlib.Path(run_dir)
        with worker_run_dir(run_dir) as run_dir:  # the other workers of a cluster write a temporary folder
            lock = refused = None
            try:
                try:
                    lock = open_run_dir(run_dir, resume=resume)
                    self.checkpointer = Checkpointer(self, run_dir, identity=identity)
                    if resume:
                        self.checkpointer.check_compatible()  # before config.json is touched
                except Exception as err:  # several machines: every worker learns it before any of them trains
                    refused = err
                if multi_worker:
                    _start_together(self.distribute_strategy, start, refused)
                if refused is not None:
                    raise refused
                self.write_run_config(run_dir, **run_info, planned_steps=epochs * steps_per_epoch,
                                      replicas=identity["replicas"], workers=identity["workers"])
                restored = self.checkpointer.restore() if resume else 0
                # in a cluster only the chief has a checkpoint: every worker continues from its values
                start_step = self.copy_from_chief() if multi_worker else restored
                saver = RunCheckpoint(self.checkpointer, every_steps=checkpoint_every, keep_epochs=keep_epochs)
                missing = [f"{EXPORT_DIR}/{k}.keras" for k in self.generators()
                           if not (run_dir / EXPORT_DIR / f"{k}.keras").exists()]
                if restored and restored % steps_per_epoch == 0 and self.checkpointer.exported_step != restored:
                    print(f"Finishing the exports of step {restored}, interrupted before they were written.")
                    saver.export(restored // steps_per_epoch)
                elif restored and restored % steps_per_epoch == 0 and missing:
                    print(f"Exporting step {restored} again: {', '.join(missing)} is missing.")
                    saver.export(restored // steps_per_epoch)
                interrupt = CheckpointOnInterrupt()
                history = self._fit(x, finite, epochs, steps_per_epoch, start_step,
                                    list(callbacks or []) + [saver, interrupt, _LockHeartbeat(lock)], verbose, kwargs,
                                    run_dir)
            finally:
                if lock is not None:
                    lock.release()
            if is_chief():  # the other workers' folders are temporary
                print(size_report(run_dir), flush=True)
        if interrupt.interrupted_at is not None and not saver.refused:
            print(f"Interrupted at step {interrupt.interrupted_at}: checkpointed in {run_dir}. To continue from there, "
                  "rerun the same command (or fit on the same run_dir).", flush=True)
            raise KeyboardInterrupt
        if saver.refused:
            tripped = [c.tripped for c in callbacks or [] if getattr(c, "tripped", None)]  # e.g. NaNGuard's finding
            raise RuntimeError(f"Training stopped: {'NaNGuard: ' + tripped[0] if tripped else saver.refused}. "
                               f"Non-finite weights are never saved; the last good checkpoint is "
                               f"{self.checkpointer.latest or 'none'}. Try a lower learning rate, another loss, or "
                               "precision='float32'.")
        return history

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras's, except under MultiWorkerMirroredStrategy: Keras (3.13 to 3.15) averages the first distributed
        batch over the workers with one ``strategy.reduce`` of the whole structure, which that strategy refuses for
        an ``(a, b)`` tuple; only its shapes are used, so this worker's first replica's share serves."""
        if iterator is not None and _multi_worker(self.distribute_strategy):
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda v: self.distribute_strategy.experimental_local_results(v)[0], next(batches))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def _fit(self, x, finite, epochs, steps_per_epoch, start_step, callbacks, verbose, kwargs, run_dir):
        from kitlib.train.callbacks import StepCounter

        kwargs.setdefault("shuffle", False)  # the dataset carries its own (seeded) shuffle
        callbacks.insert(0, StepCounter())
        multi_worker = _multi_worker(self.distribute_strategy)
        if multi_worker:  # a worker that stops alone would leave the others waiting for its next step
            callbacks.append(_StopTogether(self.distribute_strategy))
        total = epochs * steps_per_epoch
        if start_step >= total:
            print(f"Run already complete: step {start_step} of {total} ({epochs} epochs). Nothing to do.")
            return _empty_history()
        if start_step:
            print(f"Resuming from step {start_step} (epoch {start_step // steps_per_epoch + 1}, "
                  f"batch {start_step % steps_per_epoch + 1} of {steps_per_epoch}) in {run_dir}.")

        def stream(step: int) -> tf.data.Dataset:
            data = x.repeat() if finite >= 0 else x
            data = data.skip(step) if step else data
            if multi_worker:  # each worker reads the same stream and keeps its replicas' share of every batch
                options = tf.data.Options()
                options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
                data = data.with_options(options)
            return data

        history = _empty_history()
        epoch0, offset = divmod(start_step, steps_per_epoch)
        if offset:  # finish the interrupted epoch first, then run whole epochs
            part = super().fit(stream(start_step), epochs=epoch0 + 1, initial_epoch=epoch0,
                               steps_per_epoch=steps_per_epoch - offset, callbacks=callbacks, verbose=verbose, **kwargs)
            _merge_history(history, part)
            epoch0 += 1
            if self.stop_training or epoch0 >= epochs:
                return history
        part = super().fit(stream(epoch0 * steps_per_epoch), epochs=epochs, initial_epoch=epoch0,
                           steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=verbose, **kwargs)
        _merge_history(history, part)
        return history

    # -- run directory ------------------------------------------------------------------------------------------
    def write_run_config(self, run_dir: str | os.PathLike, **extra) -> pathlib.Path:
        """Writes ``RUN_DIR/config.json`` (what ``generate``/``translate`` need: the registry ``method``, trainer,
        kind, model description and exported networks, plus ``extra``), keeping keys already there."""
        run_dir = pathlib.Path(run_dir)
        path = run_dir / CONFIG_FILE
        config = read_json(path) if path.exists() else {}
        method = self.method_name()
        config.update({
            **({"method": method} if method else {}),
            "trainer": type(self).__name__,
            "kind": self.kind,
            "model": self.run_config(),
            "generators": {k: f"{EXPORT_DIR}/{k}.keras" for k in self.generators()},
        })
        config.update(extra)
        return write_json_atomic(path, config)

    def export(self, run_dir: str | os.PathLike, *, suffix: str = "") -> dict[str, pathlib.Path]:
        """Saves each generator on its own as ``RUN_DIR/export/NAME{suffix}.keras`` (atomically)."""
        out = {}
        folder = pathlib.Path(run_dir) / EXPORT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for k, net in self.generators().items():
            path = folder / f"{k}{suffix}.keras"
            tmp = path.with_name(f".{path.stem}.tmp.keras")  # removed by run_dir.clean_leftovers after a kill
            try:
                net.save(tmp)
                os.replace(tmp, path)
            except BaseException:  # a full disk: no half-written export left behind
                tmp.unlink(missing_ok=True)
                raise
            out[k] = path
        return out


def replica_rows(draw, local_batch):
    """``draw(n)`` (random values for ``n`` rows) drawn for the whole global batch, and this replica's rows of it.

    Every replica draws from the same (mirrored) generator state, so a plain draw would give each replica the same
    numbers: the second half of a global batch's noise a copy of the first. Drawing ``local_batch * replicas`` rows
    (identical on every replica, the generator advancing identically) and keeping this replica's share gives each
    row the value one device draws for it. One replica: ``draw(local_batch)``, unchanged.

    Example:
    >>> import keras
    >>> seeds = keras.random.SeedGenerator(0)
    >>> tuple(replica_rows(lambda n: keras.random.normal((n, 3), seed=seeds), 2).shape)
    (2, 3)
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return draw(local_batch) if replicas == 1 else this_replica(draw(local_batch * replicas))


def all_replicas(x):
    """The global batch: ``x`` of every replica concatenated along the first axis, replica 0 first (with
    MirroredStrategy, replica ``i`` holds rows ``[i * local, (i + 1) * local)`` of the global batch). Gradients flow
    back to each replica's own rows. One replica: ``x``.

    Example:
    >>> import numpy as np
    >>> all_replicas(np.zeros((2, 3))).shape
    (2, 3)
    """
    if tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return x
    return tf.distribute.get_replica_context().all_gather(x, axis=0)


def this_replica(x):
    """This replica's rows of a global batch ``x`` (its first axis split evenly, replica 0 first): the inverse of
    ``all_replicas``. One replica: ``x``.

    Example:
    >>> import numpy as np
    >>> this_replica(np.arange(4)).tolist()
    [0, 1, 2, 3]
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1:
        return x
    rows = x.shape[0]
    if rows is not None and rows % replicas:
        raise ValueError(f"A global batch of {rows} rows does not split over {replicas} replicas: use a global batch "
                         f"size that is a multiple of {replicas} (and, with half_batch, of {2 * replicas}).")
    local = tf.shape(x)[0] // replicas if rows is None else rows // replicas
    start = tf.distribute.get_replica_context().replica_id_in_sync_group * local
    share = x[start:start + local]
    return share if rows is None else tf.ensure_shape(share, [local, *x.shape[1:]])


def _multi_worker(strategy) -> bool:
    """True under MultiWorkerMirroredStrategy on more than one machine (``TF_CONFIG``): Keras's own test."""
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())


def _kitlib_version() -> str:
    from kitlib import __version__

    return __version__


def _gather_texts(strategy, text: str) -> list[str]:
    """``text`` of every replica of ``strategy`` (replica order), exchanged with two all-gathers (lengths, then the
    UTF-8 bytes padded to the longest)."""
    mine = np.frombuffer(text.encode(), np.uint8).astype(np.int32)

    @tf.function
    def gather(values):
        return strategy.gather(strategy.run(lambda: tf.identity(values)), axis=0)

    lengths = gather(tf.constant([len(mine)], tf.int32)).numpy()
    rows = gather(tf.constant(np.pad(mine, (0, int(lengths.max()) - len(mine)))[None])).numpy()
    return [bytes(row[:n].astype(np.uint8)).decode() for row, n in zip(rows, lengths)]


def _flat(value, prefix: str = "") -> dict:
    if isinstance(value, dict) and value:
        return {k2: v2 for k, v in value.items() for k2, v2 in _flat(v, f"{prefix}.{k}" if prefix else str(k)).items()}
    return {prefix: value}


def _start_together(strategy, start: dict, refused: BaseException | None) -> None:
    """Several machines, before the first step: every worker sends the others what it was started with (``start``:
    kitlib, TensorFlow and Keras versions, model, data, batch size, steps...) and whether it refused to start
    (``refused``: a run directory it cannot resume ...). Then every worker raises the same error when one refused
    (that one its own error) or when a worker differs from the chief, naming the values of both; otherwise returns.
    """
    from kitlib.runtime import cluster_tasks, task_name

    tasks = cluster_tasks()
    mine = json.dumps({"start": start, "refused": None if refused is None else str(refused)}, sort_keys=True,
                      default=str)
    texts = _gather_texts(strategy, mine)
    records = [json.loads(t) for t in texts[:: len(texts) // len(tasks)]]  # each worker's first replica
    names = [task_name(kind, index) for kind, index, _ in tasks]
    if refused is not None:
        raise refused
    for name, record in zip(names, records):
        if record["refused"]:
            raise RuntimeError(f"{name} refused to start, so every worker stops: {record['refused']}")
    chief = _flat(records[0]["start"])
    differences = []
    for name, record in zip(names[1:], records[1:]):
        other = _flat(record["start"])
        differences += [f"{key}: {chief.get(key)!r} on {names[0]} vs {other.get(key)!r} on {name}"
                        for key in sorted(set(chief) | set(other)) if chief.get(key) != other.get(key)]
    if differences:
        shown = "; ".join(differences[:6]) + (" ..." if len(differences) > 6 else "")
        raise RuntimeError(f"The machines of the cluster were not started with the same command and kitlib: "
                           f"{shown}. Nothing was trained or written. Fix: run the chief's command on every machine, "
                           f"with the same kitlib version and the same data at the same path (only TF_CONFIG's task "
                           f"index differs between machines).")


class _StopTogether(keras.callbacks.Callback):
    """Several machines: stops every worker when one asks (each ``TimeBudget`` reads its own clock), after each
    batch and epoch; added last by ``Trainer._fit`` under MultiWorkerMirroredStrategy."""

    def __init__(self, strategy):
        super().__init__()
        self.strategy = strategy

        @tf.function
        def any_worker(flag):
            return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.identity(flag)), axis=None) > 0
        self.any_worker = any_worker

    def _agree(self):
        self.model.stop_training = bool(self.any_worker(tf.constant(float(bool(self.model.stop_training)))))

    def on_train_batch_end(self, batch, logs=None):
        self._agree()

    def on_epoch_end(self, epoch, logs=None):
        self._agree()


class _LockHeartbeat(keras.callbacks.Callback):
    """Refreshes the run directory's lock (``RunLock.refresh``) at most once a minute while training, so another
    machine sharing the folder sees that this run is alive."""

    def __init__(self, lock, every_seconds: float = 60.0):
        super().__init__()
        self.lock, self.every_seconds, self.last = lock, every_seconds, time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self.last >= self.every_seconds:
            self.lock.refresh()
            self.last = time.monotonic()


def _loss_scale(optimizer):
    """The dynamic loss scale of a LossScaleOptimizer (None for plain optimizers)."""
    return getattr(optimizer, "dynamic_scale", None)


def _empty_history() -> keras.callbacks.History:
    history = keras.callbacks.History()
    history.epoch, history.history = [], {}
    return history


def _merge_history(into: keras.callbacks.History, part: keras.callbacks.History) -> None:
    into.epoch.extend(part.epoch)
    for k, values in part.history.items():
        into.history.setdefault(k, []).extend(values)
    into.set_model(part.model)


GANTrainer = Trainer  # the old name, from when every trainer was a GAN; kept for existing subclasses and notebooks
