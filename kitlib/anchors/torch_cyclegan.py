"""junyanz/pytorch-CycleGAN-and-pix2pix (the CycleGAN authors' code), re-expressed for the side-by-side benchmark.
Needs ``torch``.

Source: junyanz/pytorch-CycleGAN-and-pix2pix at commit ``032e88438b1b2690e538c2cf399ebceb76adbea9``:
``models/cycle_gan_model.py``, ``models/networks.py``, ``util/image_pool.py``, ``data/unaligned_dataset.py``,
``data/base_dataset.py``, with ``train.py``'s defaults for CycleGAN (``--model cycle_gan``: ``resnet_9blocks``,
``basic`` 70x70 PatchGAN with 3 layers, ngf = ndf = 64, instance norm without affine parameters, no dropout,
``--gan_mode lsgan``, ``--pool_size 50``, lambda_A = lambda_B = 10, ``--lambda_identity 0.5``, ``--lr 0.0002
--beta1 0.5``, ``--batch_size 1``, ``--load_size 286 --crop_size 256 --preprocess resize_and_crop``, random flips,
``--init_type normal --init_gain 0.02``, ``--n_epochs 100 --n_epochs_decay 100``). Followed exactly: the networks (all
convolutions with bias, as ``use_bias`` is true with instance norm), their initialisation, the losses, one Adam for
both generators and one for both discriminators, the image pools, the update order of ``optimize_parameters``
(forward, G step with the discriminators frozen, then both D steps on pooled fakes), the unaligned sampling (A in
order of a shuffled index, B drawn at random; an epoch is ``max(len(A), len(B))`` steps), the per-epoch linear decay,
and the transforms (bicubic resize to 286, random 256 crop, flip, [-1, 1]), drawn separately for A and B. float32,
as published. Changed: the folders are decoded once into memory (the source's DataLoader decodes JPEGs in 4 worker
processes every step; on a 1- or 2-core machine that would only slow it) and the budget (the source trains 200
epochs), set by ``kitlib.train.SnapshotClock``. G_A translates A -> B, G_B translates B -> A.

Example (where torch is installed):
>>> nets = build()                                                                   # doctest: +SKIP
>>> {k: sum(p.numel() for p in v.parameters()) for k, v in nets.items()} == PARAMETERS  # doctest: +SKIP
True
"""

from __future__ import annotations

import random

import numpy as np

NGF = NDF = 64
LOAD_SIZE, CROP_SIZE = 286, 256
LAMBDA_A = LAMBDA_B = 10.0
LAMBDA_IDENTITY = 0.5
LEARNING_RATE, BETA1 = 2e-4, 0.5
POOL_SIZE = 50
N_EPOCHS, N_EPOCHS_DECAY = 100, 100
# As the source prints them: "[Network G_A] Total number of parameters : 11.378 M", "[Network D_A] ... 2.765 M".
PARAMETERS = {"generator_a": 11_378_179, "generator_b": 11_378_179,
              "discriminator_a": 2_764_737, "discriminator_b": 2_764_737}


