"""Run profiles, seeding, device detection, precision/XLA policy, distribution strategy and environment checks.

One knob picks how big every run is:

- ``quick``: tests and CI (``KITLIB_QUICK=1`` or ``CI=true``): tiny images, a few steps, embedded data.
- ``demo``: what ``make demo`` runs: sized so learning is visible on the embedded data in minutes on a CPU.
- ``full``: the paper/tutorial recipe, for GPUs.

``KITLIB_PROFILE=quick|demo|full`` overrides; otherwise quick when ``KITLIB_QUICK``/``CI`` is set, else demo.

Example:
>>> from kitlib import runtime
>>> steps = runtime.pick(quick=2, demo=200, full=10_000)
>>> choice = runtime.setup(seed=0)   # seeds everything, sets the precision policy
>>> print(runtime.report())          # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.abc
import importlib.metadata
import importlib.util
import json
import logging
import os
import pathlib
import platform
import random
import re
import shutil
import sys
import tempfile
import warnings
from typing import Any

PROFILES = ("quick", "demo", "full")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
XLA_CHOICES = ("auto", "on", "off")
MIN_KERAS = (3, 13)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


# ------------------------------------------------------------------------------------------------- quiet TF logs

# What TensorFlow's C++ side prints to stderr while it is imported: INFO/WARNING lines (the oneDNN banner, which no
# log level turns off, and the CPU-instructions note) and absl's "before InitializeLog" preamble. Errors still show.
_IMPORT_NOISE = re.compile(
    r"^(?:[IW]\d{4} \d+:\d+:\d+\.\d+\s+\d+ \S+:\d+\] |WARNING: All log messages before absl::InitializeLog\(\)"
    r"|To enable the following instructions: )"
)


@contextlib.contextmanager
def _stderr_filtered(noise: re.Pattern = _IMPORT_NOISE):
    """Sends file descriptor 2 (C++ logs included) to a temporary file, then writes back the lines that are not
    ``noise``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not noise.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``tensorflow`` (once, whoever imports it first) with its start-up log lines filtered out."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self._loader
        with _stderr_filtered():
            self._loader.exec_module(module)
        logging.getLogger("absl").setLevel(logging.ERROR)  # absl's Python warnings (e.g. saving .h5 files)


# Python warnings of the supported stack that say nothing a kitlib user can act on: (message, category, module).
QUIET_WARNINGS = (
    # Keras 3.13 (Colab's) checks `hasattr(np, "object")` when it is imported; NumPy 2.x answers with this warning.
    (r"In the future `np\.object` will be defined as the corresponding NumPy scalar", FutureWarning,
     r"keras\.src\.export\.tf2onnx_lib"),
)
_QUIETED: dict[str, bool] = {}  # what quiet_tensorflow changed in this process, so that verbose() can undo it


def quiet_tensorflow() -> bool:
    """Keeps TensorFlow's C++ log lines (``I0000``/``W0000`` ...) out of notebooks and the CLI; errors still show.

    Called when kitlib is imported; does nothing when ``KITLIB_VERBOSE=1`` (all logs back) or when TensorFlow is
    already imported. Sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless it is set, filters the start-up lines that no log
    level turns off (oneDNN's banner) and ignores the warnings of ``QUIET_WARNINGS``. Returns whether the filter
    was installed. ``verbose()`` (``python -m kitlib --verbose``) undoes it.

    Example:
    >>> quiet_tensorflow() in (True, False)
    True
    """
    if _truthy(os.environ.get("KITLIB_VERBOSE")):
        return False
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        _QUIETED["log_level"] = True
    for message, category, module in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietImport) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, _QuietImport())
    return True


def verbose() -> bool:
    """Brings back everything ``quiet_tensorflow`` hid, for this process and the ones it starts: what
    ``KITLIB_VERBOSE=1`` does, for a process that has already imported kitlib (``python -m kitlib --verbose``).

    Sets ``KITLIB_VERBOSE=1``, removes the ``TF_CPP_MIN_LOG_LEVEL`` that kitlib set (one you set stays), the
    start-up line filter and the ignored warnings. TensorFlow's start-up lines come back only if it is not
    imported yet; returns whether it was not.

    Example:
    >>> import subprocess, sys
    >>> code = "import kitlib, os; kitlib.runtime.verbose(); print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
    >>> env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KITLIB_VERBOSE")}
    >>> subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout
    'None\\n'
    """
    os.environ["KITLIB_VERBOSE"] = "1"
    if _QUIETED.pop("log_level", False):
        os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietImport)]
    for message, category, module in QUIET_WARNINGS:
        warnings.filterwarnings("default", message=message, category=category, module=module)
    return "tensorflow" not in sys.modules


