"""Peer reference for igx's ONNX rows: the torchvision model that scripts/make-onnx-fixtures.py exported,
with the very same seeded weights (its `build`), timed as PyTorch users run IG: one forward and one
input-gradient backward per image-step, in eval mode, median of reps after one warm-up round.

  THREADS=2 /usr/bin/python3 bench/torch_onnx_reference.py ARCH [batch] [reps]

ARCH is one of make-onnx-fixtures.py's torchvision names (resnet18, resnet50, vit_b_16, ...).
Needs Debian's python3-torch, python3-torchvision, python3-onnx and python3-pil."""
import importlib.util, os, sys

import torch

from torch_timing import time_input_gradient

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('make_onnx_fixtures', os.path.join(HERE, '..', 'scripts', 'make-onnx-fixtures.py'))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)

arch = sys.argv[1]
B = int(sys.argv[2]) if len(sys.argv) > 2 else 16
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
torch.set_num_threads(int(os.environ.get('THREADS', os.cpu_count())))
m = fixtures.build(arch, fixtures.SEED)
torch.manual_seed(1)
x = torch.rand(B, 3, fixtures.SIZE, fixtures.SIZE)
ms = time_input_gradient(m, x, 0, reps)
print(f"torch {torch.__version__} threads {torch.get_num_threads()} batch {B}: {ms:.1f} ms per image-step")