def _resnet_generator():
    from torch import nn

    norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
    model = [nn.ReflectionPad2d(3), nn.Conv2d(3, NGF, 7, padding=0, bias=True), norm(NGF), nn.ReLU(True)]
    for i in range(2):
        mult = 2**i
        model += [nn.Conv2d(NGF * mult, NGF * mult * 2, 3, stride=2, padding=1, bias=True), norm(NGF * mult * 2),
                  nn.ReLU(True)]

    class ResnetBlock(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.conv_block = nn.Sequential(
                nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True), norm(dim), nn.ReLU(True),
                nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True), norm(dim))

        def forward(self, x):
            return x + self.conv_block(x)

    model += [ResnetBlock(NGF * 4) for _ in range(9)]
    for i in range(2):
        mult = 2**(2 - i)
        model += [nn.ConvTranspose2d(NGF * mult, NGF * mult // 2, 3, stride=2, padding=1, output_padding=1,
                                     bias=True), norm(NGF * mult // 2), nn.ReLU(True)]
    model += [nn.ReflectionPad2d(3), nn.Conv2d(NGF, 3, 7, padding=0), nn.Tanh()]
    return nn.Sequential(*model)


def _patch_discriminator():
    from torch import nn

    norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
    layers = [nn.Conv2d(3, NDF, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, 3):
        previous, mult = mult, min(2**n, 8)
        layers += [nn.Conv2d(NDF * previous, NDF * mult, 4, stride=2, padding=1, bias=True), norm(NDF * mult),
                   nn.LeakyReLU(0.2, True)]
    previous, mult = mult, 8
    layers += [nn.Conv2d(NDF * previous, NDF * mult, 4, stride=1, padding=1, bias=True), norm(NDF * mult),
               nn.LeakyReLU(0.2, True), nn.Conv2d(NDF * mult, 1, 4, stride=1, padding=1)]
    return nn.Sequential(*layers)


def build(seed: int = 0) -> dict:
    """The source's four networks, initialised by its ``init_weights('normal', 0.02)``."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    nets = {"generator_a": _resnet_generator(), "generator_b": _resnet_generator(),
            "discriminator_a": _patch_discriminator(), "discriminator_b": _patch_discriminator()}

    def init(m):
        if hasattr(m, "weight") and isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight.data, 0.0, 0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias.data, 0.0)

    for net in nets.values():
        net.apply(init)
    return nets


class ImagePool:
    """``util/image_pool.py``: a history of 50 generated images; once full, each query returns a stored image
    (replaced by the new one) with probability 0.5, else the new image."""

    def __init__(self, pool_size: int = POOL_SIZE):
        self.pool_size, self.images = pool_size, []

    def query(self, images):
        import torch

        if self.pool_size == 0:
            return images
        out = []
        for image in images:
            image = torch.unsqueeze(image.data, 0)
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                index = random.randint(0, self.pool_size - 1)
                out.append(self.images[index].clone())
                self.images[index] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


def _transform(image: np.ndarray):
    """``resize_and_crop`` + flip + ``Normalize(0.5, 0.5)`` on one uint8 HWC image -> a (1, 3, 256, 256) tensor."""
    import torch
    from PIL import Image

    resized = Image.fromarray(image).resize((LOAD_SIZE, LOAD_SIZE), Image.BICUBIC)
    x, y = random.randint(0, LOAD_SIZE - CROP_SIZE), random.randint(0, LOAD_SIZE - CROP_SIZE)
    crop = np.asarray(resized)[y:y + CROP_SIZE, x:x + CROP_SIZE]
    if random.random() < 0.5:
        crop = crop[:, ::-1]
    tensor = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float().div(255.0)
    return tensor.sub(0.5).div(0.5).unsqueeze(0)


def train(data, clock, seed: int = 0) -> None:
    """Trains the source's CycleGAN on ``DATA/trainA`` and ``DATA/trainB`` until ``clock`` stops it."""
    import itertools

    import torch
    from torch import nn

    from kitlib.anchors import unpaired_train_images

    random.seed(seed)
    real_a_images, real_b_images = unpaired_train_images(data, CROP_SIZE)
    nets = build(seed)
    g_a, g_b, d_a, d_b = (nets[k] for k in ("generator_a", "generator_b", "discriminator_a", "discriminator_b"))
    opt_g = torch.optim.Adam(itertools.chain(g_a.parameters(), g_b.parameters()), lr=LEARNING_RATE,
                             betas=(BETA1, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(d_a.parameters(), d_b.parameters()), lr=LEARNING_RATE,
                             betas=(BETA1, 0.999))
    schedules = [torch.optim.lr_scheduler.LambdaLR(
        o, lambda epoch: 1.0 - max(0, epoch + 1 - N_EPOCHS) / float(N_EPOCHS_DECAY + 1)) for o in (opt_g, opt_d)]
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    gan_loss = lambda prediction, real: mse(prediction, torch.full_like(prediction, 1.0 if real else 0.0))  # noqa: E731
    pool_a, pool_b = ImagePool(), ImagePool()
    generator = torch.Generator().manual_seed(seed)
    epoch_size = max(len(real_a_images), len(real_b_images))

    def set_requires_grad(requires):
        for net in (d_a, d_b):
            for p in net.parameters():
                p.requires_grad = requires

    def snapshot(path):
        torch.save({"generator_a": g_a.state_dict(), "generator_b": g_b.state_dict()}, f"{path}.pt")

    step = 0
    while True:
        for index in torch.randperm(epoch_size, generator=generator).tolist():
            real_a = _transform(real_a_images[index % len(real_a_images)])
            real_b = _transform(real_b_images[random.randint(0, len(real_b_images) - 1)])
            fake_b = g_a(real_a)
            rec_a = g_b(fake_b)
            fake_a = g_b(real_b)
            rec_b = g_a(fake_a)
            set_requires_grad(False)
            opt_g.zero_grad()
            loss_idt_a = l1(g_a(real_b), real_b) * LAMBDA_B * LAMBDA_IDENTITY
            loss_idt_b = l1(g_b(real_a), real_a) * LAMBDA_A * LAMBDA_IDENTITY
            loss_g = (gan_loss(d_a(fake_b), True) + gan_loss(d_b(fake_a), True) + l1(rec_a, real_a) * LAMBDA_A
                      + l1(rec_b, real_b) * LAMBDA_B + loss_idt_a + loss_idt_b)
            loss_g.backward()
            opt_g.step()
            set_requires_grad(True)
            opt_d.zero_grad()
            for net, real, fake in ((d_a, real_b, pool_b.query(fake_b)), (d_b, real_a, pool_a.query(fake_a))):
                loss_d = (gan_loss(net(real), True) + gan_loss(net(fake.detach()), False)) * 0.5
                loss_d.backward()
            opt_d.step()
            step += 1
            if clock.tick(step, snapshot):
                return
        for schedule in schedules:
            schedule.step()


def translate(path, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(G_B(images), G_A(G_B(images)))`` for uint8 domain-B ``images`` (monet2photo: photo -> Monet -> photo), as
    the source's ``test.py`` runs them (``model.eval()``: instance norm without running statistics, so the same
    computation as in training); uint8."""
    import torch

    from kitlib.images import to_float, to_uint8

    nets = build()
    state = torch.load(f"{path}.pt")
    g_a, g_b = nets["generator_a"], nets["generator_b"]
    g_a.load_state_dict(state["generator_a"])
    g_b.load_state_dict(state["generator_b"])
    g_a.eval()
    g_b.eval()
    fakes, cycled = [], []
    with torch.no_grad():
        for image in images:
            x = torch.from_numpy(to_float(np.ascontiguousarray(image))).permute(2, 0, 1)[None]
            fake = g_b(x)
            fakes.append(to_uint8(fake.permute(0, 2, 3, 1).numpy()))
            cycled.append(to_uint8(g_a(fake).permute(0, 2, 3, 1).numpy()))
    return np.concatenate(fakes), np.concatenate(cycled)