quiet_tensorflow()


def profile() -> str:
    """Returns the active run profile: ``"quick"``, ``"demo"`` or ``"full"``."""
    name = os.environ.get("KITLIB_PROFILE", "").strip().lower()
    if name:
        if name not in PROFILES:
            raise ValueError(f"KITLIB_PROFILE must be one of {PROFILES}. Received: KITLIB_PROFILE={name!r}")
        return name
    if _truthy(os.environ.get("KITLIB_QUICK")) or _truthy(os.environ.get("CI")):
        return "quick"
    return "demo"


def is_quick() -> bool:
    """True in the quick profile (tests, CI)."""
    return profile() == "quick"


def use_profile(name: str) -> str:
    """Makes ``name`` the profile of this process (``pick``, ``profile``, and the ``kitlib`` commands it starts).

    Notebooks call it in their parameters cell, so ``PROFILE = "full"`` there changes every ``pick`` below it.

    Example:
    >>> use_profile("quick")
    'quick'
    >>> pick(quick=2, demo=50, full=200)
    2
    >>> del os.environ["KITLIB_PROFILE"]
    """
    name = (name or "").strip().lower()
    if name not in PROFILES:
        raise ValueError(f"PROFILE must be one of {PROFILES}. Received: PROFILE={name!r}")
    os.environ["KITLIB_PROFILE"] = name
    return name


def pick(*, quick: Any, demo: Any, full: Any = None) -> Any:
    """Returns the value for the active profile (``full`` defaults to ``demo``).

    Example:
    >>> import os; os.environ["KITLIB_PROFILE"] = "quick"
    >>> pick(quick=2, demo=50, full=200)
    2
    >>> del os.environ["KITLIB_PROFILE"]
    """
    return {"quick": quick, "demo": demo, "full": demo if full is None else full}[profile()]


# ------------------------------------------------------------------------------------------------------ run root

KAGGLE_WORKING = "/kaggle/working"
COLAB_DRIVE = "/content/drive"


def run_root(*, drive: bool = False, drive_folder: str = "kitlib/runs", mount_point: str | None = None,
             kaggle_working: str | None = None) -> str:
    """Where notebooks put their run directories: ``runs`` here, ``/kaggle/working/runs`` on Kaggle (kept with the
    notebook's output), and ``MyDrive/kitlib/runs`` on Google Drive with ``drive=True`` (survives a new Colab VM).

    ``drive=True`` mounts Drive at ``mount_point`` (default ``/content/drive``) in Colab (it asks for permission
    once) unless ``MyDrive`` is already there; elsewhere it raises with the fix. ``kaggle_working`` defaults to
    ``/kaggle/working``.

    Example:
    >>> run_root(kaggle_working="/nonexistent")
    'runs'
    """
    mount_point = mount_point or COLAB_DRIVE
    kaggle_working = kaggle_working or KAGGLE_WORKING
    if drive:
        my_drive = pathlib.Path(mount_point) / "MyDrive"
        if not my_drive.is_dir():
            try:
                from google.colab import drive as colab_drive
            except ImportError:
                raise RuntimeError(
                    f"RUN_ROOT on Google Drive needs Colab (google.colab) or Drive mounted at {mount_point}; found "
                    f"neither. Fix: set DRIVE = False (runs go to 'runs/'), or mount Drive there first."
                ) from None
            colab_drive.mount(str(mount_point))
        root = my_drive / drive_folder
        root.mkdir(parents=True, exist_ok=True)
        return str(root)
    if os.path.isdir(kaggle_working):
        return f"{kaggle_working}/runs"
    return "runs"


