"""``Method``: everything about one method (DCGAN, CycleGAN, ...) in one declaration, next to its trainer.

Each trainer module ends with ``METHODS = (Method(...),)``; ``kitlib.methods`` collects them (``methods.get(name)``,
``methods.all()``). The CLI, the recipes, the bench and the notebooks read a method's builders, losses, profile
defaults, data parser, inference function, custom layers and exported networks from its entry instead of repeating
them. See docs/ARCHITECTURE.md ("The method registry").

Example:
>>> m = Method(name="toy", title="a toy method", kind="unconditional", notebook=None, trainer=None, builders={},
...            losses=("bce",), infer=print, exports=("generator",),
...            profiles={p: {"image_size": s} for p, s in (("quick", 8), ("demo", 32), ("full", 64))})
>>> m.defaults("demo")
{'image_size': 32}
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

PROFILES = ("quick", "demo", "full")
KINDS = ("unconditional", "translation", "stylization")
INPUTS = ("images", "label_maps")
# With --minutes and no --epochs the budget ends the run, not an epoch count chosen for some profile: the epochs every
# recipe and notebook gives such a run (kitlib.train.budget_epochs; kitlib.train.fit_for_budget plans a
# length-dependent schedule, e.g. a linear decay, from it).
UNTIL_BUDGET_EPOCHS = 100_000


@dataclasses.dataclass(frozen=True)
class Method:
    """One method of kitlib, as the CLI, the recipes, the bench and the notebooks use it.

    Args:
        name: the lookup name (``python -m kitlib train NAME``).
        title: a one-line human name.
        kind: ``"unconditional"`` (``generate``), ``"translation"`` (``translate``) or ``"stylization"``.
        notebook: the notebook that tells its story (file stem), or None.
        trainer: the trainer class (a ``kitlib.train.Trainer`` subclass), or None (Gatys optimises an image).
        builders: network (or trainer) builders by role, e.g. ``{"networks": build_dcgan}``.
        losses: the losses offered, the default first (what ``--loss`` accepts); empty when fixed by the paper.
        profiles: ``{"quick": {...}, "demo": {...}, "full": {...}}``, the defaults of each run profile (the values
            of the notebook's parameters cell); every profile has the same keys.
        infer: the inference function (``kitlib.infer.generate``, ``synthesize`` ...).
        exports: the networks written to ``RUN_DIR/export/`` (the keys of the trainer's ``generators()``).
        data: the function that turns a ``--data`` spec into datasets (None: the method takes images directly).
        default_data: the spec used when none is given.
        custom_layers: the layer classes saved networks of this method contain (importing them registers them).
        setups: named alternative defaults, ``{setup: {profile: overrides}}`` (CycleGAN's ``"pixel_art"``).
        config_match: ``{key: value}`` of ``config["model"]`` that tells this method's runs apart from another
            method with the same trainer (``palette``: ``{"conditional": True}``).
        infer_options: ``f(config, *, steps, seed) -> dict``, the keyword arguments ``python -m kitlib generate`` /
            ``translate`` pass to ``infer`` for a run (``config.json``; ``--steps``, ``--seed``). Default: ``{"seed":
            seed}`` for unconditional methods (``infer(network, n, seed=...)``), ``{}`` for translations
            (``infer(network, images)``).
        inputs: what ``translate --input`` holds: ``"images"`` or ``"label_maps"`` (GauGAN: one image per map).
        recipe: the headless training function of ``python -m kitlib train NAME`` when it is not in
            ``kitlib.recipes.RECIPES`` (a new method can bring its own, next to its trainer).
    """

    name: str
    title: str
    kind: str
    notebook: str | None
    trainer: type | None
    builders: Mapping[str, Callable]
    losses: tuple[str, ...]
    profiles: Mapping[str, Mapping[str, Any]]
    infer: Callable
    exports: tuple[str, ...]
    data: Callable | None = None
    default_data: str | None = None
    custom_layers: tuple[type, ...] = ()
    setups: Mapping[str, Mapping[str, Mapping[str, Any]]] = dataclasses.field(default_factory=dict)
    config_match: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    infer_options: Callable[..., dict] | None = None
    inputs: str = "images"
    recipe: Callable | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Method {self.name!r}: kind must be one of {KINDS}. Received: kind={self.kind!r}")
        if self.inputs not in INPUTS:
            raise ValueError(f"Method {self.name!r}: inputs must be one of {INPUTS}. Received: inputs={self.inputs!r}")
        if tuple(self.profiles) != PROFILES:
            raise ValueError(f"Method {self.name!r}: profiles must be {PROFILES}, in that order. Received: "
                             f"{tuple(self.profiles)}")
        keys = [sorted(self.profiles[p]) for p in PROFILES]
        if keys[0] != keys[1] or keys[0] != keys[2]:
            raise ValueError(f"Method {self.name!r}: every profile needs the same keys. Received: "
                             f"{dict(zip(PROFILES, keys))}")
        for setup, profiles in self.setups.items():
            if tuple(profiles) != PROFILES:
                raise ValueError(f"Method {self.name!r}, setup {setup!r}: profiles must be {PROFILES}. Received: "
                                 f"{tuple(profiles)}")
        loss = self.profiles["quick"].get("loss")
        if loss is not None and loss not in self.losses:
            raise ValueError(f"Method {self.name!r}: default loss {loss!r} is not among its losses {self.losses}.")

    def defaults(self, profile: str | None = None, setup: str | None = None) -> dict[str, Any]:
        """The defaults of ``profile`` (default: the active one, ``kitlib.runtime.profile()``), with ``setup``'s
        overrides when given.

        Example:
        >>> from kitlib import methods
        >>> methods.get("cyclegan").defaults("demo", "pixel_art")["generator"]
        'seed_unet'
        """
        if profile is None:
            from kitlib import runtime

            profile = runtime.profile()
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}. Received: profile={profile!r}")
        values = dict(self.profiles[profile])
        if setup is not None:
            if setup not in self.setups:
                raise ValueError(f"Method {self.name!r} has the setups {sorted(self.setups)}. Received: "
                                 f"setup={setup!r}")
            values.update(self.setups[setup][profile])
        return values

    def run_options(self, config: dict, *, steps: int | None = None, seed: int = 0) -> dict[str, Any]:
        """The keyword arguments of ``infer`` for a run directory's ``config`` (see ``infer_options``).

        Example:
        >>> from kitlib import methods
        >>> methods.get("dcgan").run_options({}, seed=3)
        {'seed': 3}
        """
        if self.infer_options is not None:
            return self.infer_options(config, steps=steps, seed=seed)
        return {"seed": seed} if self.kind == "unconditional" else {}

    def matches(self, model: Mapping[str, Any]) -> bool:
        """True when a run's model description (``config.json``'s ``model``, ``Trainer.run_config()``) has every
        ``config_match`` value: it tells this method's runs from another method's with the same trainer.

        Example:
        >>> from kitlib import methods
        >>> methods.get("palette").matches({"conditional": True}), methods.get("ddim").matches({"conditional": True})
        (True, False)
        """
        return all(model.get(key) == value for key, value in self.config_match.items())

    def custom_objects(self) -> dict[str, type]:
        """``{registered name: class}`` of the custom layers, for ``keras.saving.load_model(custom_objects=...)``.

        Example:
        >>> from kitlib import methods
        >>> "kitlib>SPADEResBlock" in methods.get("gaugan").custom_objects()
        True
        """
        import keras

        return {keras.saving.get_registered_name(c): c for c in self.custom_layers}


__all__ = ["INPUTS", "KINDS", "PROFILES", "Method"]
