"""``kitlib.bench`` and ``python -m kitlib bench``: every model runs at a tiny size; the pix2pix baseline is the
tutorial's."""

import json

import numpy as np
import pytest

from kitlib import bench, cli
from kitlib.train.pix2pix import build_pix2pix

pytestmark = pytest.mark.usefixtures("float32_runtime")  # bench sets the global policy; the fixture restores float32

KEYS = {"model", "images_per_second", "seconds_per_step", "precision", "xla", "peak_rss_mb", "image_size",
        "batch_size", "steps"}


def _trainable(model) -> int:
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


# pix2pix and gaugan run once each, from the command line, in the tests below (each run traces whole networks)
@pytest.mark.parametrize("model", sorted(set(bench.MODELS) - {"pix2pix", "gaugan"}))
def test_every_model_runs_at_a_tiny_size(model):
    result = bench.run(model, image_size=32, batch_size=1, steps=1, warmup=1)
    assert KEYS <= result.keys()
    assert result["model"] == model and (result["image_size"], result["batch_size"], result["steps"]) == (32, 1, 1)
    assert result["images_per_second"] > 0 and result["peak_rss_mb"] > 0
    assert json.loads(json.dumps(result)) == result
    assert bench.format_result(result).startswith(f"{model}: ")
    if model == "data":  # the pipeline is also timed feeding a real train step, next to a synthetic batch
        assert result["train_step_seconds_real_input"] > 0 and result["train_step_seconds_synthetic_input"] > 0
        assert "fed by this pipeline" in bench.format_result(result)


def test_bench_help_and_defaults_name_every_model(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    help_text = capsys.readouterr().out
    assert all(name in help_text for name in bench.MODELS)
    assert set(bench.MODELS) == set(bench.DEFAULTS)


def test_pix2pix_json_and_baseline_from_the_command_line(capsys):
    assert cli.main(["bench", "pix2pix", "--image-size", "32", "--batch-size", "1", "--steps", "1",
                     "--precision", "float32", "--json", "--baseline"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert KEYS <= out.keys() and out["model"] == "pix2pix" and out["images_per_second"] > 0
    assert out["precision"] == "float32" and out["xla"] is False
    assert out["baseline_images_per_second"] > 0
    assert out["speedup"] == pytest.approx(out["images_per_second"] / out["baseline_images_per_second"])
    assert "fp32 tutorial-style baseline" in bench.format_result(out)


def test_gaugan_json_says_there_is_no_baseline(capsys):
    assert cli.main(["bench", "gaugan", "--image-size", "32", "--batch-size", "2", "--steps", "1", "--json",
                     "--baseline"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1  # GauGAN's VGG message goes to stderr
    out = json.loads(lines[0])
    assert KEYS <= out.keys() and out["model"] == "gaugan" and out["images_per_second"] > 0
    assert (out["ngf"], out["num_classes"]) == (bench.GAUGAN_NGF, 8) and isinstance(out["vgg_loss"], bool)
    assert "speedup" not in out and out["baseline_note"] == "no tutorial-style baseline for gaugan"


def test_pix2pix_baseline_networks_are_the_tutorials():
    generator, discriminator = bench._pix2pix_tutorial_networks(256)
    # the TF pix2pix tutorial's model summaries (U-Net256 and PatchGAN 70 at 256 px)
    assert (generator.count_params(), _trainable(generator)) == (54_425_859, 54_414_979)
    assert (discriminator.count_params(), _trainable(discriminator)) == (2_770_433, 2_768_641)
    assert discriminator.output_shape == (None, 30, 30, 1)


def test_pix2pix_baseline_networks_match_kitlibs_up_to_documented_differences():
    generator, discriminator = bench._pix2pix_tutorial_networks(32)
    p2p = build_pix2pix((32, 32, 3))
    assert generator.output_shape == p2p.generator.output_shape
    assert discriminator.output_shape == p2p.discriminator.output_shape
    # kitlib keeps a bias on convs with no norm after them, the tutorial has none: the first conv of each network
    # (+64, the filters) and the U-Net's innermost conv (+512 at 32 px: C64-C128-C256-C512-C512). The tutorial
    # batch-normalises that 1x1 innermost block instead (gamma and beta: -2 x 512); kitlib leaves it out there.
    assert _trainable(p2p.generator) - _trainable(generator) == 64 + 512 - 2 * 512
    assert _trainable(p2p.discriminator) - _trainable(discriminator) == 64


def test_conv_roofline_reports_both_dtypes_and_their_ratio():
    result = bench.run("conv", image_size=8, batch_size=1, steps=2, warmup=1, precision="mixed_bfloat16")
    assert result["compute_dtype"] == "bfloat16" and result["precision"] == "mixed_bfloat16"
    assert result["gflops_float32"] > 0 and result["gflops_bfloat16"] > 0
    assert result["precision_speedup_ceiling"] == pytest.approx(result["gflops_bfloat16"] / result["gflops_float32"])
    assert "at most x" in bench.format_result(result)
    fp32 = bench.run("conv", image_size=8, batch_size=1, steps=1, warmup=1, precision="float32")
    assert fp32["compute_dtype"] == "float32" and fp32["precision_speedup_ceiling"] == 1.0


def test_gaugan_bench_times_the_registry_demo_profile():
    from kitlib import methods

    demo = methods.get("gaugan").defaults("demo")
    assert bench.DEFAULTS["gaugan"][:2] == (demo["image_size"], demo["batch_size"]) and bench.GAUGAN_NGF == demo["ngf"]


def test_benchmarks_of_methods_use_the_registry_names():
    from kitlib import methods

    machine = {"data", "conv"}  # benchmarks of the machine, not of a method
    assert set(bench.MODELS) - machine <= set(methods.names())
    assert bench.unbenched() == sorted(set(methods.names()) - set(bench.MODELS))
    assert {"ddim", "palette", "vae"} <= set(bench.unbenched())
    assert bench.ALIASES == {"style": "gatys"}
    with pytest.raises(ValueError, match="'gatys'"):
        bench.run("nothing")


def test_bench_replicas_times_one_device_and_two_replicas_of_a_recipe():
    from kitlib import bench_replicas

    (result,) = bench_replicas.replicas(["vae"], steps=1, warmup=1)
    assert result["method"] == "vae" and result["strategy_2"] == "MirroredStrategy" and result["batch_size"] % 2 == 0
    assert result["overhead"] == pytest.approx(result["seconds_per_step_2"] / result["seconds_per_step_1"])
    assert bench_replicas.format_replicas([result]).splitlines()[1].startswith("vae")
    with pytest.raises(ValueError, match="trainable methods"):
        bench_replicas.replicas(["gatys"])
