"""``python -m kitlib VERB ...``: headless runs.

Verbs:
  info                                   runtime report (versions, device, precision/XLA choice and why)
  demo [--profile demo] [--out DIR]      run every notebook headless and write a gallery page
  train MODEL --data PATH --out RUN_DIR  train a model from the command line (see `train --help` for models)
  generate RUN_DIR --n N --out DIR       unconditional models: write N images, one PNG each
  translate RUN_DIR --input DIR --out DIR  image-to-image models: translate every image of DIR (none skipped)
  bench MODEL ...                        throughput benchmark (images/s, precision, XLA, peak memory)
  data list | data fetch NAME [--out DIR]  the real datasets kitlib knows by name (`train --data NAME` fetches too)
  runs [ROOT] [--prune [--yes]]          run directories: size, method, steps, status; --prune frees old exports

--verbose (before or after the verb) shows TensorFlow's log lines and warnings, which kitlib hides by default.
`train MODEL` (every model) trains on several machines: set TF_CONFIG on each and run the same command (README,
"More than one machine"); only the chief writes RUN_DIR, a lost machine stops the others within a minute.

Example:
    python -m kitlib train dcgan --data toy:faces --out runs/dcgan --epochs 5
    python -m kitlib generate runs/dcgan --n 100 --out generated/
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import inspect
import json
import os
import pathlib
import shutil
import sys
import tempfile


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a count, a size, a number of steps)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1. Received: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (leave it out for the default). Received: {value}")
    return value


@contextlib.contextmanager
def _staged_output(out: pathlib.Path, names: list[str], *, overwrite: bool, source: pathlib.Path | None = None):
    """Yields a hidden folder inside ``out`` to write ``names`` into; on success they are moved to ``out``, on an
    error the folder (and ``out``, when this call created it) is removed: ``out`` never holds a partial result.

    Refuses ``out`` inside ``source`` (the input folder) and existing files unless ``overwrite``.
    """
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder. Pass a folder path (kitlib creates it).")
    if source is not None and (out.resolve() == source.resolve() or source.resolve() in out.resolve().parents):
        raise ValueError(f"--out {out} is inside --input {source}: kitlib never writes into the input folder. "
                         "Pass another --out.")
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise ValueError(f"--out {out} already holds {len(existing)} of the {len(names)} output files (e.g. "
                         f"{existing[0]}). Pass --overwrite to replace them, or another --out.")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(".kitlib-partial-*"):  # left by a killed generate/translate (pid in the name)
        if not _process_alive(int(old.name.split("-")[2])):
            shutil.rmtree(old, ignore_errors=True)
    staging = pathlib.Path(tempfile.mkdtemp(dir=out, prefix=f".kitlib-partial-{os.getpid()}-"))
    try:
        yield staging
        for name in names:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, out / name)
    except BaseException:
        shutil.rmtree(out if created else staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _output_names(files: list[pathlib.Path], root: pathlib.Path) -> list[str]:
    """One distinct ``.png`` name per input, keeping sub-folders: ``x.png`` for ``x.jpg``, but ``x.jpg.png`` and
    ``x.png.png`` when ``x.jpg`` and ``x.png`` sit in one folder (never two inputs onto one output)."""
    stems = collections.Counter((p.parent, p.stem.lower()) for p in files)
    names, used = [], set()
    for path in files:
        rel = path.relative_to(root)
        name = rel.with_suffix(".png") if stems[(path.parent, path.stem.lower())] == 1 else rel.with_name(rel.name + ".png")
        candidate, n = name, 1
        while candidate.as_posix().lower() in used:
            n += 1
            candidate = name.with_name(f"{name.stem}_{n}.png")
        used.add(candidate.as_posix().lower())
        names.append(candidate.as_posix())
    return names


# registry key -> the `train` option that sets it
TRAIN_OPTIONS = {"image_size": "--image-size", "batch_size": "--batch-size", "epochs": "--epochs", "loss": "--loss",
                 "num_images": "--limit", "variant": "--variant", "unet": "--variant"}


def train_defaults(model: str, setup: str | None = None) -> dict:
    """What ``train MODEL`` uses for what the command line leaves out, under the active profile: the registry's
    defaults (the notebook's parameters cell), except where the recipe declares its own keyword default.

    Example:
    >>> train_defaults("dcgan")["variant"], train_defaults("pix2pix")["loss"]
    ('radford', 'l1+cgan')
    """
    from kitlib import methods, recipes

    values = methods.get(model).defaults(setup=setup)
    params = inspect.signature(recipes.recipe(model)).parameters
    for key in values:
        if key in params and params[key].default not in (None, inspect.Parameter.empty):
            values[key] = params[key].default
    return values


def _train_defaults_text(model: str) -> str:
    """The defaults block of ``train MODEL --help``: one ``key = value`` line per registry default."""
    from kitlib import methods, runtime

    method = methods.get(model)
    lines = [f"\n{model}: {method.title}"]
    if method.losses:
        lines.append(f"--loss: {' | '.join(method.losses)}")
    for setup in (None, *method.setups):
        source = f"the parameters cell of notebooks/{method.notebook}.ipynb" if setup is None else "chosen by --data"
        lines.append(f"defaults for the {runtime.profile()} profile{'' if setup is None else f', setup {setup!r}'} "
                     f"(KITLIB_PROFILE=quick|demo|full; {source}):")
        registry = method.defaults(setup=setup)
        for key, value in train_defaults(model, setup).items():
            note = [TRAIN_OPTIONS[key]] if key in TRAIN_OPTIONS else []
            if value != registry[key]:
                note.append(f"the recipe's own default; the notebook's: {registry[key]!r}")
            lines.append(f"  {key} = {value!r}" + (f"  ({'; '.join(note)})" if note else ""))
    return "\n".join(lines) + "\n"


class _TrainHelp(argparse.Action):
    """``-h/--help`` of ``train``: the usual help, then the defaults of the model named before it."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        model = getattr(namespace, "model", None)
        extra = _train_defaults_text(model) if model else "\nRun `train MODEL --help` for a model's defaults.\n"
        parser._print_message(parser.format_help() + extra, sys.stdout)
        parser.exit()


def _cmd_info(args) -> int:
    from kitlib import runtime

    if args.setup:
        runtime.setup()
    print(runtime.report(as_json=args.json))
    return 0


def _cmd_demo(args) -> int:
    import json as _json

    from kitlib.demo import run_demo

    index = run_demo(profile=args.profile, out=args.out, notebooks=args.notebooks, only=args.only)
    results = _json.loads((index.parent / "results.json").read_text())
    failed = [r["name"] for r in results if r["status"] != "ok"]
    if args.record_times:
        from kitlib import profile_times

        table = profile_times.record(results, args.profile)
        print(f"Recorded the {args.profile} time of {len(results) - len(failed)} notebook(s) in {table}")
    print(f"\nGallery: {index.resolve()}\n  open it with: python -m webbrowser file://{index.resolve()}")
    if failed:
        print(f"Failed notebooks: {', '.join(failed)} (see the executed copies in {index.parent})")
        return 1
    return 0


def _cmd_train(args) -> int:
    from kitlib import methods, recipes, runtime
    from kitlib.train.checkpoint import KEEP_EPOCHS_ENV, KeepEpochs

    if args.keep_epochs is not None:  # every recipe's fit reads the policy from the environment
        KeepEpochs.parse(args.keep_epochs)  # a typo is refused before anything trains
        os.environ[KEEP_EPOCHS_ENV] = args.keep_epochs

    if runtime.cluster_task() is not None:  # every recipe trains data-parallel under runtime.strategy()
        runtime.strategy()  # MultiWorkerMirroredStrategy: before any other TensorFlow work, as TensorFlow requires
    extra = {}
    if args.loss is not None:
        losses = methods.get(args.model).losses
        if not losses:
            raise SystemExit(f"train {args.model} has no --loss option (its losses are fixed by the paper's recipe). "
                             f"Received: --loss {args.loss}")
        if args.loss not in losses:
            raise SystemExit(f"train {args.model} --loss must be one of {', '.join(losses)}. Received: --loss {args.loss}")
        extra["loss"] = args.loss
    if args.variant is not None:
        if "variant" not in inspect.signature(recipes.recipe(args.model)).parameters:
            raise SystemExit(f"train {args.model} has no --variant option (one network per model). "
                             f"Received: --variant {args.variant}")
        extra["variant"] = args.variant
    if args.load_size is not None:
        if "load_size" not in inspect.signature(recipes.recipe(args.model)).parameters:
            raise SystemExit(f"train {args.model} has no --load-size option (only cyclegan trains on windows). "
                             f"Received: --load-size {args.load_size}")
        extra["load_size"] = args.load_size
    from kitlib.data.datasets import resolve_cli
    from kitlib.train.checkpoint import RunMismatchError

    data = resolve_cli(args.data)  # a catalogue name: fetched, verified and cached first; its training split
    try:
        with runtime.worker_run_dir(args.out) as out:  # a worker other than the chief: a temporary folder
            recipes.train(args.model, data=data, out=out, epochs=args.epochs, batch_size=args.batch_size,
                          image_size=args.image_size, seed=args.seed, precision=args.precision, limit=args.limit,
                          resume=not args.no_resume, minutes=args.minutes, **extra)
    except RunMismatchError as err:
        raise err.with_fix("pass another --out for a new run, or --no-resume to start over (the old run is moved "
                           "aside, not deleted).") from None
    except KeyboardInterrupt:
        print(f"Interrupted. Rerun the same command to continue {args.out} from its last checkpoint.",
              file=sys.stderr)
        return 130
    except Exception as err:  # a machine of the cluster lost: TensorFlow's error becomes one line naming it
        lost = runtime.lost_worker(err)
        if lost is None:
            raise
        raise RuntimeError(lost) from None
    if runtime.is_chief():
        print(f"Run directory: {args.out}")
    else:
        task_type, index = runtime.cluster_task()
        print(f"Trained as {task_type} {index} of the cluster; the chief wrote the run directory.")
    return 0


def _cmd_data(args) -> int:
    from kitlib.data import datasets

    if args.action == "list":
        print(datasets.describe())
        return 0
    if args.name is None:
        raise ValueError(f"data fetch needs a dataset name: one of {', '.join(sorted(datasets.CATALOGUE))}.")
    folder = datasets.fetch(args.name, args.out, source=args.source, check=True)
    counts = ", ".join(f"{k} {v:,}" for k, v in datasets.get(args.name).counts.items())
    print(f"{args.name}: {counts} files, verified against the manifest, in {folder}")
    return 0


def _load_generator(run_dir: pathlib.Path, name: str | None):
    """``(config, method, network)``: the run's config.json, its registry entry and an exported network, loaded
    with the entry's custom layers."""
    import keras

    from kitlib import methods
    from kitlib.train.checkpoint import load_generator, read_run_config

    config = read_run_config(run_dir)
    method = methods.for_run(config)
    with keras.saving.custom_object_scope(method.custom_objects()):
        return config, method, load_generator(run_dir, name=name)


def _cmd_generate(args) -> int:
    import keras
    import numpy as np
    from PIL import Image

    from kitlib.images import to_uint8

    run_dir = pathlib.Path(args.run_dir)
    config, method, generator = _load_generator(run_dir, args.generator)
    if method.kind != "unconditional":
        raise ValueError(f"{run_dir} holds an image-to-image model ({method.name}): use "
                         f"`python -m kitlib translate {run_dir} --input DIR --out DIR`.")
    out = pathlib.Path(args.out)
    rng = np.random.default_rng(args.seed)

    def sample(n):  # one seed per batch, drawn from --seed
        return method.infer(generator, n, **method.run_options(config, steps=args.steps,
                                                               seed=int(rng.integers(2**31))))
    names = [f"{i:06d}.png" for i in range(args.n)]
    with _staged_output(out, names, overwrite=args.overwrite) as staging:
        for start in range(0, args.n, args.batch_size):
            images = to_uint8(keras.ops.convert_to_numpy(sample(min(args.batch_size, args.n - start))))
            for i, img in enumerate(images):
                Image.fromarray(img).save(staging / names[start + i])
    print(f"Wrote {len(names)} images to {out.resolve()}")
    return 0


def _cmd_translate(args) -> int:
    import keras
    import numpy as np
    from PIL import Image

    from kitlib.images import to_float, to_uint8

    run_dir = pathlib.Path(args.run_dir)
    config, method, generator = _load_generator(run_dir, args.generator)
    if method.kind != "translation":
        raise ValueError(f"{run_dir} holds an unconditional model ({method.name}): use "
                         f"`python -m kitlib generate {run_dir} --n N --out DIR`.")
    if method.inputs == "label_maps":  # GauGAN: label maps (class ids, or colours of the run's palette) -> images
        from kitlib.data.labels import LABEL_EXTENSIONS, read_label_map
        from kitlib.infer.spade import synthesize_folder

        root, palette = pathlib.Path(args.input), config["model"].get("palette")
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in LABEL_EXTENSIONS)
        for path in files:  # every map is read before anything is written
            try:
                read_label_map(path, palette)
            except (OSError, ValueError) as err:
                raise ValueError(f"Label map {path} cannot be used ({err}). Fix or remove it; nothing was written.") from None
        names = [p.relative_to(root).with_suffix(".png").as_posix() for p in files]
        clash = [n for n, c in collections.Counter(names).items() if c > 1]
        if clash:
            raise ValueError(f"Two label maps in {root} would both become {clash[0]} (same name, another extension). "
                             "Rename one; nothing was written.")
        with _staged_output(pathlib.Path(args.out), names, overwrite=args.overwrite, source=root) as staging:
            written = synthesize_folder(generator, root, staging, palette=palette, seed=args.seed,
                                        keep_size=args.keep_size)
        print(f"Synthesized {len(written)} images from the label maps in {args.input} into "
              f"{pathlib.Path(args.out).resolve()}")
        return 0
    from kitlib.data.folders import pil_to_rgb, scan_images

    architecture = config.get("model", {}).get("architecture") if isinstance(config.get("model"), dict) else None
    if config.get("load_size") and architecture:  # trained on windows (--load-size): translate whole images
        from kitlib.train.cyclegan import build_generator

        whole = build_generator(architecture, generator.name, image_size=config["load_size"])
        whole.set_weights(generator.get_weights())
        generator = whole
    size = int(generator.inputs[0].shape[1])
    options = method.run_options(config, steps=args.steps, seed=args.seed)
    if "seed" in inspect.signature(method.infer).parameters:  # pix2pix's test-time dropout, diffusion's noise
        options.setdefault("seed", args.seed)

    def apply(x):
        return method.infer(generator, x, **options)
    report = scan_images(args.input)
    if not report.good:
        raise ValueError(f"No readable images in {args.input}: {report.summary()}")
    out, root = pathlib.Path(args.out), pathlib.Path(args.input)
    names = _output_names(report.good, root)
    with _staged_output(out, names, overwrite=args.overwrite, source=root) as staging:
        for path, name in zip(report.good, names):
            with Image.open(path) as img:  # the training pipelines' decoder: alpha on white, 16-bit scaled
                img.seek(0)
                original = Image.fromarray(pil_to_rgb(img))
            x = to_float(np.asarray(original.resize((size, size), Image.BICUBIC))[None])
            result = Image.fromarray(to_uint8(keras.ops.convert_to_numpy(apply(x)))[0])
            if args.keep_size:
                result = result.resize(original.size, Image.BICUBIC)
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            result.save(staging / name)
    print(f"Translated {len(report.good)} of {len(report.good) + report.num_skipped} images into {out.resolve()}.")
    left_out = [(path, reason) for reason, paths in report.skipped.items() for path in paths]
    left_out += [(path, "folder cannot be listed (permission denied)") for path in report.unreadable]
    if left_out:
        print(f"error: {len(left_out)} input(s) of {args.input} were not translated:\n"
              + "\n".join(f"  {path.relative_to(root)}: {reason}" for path, reason in left_out)
              + "\nFix or remove them and rerun with --overwrite (or into another --out).", file=sys.stderr)
        return 1
    return 0


