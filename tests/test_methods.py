"""The method registry: one entry per method, the same defaults as the notebooks' parameters cells, honest exports."""

import json
import pathlib

import keras
import pytest

from kitlib import methods, profile_times, runtime
from kitlib.method import PROFILES, Method

ROOT = pathlib.Path(__file__).resolve().parents[1]

# method -> (notebook, setup, {notebook parameter: registry key}) for every parameter the two share.
NOTEBOOK_PARAMETERS = {
    "dcgan": ("01_dcgan_anime_faces", None, {
        "IMAGE_SIZE": "image_size", "NUM_TOY_IMAGES": "num_images", "BATCH_SIZE": "batch_size", "EPOCHS": "epochs",
        "VARIANT": "variant", "FILTERS": "filters", "LOSS": "loss", "HALF_BATCH": "half_batch", "EMA": "ema"}),
    "cyclegan": ("02_cyclegan_monet", None, {
        "IMAGE_SIZE": "image_size", "GENERATOR": "generator", "FILTERS": "filters", "LOSS": "loss", "EPOCHS": "epochs",
        "STEPS_PER_EPOCH": "steps_per_epoch", "NUM_TOY_IMAGES": "num_images"}),
    "cyclegan/pixel_art": ("03_cyclegan_pixel_art", "pixel_art", {
        "MIN_CELL": "min_cell", "IMAGE_SIZE": "image_size", "FILTERS": "filters", "BATCH_SIZE": "batch_size",
        "EPOCHS": "epochs", "NUM_TOY_IMAGES": "num_images"}),
    "adain": ("04_style_transfer", None, {
        "VGG_WEIGHTS": "vgg_weights", "IMAGE_SIZE": "image_size", "NUM_PAIRS": "num_pairs",
        "DECODER_FILTERS": "decoder_filters", "EPOCHS": "epochs"}),
    "gatys": ("04_style_transfer", None, {"VGG_WEIGHTS": "vgg_weights", "GATYS_SIZE": "image_size",
                                          "GATYS_STEPS": "steps"}),
    "pix2pix": ("05_pix2pix_inpainting", None, {
        "IMAGE_SIZE": "image_size", "NUM_IMAGES": "num_images", "FILTERS": "filters", "EPOCHS": "epochs",
        "ABLATION_STEPS": "ablation_steps", "TEST_MODE": "test_mode"}),
    "gaugan": ("06_gaugan_spade", None, {
        "NUM_CLASSES": "num_classes", "IMAGE_SIZE": "image_size", "NUM_TOY_IMAGES": "num_images", "NGF": "ngf",
        "USE_ENCODER": "use_encoder", "BATCH_SIZE": "batch_size", "EPOCHS": "epochs"}),
    "ddim": ("07_diffusion", None, {
        "IMAGE_SIZE": "image_size", "NUM_TOY_IMAGES": "num_images", "UNET": "unet", "LOSS": "loss",
        "BATCH_SIZE": "batch_size", "EPOCHS": "epochs", "SAMPLING_STEPS": "sampling_steps"}),
    "palette": ("07_diffusion", None, {
        "IMAGE_SIZE": "image_size", "NUM_TOY_IMAGES": "num_images", "UNET": "unet", "LOSS": "loss",
        "BATCH_SIZE": "batch_size", "PAIR_EPOCHS": "epochs", "SAMPLING_STEPS": "sampling_steps"}),
}


class _ProfileRuntime:
    """``kitlib.runtime`` with ``profile`` active, without touching the process environment."""

    def __init__(self, profile: str):
        self._profile = profile

    def pick(self, *, quick, demo, full=None):
        return {"quick": quick, "demo": demo, "full": demo if full is None else full}[self._profile]

    def profile(self) -> str:
        return self._profile

    def use_profile(self, name: str) -> str:
        assert name == self._profile, f"the parameters cell switched to profile {name!r}"
        return name

    def __getattr__(self, name):
        return getattr(runtime, name)


def parameters_cell(notebook: str, profile: str) -> dict:
    """The values the notebook's `parameters` cell sets under ``profile`` (its `runtime.pick` calls evaluated)."""
    nb = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{notebook} needs exactly one cell tagged 'parameters'"
    source = "".join(cells[0]["source"]).replace("from kitlib import profile_times, runtime\n", "")
    values: dict = {"runtime": _ProfileRuntime(profile), "profile_times": profile_times}
    exec(source, values)  # noqa: S102  (the repository's own notebook)
    return values


def test_every_method_is_registered_once_with_lookups():
    # the methods of issue 17; a new trainer module adds its own without editing this test
    assert {"adain", "cyclegan", "dcgan", "ddim", "gatys", "gaugan", "palette", "pix2pix"} <= set(methods.names())
    assert methods.names() == sorted(methods.names())
    assert [m.name for m in methods.all()] == methods.names()
    assert methods.get("gaugan").trainer.__name__ == "GauGAN"
    with pytest.raises(ValueError, match=r"Unknown method 'nothing'.*'dcgan'"):
        methods.get("nothing")


