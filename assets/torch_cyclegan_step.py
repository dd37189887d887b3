"""junyanz CycleGAN (ResNet-9 G x2, PatchGAN-70 D x2, instance norm, LSGAN, identity 0.5, lambda 10), 128 px, batch 1,
one full step (G joint update, then both Ds) timed on the CPU, fp32 and bf16 autocast."""
import sys, time, torch, torch.nn as nn
torch.manual_seed(0)
def resnet(ngf=64, n=9):
    L = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
    for i in range(2):
        m = 2 ** i; L += [nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, 1), nn.InstanceNorm2d(ngf * m * 2), nn.ReLU(True)]
    class Block(nn.Module):
        def __init__(s, d):
            super().__init__(); s.b = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(d, d, 3), nn.InstanceNorm2d(d), nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(d, d, 3), nn.InstanceNorm2d(d))
        def forward(s, x): return x + s.b(x)
    L += [Block(ngf * 4) for _ in range(n)]
    for i in range(2):
        m = 2 ** (2 - i); L += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(ngf * m // 2), nn.ReLU(True)]
    L += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return nn.Sequential(*L)
def patchgan(ndf=64):
    L = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    c = ndf
    for n in (2, 4):
        L += [nn.Conv2d(c, ndf * n, 4, 2, 1), nn.InstanceNorm2d(ndf * n), nn.LeakyReLU(0.2, True)]; c = ndf * n
    L += [nn.Conv2d(c, ndf * 8, 4, 1, 1), nn.InstanceNorm2d(ndf * 8), nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * 8, 1, 4, 1, 1)]
    return nn.Sequential(*L)
GA, GB, DA, DB = resnet(), resnet(), patchgan(), patchgan()
optG = torch.optim.Adam(list(GA.parameters()) + list(GB.parameters()), 2e-4, betas=(0.5, 0.999))
optD = torch.optim.Adam(list(DA.parameters()) + list(DB.parameters()), 2e-4, betas=(0.5, 0.999))
mse, l1 = nn.MSELoss(), nn.L1Loss()
a, b = torch.rand(1, 3, 128, 128) * 2 - 1, torch.rand(1, 3, 128, 128) * 2 - 1
def step(bf16):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        fake_b, fake_a = GA(a), GB(b)
        rec_a, rec_b = GB(fake_b), GA(fake_a)
        idt_a, idt_b = GA(b), GB(a)
        pa, pb = DB(fake_b), DA(fake_a)
        g = (mse(pa, torch.ones_like(pa)) + mse(pb, torch.ones_like(pb)) + 10 * (l1(rec_a, a) + l1(rec_b, b))
             + 5 * (l1(idt_a, b) + l1(idt_b, a)))
    optG.zero_grad(); g.backward(); optG.step()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        d = 0
        for D, real, fake in ((DA, a, fake_a), (DB, b, fake_b)):
            pr, pf = D(real), D(fake.detach())
            d = d + 0.5 * (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf)))
    optD.zero_grad(); d.backward(); optD.step()
for bf16 in (False, True):
    for _ in range(2): step(bf16)
    s = time.perf_counter()
    for _ in range(6): step(bf16)
    print(f"torch {torch.__version__} {'bf16 autocast' if bf16 else 'fp32'}: {(time.perf_counter() - s) / 6:.3f} s/step", flush=True)