def _cmd_runs(args) -> int:
    from kitlib.runs import list_runs
    from kitlib.runtime import run_root
    from kitlib.train.checkpoint import KeepEpochs

    if args.yes and not args.prune:
        raise ValueError("--yes confirms --prune: pass both (runs ROOT --prune --yes).")
    keep = KeepEpochs.parse(args.keep) if args.prune else None
    print(list_runs(args.root or run_root(), prune_keep=keep, apply=args.yes))
    return 0


def _cmd_bench_quality(args) -> int:
    from kitlib import quality

    if args.table:
        lines = quality.read(args.table, args.method)
        if not lines:
            raise ValueError(f"{args.table} holds no results" + (f" for {args.method}" if args.method else ""))
        print(quality.table(lines))
        return 0
    if args.rescore:
        import pathlib

        manifests = sorted(pathlib.Path(args.out).glob(f"{args.method or '*'}/*/{quality.MANIFEST_FILE}"))
        if not manifests:
            raise FileNotFoundError(f"No trained systems to score under {args.out} "
                                    f"(looked for METHOD/SYSTEM/{quality.MANIFEST_FILE})")
        for manifest in manifests:
            print(f"scoring {manifest.parent} ...", flush=True)
            quality.score_run(manifest.parent, args.out)
        print(quality.table(quality.read(pathlib.Path(args.out) / quality.RESULTS_FILE, args.method)))
        return 0
    if args.method is None or args.data is None:
        raise ValueError("bench quality needs METHOD and --data, e.g. python -m kitlib bench quality dcgan "
                         "--data data_real/anime_faces --minutes 2,5,10,20 --anchor all")
    budgets = quality.parse_minutes(args.minutes)
    if args.system:  # one system, in this process (what the orchestrator starts)
        for line in quality.run_system(args.method, args.system, args.data, budgets, args.out, seed=args.seed,
                                       options=quality.parse_options(args.set)):
            print(json.dumps(line), flush=True)
        return 0
    quality.run(args.method, args.data, budgets, args.out, anchors=args.anchor, jobs=args.jobs, seed=args.seed,
                kitlib=not args.anchors_only and not args.set, variants=[args.set] if args.set else ())
    return 0