@pytest.mark.parametrize("key", sorted(NOTEBOOK_PARAMETERS))
@pytest.mark.parametrize("profile", PROFILES)
def test_registry_defaults_equal_the_notebook_parameters_cell(key, profile):
    notebook, setup, names = NOTEBOOK_PARAMETERS[key]
    cell = parameters_cell(notebook, profile)
    defaults = methods.get(key.split("/")[0]).defaults(profile, setup)
    differ = {nb: (cell[nb], defaults[reg]) for nb, reg in names.items() if cell[nb] != defaults[reg]}
    assert not differ, f"{notebook} ({profile}) vs registry {key}: {{parameter: (notebook, registry)}} = {differ}"


def test_defaults_follow_the_active_profile(monkeypatch):
    monkeypatch.setenv("KITLIB_PROFILE", "full")
    monkeypatch.delenv("KITLIB_QUICK", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert methods.get("cyclegan").defaults()["epochs"] == 25
    assert methods.get("cyclegan").defaults(setup="pixel_art")["generator"] == "seed_unet"
    with pytest.raises(ValueError, match="setups"):
        methods.get("dcgan").defaults("demo", "pixel_art")


def test_for_run_tells_methods_apart_from_config_json():
    assert methods.for_run({"trainer": "DiffusionModel", "model": {"conditional": False}}).name == "ddim"
    assert methods.for_run({"trainer": "DiffusionModel", "model": {"conditional": True}}).name == "palette"
    assert methods.for_run({"trainer": "Pix2Pix", "model": {}}).name == "pix2pix"
    assert methods.for_run({"method": "gatys"}).name == "gatys"
    with pytest.raises(ValueError, match="matches 0 methods"):
        methods.for_run({"trainer": "Nothing"})


def test_method_declarations_are_checked():
    base = dict(name="x", title="x", kind="unconditional", notebook=None, trainer=None, builders={}, losses=("bce",),
                infer=print, exports=())
    profiles = {p: {"image_size": 8, "loss": "bce"} for p in PROFILES}
    Method(**base, profiles=profiles)
    with pytest.raises(ValueError, match="same keys"):
        Method(**base, profiles={**profiles, "full": {"image_size": 8}})
    with pytest.raises(ValueError, match="profiles must be"):
        Method(**base, profiles={"quick": profiles["quick"]})
    with pytest.raises(ValueError, match="kind must be"):
        Method(**{**base, "kind": "vae"}, profiles=profiles)
    with pytest.raises(ValueError, match="not among its losses"):
        Method(**{**base, "losses": ("lsgan",)}, profiles=profiles)


def _tiny_trainers():
    """One small trainer per method with a trainer class (a few seconds each on CPU)."""
    from kitlib.models.adain import adain_decoder, adain_encoder
    from kitlib.models.dcgan import build_dcgan
    from kitlib.models.diffusion import diffusion_unet
    from kitlib.models.spade import build_gaugan
    from kitlib.train import GAN, AdaINTrainer, DiffusionModel, GauGAN, build_cyclegan, build_pix2pix

    yield "dcgan", GAN(*build_dcgan("seed", latent_dim=8, image_size=32))
    yield "cyclegan", build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=4)
    yield "pix2pix", build_pix2pix((32, 32, 3), filters=4)
    yield "gaugan", GauGAN(*build_gaugan(32, 4, ngf=2, ndf=4, spade_hidden=4, use_encoder=True), vgg=None)
    yield "ddim", DiffusionModel(diffusion_unet(32, widths=(8, 16), block_depth=1))
    yield "palette", DiffusionModel(diffusion_unet(32, widths=(8, 16), block_depth=1, condition_channels=3))
    yield "adain", AdaINTrainer(adain_encoder(None), adain_decoder(filters=4))


def _registered_names(config) -> set[str]:
    if isinstance(config, dict):
        found = {config["registered_name"]} if str(config.get("registered_name", "")).startswith("kitlib>") else set()
        return found.union(*(_registered_names(v) for v in config.values()))
    if isinstance(config, list):
        return set().union(*(_registered_names(v) for v in config))
    return set()


def test_exports_and_custom_layers_match_what_the_trainers_save():
    for name, trainer in _tiny_trainers():
        method = methods.get(name)
        assert isinstance(trainer, method.trainer)
        exported = trainer.generators()
        assert set(exported) <= set(method.exports) and set(exported), (name, sorted(exported), method.exports)
        for network in exported.values():
            used = _registered_names(keras.saving.serialize_keras_object(network))
            assert used <= set(method.custom_objects()), f"{name}: {network.name} saves {used - set(method.custom_objects())}"


def test_every_trainer_names_its_method_and_config_json_records_it(tmp_path):
    """``Trainer.method_name()`` finds the registry entry declared next to the trainer (``config_match`` telling
    ddim from palette); ``write_run_config`` records it, so ``for_run`` needs no inference; old runs without the key
    are still recognised."""
    for name, trainer in _tiny_trainers():
        assert trainer.method_name() == name
        trainer.write_run_config(tmp_path / name)
        config = json.loads((tmp_path / name / "config.json").read_text())
        assert config["method"] == name and methods.for_run(config).name == name
        del config["method"]
        assert methods.for_run(config).name == name


def test_a_subclass_keeps_its_parents_method_and_an_unregistered_trainer_names_none():
    from kitlib.models.dcgan import build_dcgan
    from kitlib.train import GAN, Trainer

    class MyGAN(GAN):  # a student's variation, defined outside kitlib
        pass

    class Mine(Trainer):
        pass

    assert MyGAN(*build_dcgan("seed", latent_dim=8, image_size=32)).method_name() == "dcgan"
    assert Mine(loss_names=()).method_name() is None
