"""PyTorch's ``examples/dcgan`` (Radford et al.), re-expressed for the side-by-side benchmark. Needs ``torch``.

Source: pytorch/examples, ``dcgan/main.py`` at commit ``cc8e404cbcbf3a3c326789260deed89ee04b3408``. Followed exactly,
with its defaults (``--imageSize 64 --nz 100 --ngf 64 --ndf 64 --batchSize 64 --lr 0.0002 --beta1 0.5``): the
all-convolutional generator (4x4 transposed convolutions without bias, 512/256/128/64 filters, batch norm, ReLU, tanh)
and discriminator (4x4 stride-2 convolutions without bias, 64/128/256/512 filters, batch norm after the first,
LeakyReLU 0.2, sigmoid), ``weights_init`` (convolutions N(0, 0.02), batch-norm scales N(1, 0.02), biases 0),
``BCELoss``, Adam(lr, betas=(0.5, 0.999)) for each network, images ``Normalize``d to [-1, 1], and the update order:
D on the real batch (label 1), then on ``G(z).detach()`` (label 0), one D step; then G through the updated D on the
same fakes (label 1), one G step. The networks stay in training mode throughout, as in the source (its samples are
drawn in training mode too, so ``sample`` draws batches of 64 the same way). float32, as published.
Changed: the data path (the source reads an ``ImageFolder`` with ``Resize(64)``/``CenterCrop(64)`` through a
2-worker ``DataLoader``; here the folder's 64-px images are decoded once into memory and shuffled every epoch, the
same images and order statistics without worker processes on a 1- or 2-core machine), and the budget.

Example (where torch is installed):
>>> nets = build()                                                                  # doctest: +SKIP
>>> {k: sum(p.numel() for p in v.parameters()) for k, v in nets.items()} == PARAMETERS   # doctest: +SKIP
True
"""

from __future__ import annotations

import pathlib

import numpy as np

NZ, NGF, NDF, NC = 100, 64, 64, 3
IMAGE_SIZE = 64
BATCH_SIZE = 64
LEARNING_RATE, BETA1 = 2e-4, 0.5
PARAMETERS = {"generator": 3_576_704, "discriminator": 2_765_568}


def build(seed: int = 0) -> dict:
    """The source's ``Generator`` and ``Discriminator`` (``nn.Sequential``), initialised by its ``weights_init``."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    generator = nn.Sequential(
        nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 8), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(NC, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def weights_init(m):
        if "Conv" in type(m).__name__:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif "BatchNorm" in type(m).__name__:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    generator.apply(weights_init)
    discriminator.apply(weights_init)
    return {"generator": generator, "discriminator": discriminator}


def _load_images(folder) -> np.ndarray:
    """Every image under ``folder`` as uint8 ``(N, 3, 64, 64)``, resized (shorter side) and centre-cropped to 64 as
    the source's ``Resize(64)`` + ``CenterCrop(64)`` do."""
    from PIL import Image

    files = sorted(p for p in pathlib.Path(folder).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise FileNotFoundError(f"No .jpg/.png images under {folder}: point --data at a folder holding train/ images.")
    out = np.empty((len(files), 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for i, path in enumerate(files):
        with Image.open(path) as image:
            image = image.convert("RGB")
            w, h = image.size
            scale = IMAGE_SIZE / min(w, h)
            if scale != 1:
                image = image.resize((max(IMAGE_SIZE, round(w * scale)), max(IMAGE_SIZE, round(h * scale))),
                                     Image.BILINEAR)
            w, h = image.size
            left, top = (w - IMAGE_SIZE) // 2, (h - IMAGE_SIZE) // 2
            out[i] = np.asarray(image.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))).transpose(2, 0, 1)
    return out


def train(folder, clock, seed: int = 0) -> None:
    """Trains the source's recipe on ``folder`` until ``clock`` stops it (``kitlib.train.SnapshotClock``)."""
    import torch
    from torch import nn

    images = torch.from_numpy(_load_images(folder))
    nets = build(seed)
    net_g, net_d = nets["generator"], nets["discriminator"]
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(net_d.parameters(), lr=LEARNING_RATE, betas=(BETA1, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=LEARNING_RATE, betas=(BETA1, 0.999))
    generator = torch.Generator().manual_seed(seed)
    step = 0
    while True:
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), BATCH_SIZE):  # DataLoader's default: the last, smaller batch is kept
            real = images[order[start:start + BATCH_SIZE]].float().div(255.0).sub(0.5).div(0.5)
            batch = real.size(0)
            net_d.zero_grad()
            label = torch.full((batch,), 1.0)
            err_real = criterion(net_d(real).view(-1), label)
            err_real.backward()
            noise = torch.randn(batch, NZ, 1, 1, generator=generator)
            fake = net_g(noise)
            label.fill_(0.0)
            err_fake = criterion(net_d(fake.detach()).view(-1), label)
            err_fake.backward()
            opt_d.step()
            net_g.zero_grad()
            label.fill_(1.0)
            err_g = criterion(net_d(fake).view(-1), label)
            err_g.backward()
            opt_g.step()
            step += 1
            if clock.tick(step, lambda path: torch.save(net_g.state_dict(), f"{path}.pt")):
                return


def sample(path, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uint8 images from a snapshot, drawn as the source draws its samples (training mode, batches of 64)."""
    import torch

    from kitlib.images import to_uint8

    net_g = build(seed)["generator"]
    net_g.load_state_dict(torch.load(f"{path}.pt"))
    rng = np.random.default_rng(seed)
    out = []
    with torch.no_grad():
        for start in range(0, n, BATCH_SIZE):
            noise = torch.from_numpy(rng.standard_normal((min(BATCH_SIZE, n - start), NZ, 1, 1)).astype("float32"))
            out.append(net_g(noise).permute(0, 2, 3, 1).numpy())
    return to_uint8(np.concatenate(out))
