"""Subprocess for tests/test_fault_injection.py: ``python -m kitlib train ...`` that SIGKILLs itself at one phase.

Usage: python tests/fault_worker.py PHASE STEP -- train MODEL ARGS...

PHASE (STEP is the trainer's global step):
  step           when step STEP starts (mid-epoch: nothing of the epoch is saved yet)
  checkpoint     while writing the checkpoint of step STEP: TensorFlow wrote its ``ckpt-STEP_temp`` files but has
                 not merged them into ``ckpt-STEP``
  before-export  after the checkpoint of step STEP, before its generators are exported
  export         during the export of step STEP: ``export/.generator.tmp.keras`` is written, not yet renamed
"""

import os
import signal
import sys


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def main(phase: str, step: int, argv: list[str]) -> int:
    from tensorflow.python.ops import gen_io_ops

    from kitlib import cli
    from kitlib.train import base, callbacks

    if phase == "step":
        def on_train_batch_begin(self, batch, logs=None):
            if int(self.model.global_step.numpy()) == step - 1:
                _die()

        callbacks.StepCounter.on_train_batch_begin = on_train_batch_begin
    elif phase == "checkpoint":
        merge = gen_io_ops.merge_v2_checkpoints

        def merge_v2_checkpoints(prefixes, destination, *args, **kwargs):
            if str(destination.numpy().decode() if hasattr(destination, "numpy") else destination).endswith(f"-{step}"):
                _die()
            return merge(prefixes, destination, *args, **kwargs)

        gen_io_ops.merge_v2_checkpoints = merge_v2_checkpoints
    elif phase in ("before-export", "export"):
        export, replace = base.GANTrainer.export, os.replace

        def exporting(self, *args, **kwargs):
            if int(self.global_step.numpy()) == step:
                if phase == "before-export":
                    _die()
                os.replace = lambda src, dst: _die() if str(dst).endswith(".keras") else replace(src, dst)
            return export(self, *args, **kwargs)

        base.GANTrainer.export = exporting
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    return cli.main(argv)


if __name__ == "__main__":
    split = sys.argv.index("--")
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[split + 1:]))
