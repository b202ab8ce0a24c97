"""Peer reference: IG path gradients for InceptionV3 @299 (5 classes, the shape of nsfwjs's InceptionV3)
in PyTorch on the CPU. Modelled on ../shared/bench/torch_ig_reference.py (MobileNetV2).
Random weights: torchvision's inception_v3 without the auxiliary head and without its slow truncated-normal
init (the speed does not depend on the weights' values), in eval mode (batch norm uses running stats).
Prints ms per image-step (one forward + one input-gradient backward), median of reps.

  THREADS=1 /usr/bin/python3 bench/torch_inception_reference.py [batch] [reps]

Needs Debian's python3-torch and python3-torchvision (apt-get install -y python3-torch python3-torchvision)."""
import os, statistics, sys, time

import torch, torchvision

torch.manual_seed(0)
torch.set_num_threads(int(os.environ.get("THREADS", os.cpu_count())))
B = int(sys.argv[1]) if len(sys.argv) > 1 else 16
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=5).eval()
for p in m.parameters():
    p.requires_grad_(False)
x = torch.rand(B, 3, 299, 299)
times = []
for r in range(reps + 1):  # the first round warms up and is not counted
    t0 = time.perf_counter()
    xi = x.clone().requires_grad_(True)
    out = m(xi)[:, 2].sum()
    g, = torch.autograd.grad(out, xi)
    dt = (time.perf_counter() - t0) / B * 1000
    if r:
        times.append(dt)
print(f"torch {torch.__version__} threads {torch.get_num_threads()} batch {B}: {statistics.median(times):.1f} ms per image-step")