def _cmd_bench(args) -> int:
    from kitlib import bench

    if args.model == "quality":
        return _cmd_bench_quality(args)
    if args.model == "replicas":
        from kitlib import bench_replicas

        results = bench_replicas.replicas(args.method.split(",") if args.method else None, profile=args.profile,
                                          steps=args.steps or 10)
        print("\n".join(map(json.dumps, results)) if args.json else bench_replicas.format_replicas(results))
        return 0
    if args.method is not None:
        raise ValueError(f"bench {args.model} takes no second name (only bench quality METHOD does). "
                         f"Received: {args.method!r}")

    names = sorted(bench.MODELS) if args.model == "all" else [args.model]
    for name in names:
        result = bench.run(name, image_size=args.image_size, batch_size=args.batch_size, steps=args.steps,
                           precision=args.precision, xla=args.xla, baseline=args.baseline)
        print(json.dumps(result) if args.json else bench.format_result(result), flush=True)
    if args.model == "all" and not args.json and bench.unbenched():
        print(f"no benchmark yet for: {', '.join(bench.unbenched())}")
    return 0


VERBOSE_HELP = "show TensorFlow's log lines and warnings (hidden by default; same as KITLIB_VERBOSE=1)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kitlib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = _VerboseSubparsers(parser.add_subparsers(dest="verb", required=True))

    p = sub.add_parser("info", help="runtime report")
    p.add_argument("--json", action="store_true")
    p.add_argument("--setup", action="store_true", help="apply runtime.setup() first (sets the precision policy)")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("demo", help="run the notebooks headless and write a gallery")
    p.add_argument("--profile", default="demo", choices=("quick", "demo", "full"))
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--notebooks", default="notebooks")
    p.add_argument("--only", nargs="*", help="notebook prefixes or names, e.g. 00 01")
    p.add_argument("--record-times", action="store_true",
                   help="write each notebook's wall time for this profile and machine into kitlib/profile_times.json, "
                        "the table the parameters cells print")
    p.set_defaults(func=_cmd_demo)

    from kitlib.recipes import trainable

    p = sub.add_parser("train", help="train a model headless", add_help=False)
    p.add_argument("-h", "--help", action=_TrainHelp, help="show this help and, after MODEL, its defaults")
    p.add_argument("model", choices=trainable())
    p.add_argument("--data", default=None, help="image folder, toy:FAMILY for embedded data (default: toy data), or a "
                   "real dataset's name (python -m kitlib data list): fetched, verified and cached, its train split")
    p.add_argument("--out", required=True, help="run directory (resumed if it holds a checkpoint)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="default: the profile's (train MODEL --help)")
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="the global batch, split over the GPUs or machines (default: the profile's per replica)")
    p.add_argument("--image-size", type=_positive_int, default=None, help="default: the profile's")
    p.add_argument("--limit", type=_positive_int, default=None,
                   help="use at most this many images (toy data: default num_images, the profile's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="auto")
    p.add_argument("--loss", default=None,
                   help="adversarial/training loss where the model offers a choice (train MODEL --help lists them)")
    p.add_argument("--variant", default=None,
                   help="network variant where the model offers one: dcgan radford (default) | seed (the "
                        "networks of the student report notebook 01 follows), ddim/palette tiny|small|keras_io")
    p.add_argument("--load-size", type=_positive_int, default=None,
                   help="cyclegan: read images at this size and train on random --image-size windows of them; "
                        "translate then works on whole images of this size")
    p.add_argument("--no-resume", action="store_true", help="start over even if RUN_DIR has a checkpoint")
    p.add_argument("--minutes", type=float, default=None,
                   help="time budget of this run: stop after N minutes with a checkpoint and exports (train again "
                        "on RUN_DIR to continue); without --epochs, trains toward the full profile's epochs")
    p.add_argument("--keep-epochs", default=None, help="per-epoch exports to keep as training goes, e.g. "
                   "last=3,every=5 (the first epoch too) or all (default: $KITLIB_KEEP_EPOCHS, else last=3,every=5)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("data", help="the real datasets kitlib knows by name: list them, or fetch one")
    p.add_argument("action", choices=("list", "fetch"))
    p.add_argument("name", nargs="?", default=None, help="data fetch: the dataset (see data list)")
    p.add_argument("--out", default=None, help="the cache folder (default: $KITLIB_DATA_DIR, else runs/data; "
                   "/kaggle/working/runs/data on Kaggle); the dataset goes to OUT/NAME")
    p.add_argument("--source", default="auto", help="auto (an attached Kaggle dataset, else GitHub), github, tfds "
                   "(monet2photo, photos), git:PATH (a clone of the repository) or a folder holding the files")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("generate", help="write N generated images (unconditional models)")
    p.add_argument("run_dir")
    p.add_argument("--n", type=_positive_int, default=64)
    p.add_argument("--out", required=True)
    p.add_argument("--overwrite", action="store_true", help="replace files of --out with the same names")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--generator", default=None, help="which exported generator (default: the first)")
    p.add_argument("--steps", type=_positive_int, default=None, help="diffusion models: DDIM steps (default: the run's)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("translate", help="translate every image of a folder (image-to-image models)")
    p.add_argument("run_dir")
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--generator", default=None, help="which exported generator, e.g. generator_ab")
    p.add_argument("--keep-size", action="store_true", help="resize outputs back to each input's size")
    p.add_argument("--overwrite", action="store_true", help="replace files of --out with the same names")
    p.add_argument("--steps", type=_positive_int, default=None, help="diffusion models: DDIM steps (default: the run's)")
    p.add_argument("--seed", type=int, default=0, help="seed of what is random at translation (diffusion models' "
                   "initial noise, pix2pix's test-time dropout): the same command and seed give the same images")
    p.set_defaults(func=_cmd_translate)

    p = sub.add_parser("runs", help="list run directories (size, method, steps, status); --prune makes them smaller")
    p.add_argument("root", nargs="?", default=None, help="the folder holding run directories, or one run (default: "
                   "runtime.run_root(), 'runs' here)")
    p.add_argument("--prune", action="store_true", help="show what pruning frees: the per-epoch exports outside "
                   "--keep and the checkpoints older than the newest (nothing else is ever deleted)")
    p.add_argument("--yes", action="store_true", help="with --prune: delete them")
    p.add_argument("--keep", default=None, help="per-epoch exports to keep, e.g. last=3,every=5 (the first epoch "
                   "too) or all (default: $KITLIB_KEEP_EPOCHS, else last=3,every=5)")
    p.set_defaults(func=_cmd_runs)

    p = sub.add_parser("bench", help="training throughput benchmark; bench quality: time-to-quality against the "
                                     "published recipes")
    p.add_argument("model", help="dcgan, cyclegan, pix2pix, gaugan, gatys (alias: style), adain, data, conv (the "
                   "machine's float32 vs bfloat16/float16 convolution throughput), or all; or quality (then METHOD); or "
                   "replicas (each trainable method on one device vs two logical-CPU replicas; METHOD,METHOD... "
                   "to choose)")
    p.add_argument("method", nargs="?", default=None, help="bench quality: the method to measure (dcgan, cyclegan, "
                   "pix2pix, ddim, vae); bench replicas: methods, comma-separated (default: every trainable one)")
    p.add_argument("--profile", default="quick", choices=("quick", "demo"),
                   help="bench replicas: the profile whose networks and batch size are timed (default quick)")
    q = p.add_argument_group("bench quality METHOD")
    q.add_argument("--data", default=None, help="dcgan, ddim, vae: a folder holding train/ and heldout/ (data_real/anime_faces); cyclegan: a junyanz folder with trainA/, trainB/, testA/, testB/ (data_real/monet2photo); pix2pix: a folder holding train/ and heldout/ photos (data_real/photos)")
    q.add_argument("--minutes", default="2,5,10,20", help="snapshot budgets in minutes (default 2,5,10,20)")
    q.add_argument("--anchor", action="append", default=[],
                   help="a published recipe to train side by side (repeat, or 'all'): python -c 'from kitlib "
                        "import anchors; print(list(anchors.ANCHORS))'")
    q.add_argument("--anchors-only", action="store_true", help="train the anchors only (their curves do not change)")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="train a variant of kitlib's recipe instead of its defaults (repeat: --set batch_size=32 "
                        "--set lr=4e-4); the results name it 'kitlib batch_size=32,lr=0.0004'")
    q.add_argument("--jobs", type=_positive_int, default=1,
                   help="systems trained at once, each pinned to its own core(s) (default 1: the whole machine each)")
    q.add_argument("--out", default="runs/quality", help="results folder: quality.jsonl, plots, snapshots, logs")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--table", default=None, metavar="JSONL", help="print the markdown table of a quality.jsonl")
    q.add_argument("--rescore", action="store_true",
                   help="score again every system already trained under --out (after a failed or changed scoring)")
    q.add_argument("--system", default=None, help=argparse.SUPPRESS)
    p.add_argument("--image-size", type=_positive_int, default=None)
    p.add_argument("--batch-size", type=_positive_int, default=None)
    p.add_argument("--steps", type=_positive_int, default=None)
    p.add_argument("--precision", default="auto", help="auto, float32, mixed_bfloat16 or mixed_float16")
    p.add_argument("--xla", default="auto", choices=("auto", "on", "off"))
    p.add_argument("--baseline", action="store_true",
                   help="also time the fp32 tutorial-style baseline (dcgan, cyclegan, pix2pix)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_bench)
    return parser


class _VerboseSubparsers:
    """``add_subparsers()`` whose every verb also takes ``--verbose`` (after the verb, as before it)."""

    def __init__(self, subparsers):
        self.subparsers = subparsers

    def add_parser(self, name, **kwargs):
        parser = self.subparsers.add_parser(name, **kwargs)
        parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" in argv[: argv.index("--") if "--" in argv else len(argv)]:
        from kitlib import runtime

        runtime.verbose()  # before build_parser, which imports TensorFlow (the registry's trainers)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a read-only or full disk, a path that is a file...: one line, not a traceback
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}. Check the path, its permissions and the free disk space.",
              file=sys.stderr)
        return 2
