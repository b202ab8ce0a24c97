"""Peer reference: IG path gradients for InceptionV3 @299 (5 classes, the shape of nsfwjs's InceptionV3)
in PyTorch on the CPU. Modelled on ../shared/bench/torch_ig_reference.py (MobileNetV2).
Random weights: torchvision's inception_v3 without the auxiliary head and without its slow truncated-normal
init (the speed does not depend on the weights' values), in eval mode (batch norm uses running stats).
Prints ms per image-step (one forward + one input-gradient backward), median of reps.

  THREADS=1 /usr/bin/python3 bench/torch_inception_reference.py [batch] [reps]

Needs Debian's python3-torch and python3-torchvision (apt-get install -y python3-torch python3-torchvision)."""
import os, sys

import torch, torchvision

from torch_timing import time_input_gradient

torch.manual_seed(0)
torch.set_num_threads(int(os.environ.get("THREADS", os.cpu_count())))
B = int(sys.argv[1]) if len(sys.argv) > 1 else 16
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=5).eval()
x = torch.rand(B, 3, 299, 299)
ms = time_input_gradient(m, x, 2, reps)
print(f"torch {torch.__version__} threads {torch.get_num_threads()} batch {B}: {ms:.1f} ms per image-step")