def online(host: str = "storage.googleapis.com", timeout: float = 3.0) -> bool:
    """Whether this machine can open a connection to ``host`` (where Keras downloads ImageNet weights from): true on
    Colab and on Kaggle with the internet on, false offline.

    Example:
    >>> online("host.invalid", timeout=0.5)
    False
    """
    import socket

    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------------------------------- env


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _parse(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_environment(*, tensorboard: bool = False) -> None:
    """Raises ``RuntimeError`` with the fix when the Python environment cannot run kitlib.

    Checks: ``TF_USE_LEGACY_KERAS=1`` (tf.keras 2 would be used), Keras older than 3.13, tensorflow-metal installed
    next to TensorFlow >= 2.20 (it breaks ``import tensorflow``), and tensorboard missing when TensorBoard logging
    is asked for.
    """
    if _truthy(os.environ.get("TF_USE_LEGACY_KERAS")):
        raise RuntimeError(
            "TF_USE_LEGACY_KERAS=1 is set, so TensorFlow would use Keras 2 (tf_keras); kitlib needs Keras 3. "
            "Fix: unset it (`del os.environ['TF_USE_LEGACY_KERAS']` before importing tensorflow, or restart the runtime)."
        )
    keras_version = _version("keras")
    if keras_version is None or _parse(keras_version) < MIN_KERAS:
        raise RuntimeError(
            f"kitlib needs Keras >= {'.'.join(map(str, MIN_KERAS))}; found keras {keras_version}. "
            "Fix: `pip install -U 'keras>=3.13'` and restart the runtime."
        )
    tf_version = _version("tensorflow") or _version("tensorflow-cpu") or _version("tensorflow-macos")
    metal = _version("tensorflow-metal")
    if metal and tf_version and _parse(tf_version) >= (2, 20):
        raise RuntimeError(
            f"tensorflow-metal {metal} is installed with TensorFlow {tf_version}; tensorflow-metal breaks "
            "`import tensorflow` on TF >= 2.20. Fix: `pip uninstall tensorflow-metal`, or use requirements-metal.txt "
            "(TensorFlow 2.19 + tensorflow-metal 1.2.0, Python <= 3.12) in a separate venv."
        )
    if tensorboard and _version("tensorboard") is None:
        raise RuntimeError("TensorBoard logging was asked for but tensorboard is not installed. Fix: `pip install tensorboard`.")


# -------------------------------------------------------------------------------------------------------- device


@dataclasses.dataclass(frozen=True)
class Device:
    """What this process can compute on.

    Attributes:
        kind: ``"cuda"``, ``"metal"`` or ``"cpu"``.
        names: device names as TensorFlow lists them.
        cpu_bf16: the CPU has fast bfloat16 (AMX or AVX512_BF16).
        cpu_flags: the relevant CPU feature flags found.
        num_gpus: number of GPUs visible to TensorFlow.
    """

    kind: str
    names: tuple[str, ...]
    cpu_bf16: bool
    cpu_flags: tuple[str, ...]
    num_gpus: int


def _cpu_flags() -> tuple[str, ...]:
    wanted = ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return tuple(f for f in wanted if f in flags)
    except OSError:
        pass
    return ()


def detect_device() -> Device:
    """Detects CUDA GPUs, Apple Metal and CPU bfloat16 support."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    flags = _cpu_flags()
    if gpus:
        details = [tf.config.experimental.get_device_details(g) for g in gpus]
        is_metal = sys.platform == "darwin" or any("metal" in str(d).lower() for d in details)
        names = tuple(d.get("device_name", g.name) for d, g in zip(details, gpus))
        return Device("metal" if is_metal else "cuda", names, False, flags, len(gpus))
    return Device("cpu", (platform.processor() or platform.machine(),), any("bf16" in f for f in flags), flags, 0)


def choose_precision(choice: str = "auto", device: Device | None = None) -> tuple[str, str]:
    """Returns ``(policy_name, reason)`` following the measured policy of docs/ARCHITECTURE.md ("Speed and precision").

    bfloat16 on CPUs with AMX/AVX512_BF16 (measured 2.35x on a CycleGAN step), mixed_float16 on CUDA, float32 on
    Metal and on CPUs without fast bfloat16. ``choice`` other than ``"auto"`` is used as given.
    """
    if choice not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}. Received: precision={choice!r}")
    if choice != "auto":
        return choice, "asked for explicitly"
    device = device or detect_device()
    if device.kind == "cuda":
        return "mixed_float16", "CUDA GPU: float16 tensor cores (with loss scaling)"
    if device.kind == "metal":
        return "float32", "Apple Metal: mixed precision is not reliably faster there"
    if device.cpu_bf16:
        return "mixed_bfloat16", f"CPU with fast bfloat16 ({', '.join(f for f in device.cpu_flags if 'bf16' in f)})"
    return "float32", "CPU without bfloat16 instructions"


def choose_xla(choice: str = "auto", device: Device | None = None) -> tuple[bool, str]:
    """Returns ``(use_xla, reason)``: never on CPU by default (measured slower), on for CUDA when ``auto``."""
    if choice not in XLA_CHOICES:
        raise ValueError(f"xla must be one of {XLA_CHOICES}. Received: xla={choice!r}")
    if choice != "auto":
        return choice == "on", "asked for explicitly"
    device = device or detect_device()
    if device.kind == "cuda":
        return True, "CUDA GPU: XLA fuses the many small ops of GAN steps"
    return False, f"{device.kind.upper()}: XLA measured slower than eager kernels here (docs/ARCHITECTURE.md)"


_MULTI_WORKER: list = []  # the process's MultiWorkerMirroredStrategy (TensorFlow allows one)
_MIRRORED: dict = {}  # the process's MirroredStrategy over these devices (see strategy())
_WORKER_DIRS: set[str] = set()  # the temporary run directories of worker_run_dir, open now


def cluster_task() -> tuple[str, int] | None:
    """This process's place in a cluster of machines: ``(task type, index)`` from ``TF_CONFIG``, e.g.
    ``("worker", 1)``; None without ``TF_CONFIG``.

    Example:
    >>> os.environ["TF_CONFIG"] = '{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 1}}'
    >>> cluster_task(), is_chief()
    (('worker', 1), False)
    >>> del os.environ["TF_CONFIG"]
    >>> cluster_task(), is_chief()
    (None, True)
    """
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    example = '{"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}'
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        task_type, index = str(task["type"]), int(task.get("index", 0))
        hosts = cluster[task_type]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"TF_CONFIG must be JSON naming the cluster and this machine's task, e.g. {example}. "
                         f"Received: TF_CONFIG={text!r}") from None
    unknown = sorted(set(cluster) - {"chief", "worker"})
    if unknown or task_type not in ("chief", "worker") or not 0 <= index < len(hosts):
        raise ValueError(f"TF_CONFIG: kitlib trains on a cluster of 'chief'/'worker' tasks (MultiWorkerMirrored"
                         f"Strategy), and task.index must name one of the {len(hosts)} {task_type!r} hosts. "
                         f"Received: TF_CONFIG={text!r}")
    return task_type, index


def is_chief() -> bool:
    """Whether this process writes the run directory: always without ``TF_CONFIG``; in a cluster, the ``chief``
    task, or ``worker`` 0 when there is no chief (TensorFlow's rule)."""
    task = cluster_task()
    if task is None:
        return True
    cluster = json.loads(os.environ["TF_CONFIG"])["cluster"]
    return task[0] == "chief" or (task == ("worker", 0) and "chief" not in cluster)


def cluster_tasks() -> list[tuple[str, int, str]]:
    """The tasks of ``TF_CONFIG``'s cluster as ``(task type, index, "host:port")``, in TensorFlow's replica order
    (the chief first, then the workers); ``[]`` without ``TF_CONFIG``.

    Example:
    >>> os.environ["TF_CONFIG"] = '{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 1}}'
    >>> cluster_tasks()
    [('worker', 0, 'a:2222'), ('worker', 1, 'b:2222')]
    >>> del os.environ["TF_CONFIG"]
    """
    if cluster_task() is None:
        return []
    cluster = json.loads(os.environ["TF_CONFIG"])["cluster"]
    return [(kind, i, host) for kind in ("chief", "worker") for i, host in enumerate(cluster.get(kind, []))]


def task_name(task_type: str, index: int) -> str:
    """``"worker 1 (10.0.0.2:12345)"``: a task of ``TF_CONFIG``'s cluster as messages name it.

    Example:
    >>> os.environ["TF_CONFIG"] = '{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 1}}'
    >>> task_name("worker", 0)
    'worker 0 (a:2222)'
    >>> del os.environ["TF_CONFIG"]
    """
    hosts = {(kind, i): host for kind, i, host in cluster_tasks()}
    return f"{task_type} {index} ({hosts.get((task_type, index), 'not in TF_CONFIG')})"


# What a lost peer looks like in TensorFlow's error (measured on TF 2.20 and 2.21): a killed peer closes its
# sockets ("Socket closed" from /job:worker/replica:0/task:0), a frozen or unreachable one stops its heartbeats
# (the coordination service names it: "tasks are unhealthy (stopped sending heartbeats): /job:worker/replica:0/task:1"),
# and an unreachable coordination service leader (the chief) times out our heartbeat RPC.
_PEER = re.compile(r"/job:(chief|worker)/(?:replica:\d+/)?task:(\d+)")
PEER_LOST_SECONDS = 60  # the bound README states; TensorFlow's heartbeat timeout is 10 s (measured 1 to 11 s)


def lost_worker(error: BaseException) -> str | None:
    """The message for ``error`` when it says that a machine of the cluster is gone (killed, frozen, unreachable):
    which task was lost and how to resume; None for any other error, or without ``TF_CONFIG``.

    TensorFlow's coordination service (on the chief) expects a heartbeat from every task; a task silent for 10 s,
    or a closed connection, aborts every collective of the others with ``UnavailableError`` (or
    ``DeadlineExceededError`` when the chief itself is unreachable), so no worker waits forever.

    Example:
    >>> os.environ["TF_CONFIG"] = '{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 0}}'
    >>> import tensorflow as tf
    >>> print(lost_worker(tf.errors.UnavailableError(None, None, "Collective ops is aborted by: The following "
    ...       "tasks are unhealthy (stopped sending heartbeats):\\n/job:worker/replica:0/task:1")))  # doctest: +ELLIPSIS
    Lost worker 1 (b:2222) of the cluster: ...
    >>> del os.environ["TF_CONFIG"]
    """
    me = cluster_task()
    if me is None:
        return None
    import tensorflow as tf

    if not isinstance(error, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
                                            tf.errors.CancelledError, tf.errors.AbortedError)):
        return None
    text = str(error)
    named = [(kind, int(i)) for kind, i in _PEER.findall(text.split("unhealthy", 1)[-1])]
    lost = [task for task in dict.fromkeys(named) if task != me]
    if not lost:  # our heartbeat to the coordination service (on the chief) timed out: the chief is gone
        lost = [next((kind, i) for kind, i, _ in cluster_tasks())]
    first_line = next((line.strip() for line in text.splitlines() if "aborted by" in line or "Error" in line),
                      text.strip().splitlines()[0] if text.strip() else type(error).__name__)
    return (f"Lost {', '.join(task_name(*task) for task in lost)} of the cluster: it stopped answering (killed, "
            f"frozen or unreachable), so {task_name(*me)} stopped too (TensorFlow: {first_line[:200]}). The chief's "
            f"run directory keeps its last checkpoint. Fix: restart the lost machine, then run the same command on "
            f"every machine: it resumes exactly from that checkpoint.")


@contextlib.contextmanager
def worker_run_dir(run_dir):
    """Yields where this process writes a run: ``run_dir`` on the chief; on the other workers of a cluster, a new
    temporary folder, deleted on exit (they run the same steps, checkpoints and exports included, but only the
    chief's run directory is kept, and no worker touches it). Nested calls yield the same folder.

    Example:
    >>> with worker_run_dir("runs/cyclegan") as out:   # no TF_CONFIG: this process is the chief
    ...     print(out)
    runs/cyclegan
    """
    if is_chief() or os.fspath(run_dir) in _WORKER_DIRS:
        yield run_dir
        return
    task_type, index = cluster_task()
    scratch = tempfile.mkdtemp(prefix=f"kitlib-{task_type}{index}-")
    _WORKER_DIRS.add(scratch)
    try:
        yield scratch
    finally:
        _WORKER_DIRS.discard(scratch)
        shutil.rmtree(scratch, ignore_errors=True)


def strategy():
    """Returns a ``tf.distribute`` strategy: MultiWorkerMirrored when ``TF_CONFIG`` is set (several machines, see
    ``cluster_task``; one instance per process, made before any other TensorFlow work), Mirrored over the GPUs when
    there are several (Kaggle's 2x T4), Mirrored over the logical CPUs when several were configured (how the tests
    run the same data-parallel code path on a CPU), else the default strategy; the same instance on every call.
    Build models and call ``compile`` inside ``with strategy.scope():`` and feed global batches of a multiple of
    ``strategy.num_replicas_in_sync``.

    Example:
    >>> strategy().num_replicas_in_sync >= 1   # doctest: +SKIP
    True
    """
    import tensorflow as tf

    if cluster_task() is not None:  # one per process: it configures TensorFlow's collective ops for the cluster
        if not _MULTI_WORKER:
            _MULTI_WORKER.append(tf.distribute.MultiWorkerMirroredStrategy())
        return _MULTI_WORKER[0]
    # One MirroredStrategy per process too: each new instance numbers its collective operations from the start
    # again, so a second model trained in the same process (a re-run notebook cell, a loop over models) could meet
    # the first one's collectives and fail with "Shape mismatch in the collective instance" (measured here).
    devices = None
    if len(tf.config.list_physical_devices("GPU")) > 1:
        devices = tuple(d.name for d in tf.config.list_logical_devices("GPU"))
    elif not tf.config.list_physical_devices("GPU") and len(tf.config.list_logical_devices("CPU")) > 1:
        devices = tuple(d.name for d in tf.config.list_logical_devices("CPU"))
    if devices is None:
        return tf.distribute.get_strategy()
    if devices not in _MIRRORED:
        _MIRRORED[devices] = tf.distribute.MirroredStrategy(list(devices))
    return _MIRRORED[devices]


# --------------------------------------------------------------------------------------------------------- setup


@dataclasses.dataclass(frozen=True)
class RuntimeChoice:
    """What ``setup`` chose and why (shown by ``report``)."""

    profile: str
    seed: int
    deterministic: bool
    device: Device
    precision: str
    precision_reason: str
    xla: bool
    xla_reason: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_LAST_CHOICE: list[RuntimeChoice] = []  # the most recent setup() result, for report()


def setup(seed: int = 0, *, deterministic: bool = False, precision: str = "auto", xla: str = "auto") -> RuntimeChoice:
    """Seeds Python/NumPy/TF/Keras, optionally enables op determinism, and sets the Keras precision policy.

    Args:
        seed: seed for every random generator.
        deterministic: make TF ops deterministic (bit-exact reruns and exact resume on CPU; a little slower).
        precision: ``"auto"`` (the measured policy, docs/ARCHITECTURE.md) or a Keras policy name.
        xla: ``"auto"``, ``"on"`` or ``"off"``: whether trainers compile their steps with XLA (``jit_compile``).

    Returns:
        A ``RuntimeChoice`` (also kept for ``report()``).
    """
    check_environment()
    import keras
    import numpy as np
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    device = detect_device()
    policy, policy_reason = choose_precision(precision, device)
    use_xla, xla_reason = choose_xla(xla, device)
    keras.mixed_precision.set_global_policy(policy)
    choice = RuntimeChoice(profile(), seed, deterministic, device, policy, policy_reason, use_xla, xla_reason)
    _LAST_CHOICE[:] = [choice]
    return choice


def last_choice() -> RuntimeChoice | None:
    """The result of the latest ``setup`` call in this process, if any."""
    return _LAST_CHOICE[0] if _LAST_CHOICE else None


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages kitlib depends on."""
    from kitlib import __version__

    names = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "tensorflow-datasets", "tensorboard", "tensorflow-metal")
    found = {name: _version(name) for name in names}
    return {"python": platform.python_version(), "kitlib": __version__, **{k: v for k, v in found.items() if v}}


def report(as_json: bool = False) -> str:
    """Returns a human-readable (or JSON) report: versions, devices, profile, precision and XLA with reasons."""
    choice = last_choice()
    device = choice.device if choice else detect_device()
    precision, precision_reason = (choice.precision, choice.precision_reason) if choice else choose_precision("auto", device)
    use_xla, xla_reason = (choice.xla, choice.xla_reason) if choice else choose_xla("auto", device)
    strat = strategy()
    info = {
        "versions": versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu_count": os.cpu_count(),
        "profile": profile(),
        "device": dataclasses.asdict(device),
        "precision": precision,
        "precision_reason": precision_reason,
        "xla": use_xla,
        "xla_reason": xla_reason,
        "strategy": f"{type(strat).__name__} ({strat.num_replicas_in_sync} replica(s))",
        "seed": choice.seed if choice else None,
        "deterministic": choice.deterministic if choice else False,
    }
    if as_json:
        return json.dumps(info, indent=2, default=str)
    lines = ["kitlib runtime report"]
    lines += [f"  {k:<20} {v}" for k, v in info["versions"].items()]
    lines += [
        f"  {'platform':<20} {info['platform']} ({info['cpu_count']} CPU cores)",
        f"  {'device':<20} {device.kind}: {', '.join(device.names)}"
        + (f" [cpu flags: {', '.join(device.cpu_flags)}]" if device.cpu_flags else ""),
        f"  {'profile':<20} {info['profile']}",
        f"  {'precision':<20} {precision} ({precision_reason})",
        f"  {'xla':<20} {'on' if use_xla else 'off'} ({xla_reason})",
        f"  {'strategy':<20} {info['strategy']}",
    ]
    if choice:
        lines.append(f"  {'seed':<20} {choice.seed} (deterministic ops: {choice.deterministic})")
    return "\n".join(lines)
