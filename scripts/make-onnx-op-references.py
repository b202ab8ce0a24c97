#!/usr/bin/env python3
"""Prints the references of test/onnx.test.ts's small op tests, and writes fixtures/onnx/bicubic_groups/.

CI has no Python: the printed arrays are pasted into test/onnx.test.ts as constants. Each op runs on a
small deterministic input x (NCHW, float32, x_i = sin(0.7·i + 0.3)·(1 + 0.05·i)) and each reference holds
the op's output y (flattened) and the gradient of Σ y·linspace(−1, 1, len(y)) with respect to x, which
is what the test's `runOne` computes.

- PyTorch (float32) where PyTorch has the setting: `F.interpolate(mode='bicubic')` is ONNX Resize
  cubic with cubic_coeff_a −0.75, exclude_outside 0, half_pixel (align_corners=False; the same as
  pytorch_half_pixel for outputs longer than 1) or align_corners; `F.conv_transpose2d` with groups and
  dilation.
- ONNX's own reference (onnx/backend/test/case/node/resize.py, float64) where PyTorch has none:
  asymmetric coordinates, cubic_coeff_a −0.5, exclude_outside 1. The map is linear, so its gradient is
  the sum of its outputs on the basis images weighted by linspace(−1, 1). The script also checks that
  reference against PyTorch on the bicubic cases (it prints the largest difference).

fixtures/onnx/bicubic_groups/: a tiny seeded nn.Module (Conv → MaxPool2d(return_indices=True), its
indices unused → grouped, dilated ConvTranspose2d → tanh → bicubic F.interpolate → Linear) exported by
torch.onnx.export at opset 17 with an open batch; reference.json holds the input (batch 2), PyTorch's
logits and the gradient of Σ logits·linspace(−1, 1, 5) (per example; the examples are independent).

Run (Debian): apt-get install -y python3-torch python3-onnx python3-numpy
              /usr/bin/python3 scripts/make-onnx-op-references.py [--no-fixture]
"""
import argparse
import collections
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx.backend.test.case.node import resize as onnx_resize
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURE = os.path.join(ROOT, 'fixtures', 'onnx', 'bicubic_groups')
OPSET = 17
SEED = 0


def sample(shape):
    i = torch.arange(int(np.prod(shape)), dtype=torch.float64)
    return (torch.sin(0.7 * i + 0.3) * (1 + 0.05 * i)).reshape(shape).float()


def fmt(values):
    return '[' + ', '.join(f'{float(v):.8g}' for v in np.asarray(values).reshape(-1)) + ']'


def torch_reference(f, x):
    """f(x) flattened, and ∇ of Σ f(x)·linspace(−1, 1) at x."""
    xin = x.clone().requires_grad_(True)
    y = f(xin).reshape(-1)
    (grad,) = torch.autograd.grad((y * torch.linspace(-1, 1, y.numel())).sum(), xin)
    return y.detach().numpy(), grad.numpy()


def onnx_cubic(x, out_hw, mode, a=-0.75, exclude_outside=False):
    """ONNX's reference Resize cubic of the NCHW array x to out_hw (float64)."""
    size = list(x.shape[:2]) + list(out_hw)
    return onnx_resize.interpolate_nd(np.asarray(x, np.float64), lambda r: onnx_resize.cubic_coeffs(r, A=a),
                                      output_size=size, coordinate_transformation_mode=mode,
                                      exclude_outside=exclude_outside)


def linear_reference(f, x):
    """f (linear) at x flattened, and its gradient of Σ f·linspace(−1, 1) from the basis images."""
    x = np.asarray(x, np.float64)
    y = f(x).reshape(-1)
    w = np.linspace(-1, 1, y.size)
    grad = np.zeros(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1
        grad[i] = f(e.reshape(x.shape)).reshape(-1) @ w
    return y, grad.reshape(x.shape)


def print_const(name, **arrays):
    print(f'const {name} = {{ ' + ', '.join(f'{k}: {fmt(v)}' for k, v in arrays.items()) + ' };')


def resize_references():
    cases = [
        # name, input shape, output size, align_corners
        ('TORCH_CUBIC_UP', (1, 3, 3, 4), (5, 7), False),
        ('TORCH_CUBIC_DOWN', (1, 1, 6, 7), (4, 3), False),
        ('TORCH_CUBIC_CORNERS', (1, 1, 3, 4), (6, 5), True),
    ]
    for name, shape, out, corners in cases:
        x = sample(shape)
        y, grad = torch_reference(lambda z: F.interpolate(z, size=out, mode='bicubic', align_corners=corners), x)
        mode = 'align_corners' if corners else 'half_pixel'
        ref = onnx_cubic(x.numpy(), out, mode).reshape(-1)
        print(f'// {name}: PyTorch vs ONNX reference max |Δ| {np.abs(ref - y).max():.2g}', file=sys.stderr)
        print_const(name, x=x.numpy(), y=y, grad=grad)
    # asymmetric, a = −0.5, exclude_outside 1: ONNX's reference only (PyTorch has no such bicubic).
    x = sample((1, 1, 3, 4))
    y, grad = linear_reference(lambda z: onnx_cubic(z, (6, 8), 'asymmetric', a=-0.5, exclude_outside=True), x.numpy())
    print_const('ONNX_CUBIC_ASYMMETRIC_EXCLUDE', x=x.numpy(), y=y, grad=grad)


def conv_transpose_references():
    g = torch.Generator().manual_seed(SEED)
    # grouped (igx's inputs have 1 or 3 channels): a 1×1 conv 3 → 4, then 4 → 6 channels in 2 groups,
    # stride 2, padding 1, output_padding 1
    x = sample((1, 3, 3, 3))
    k = torch.randn(4, 3, 1, 1, generator=g)
    w = torch.randn(4, 3, 3, 3, generator=g)
    b = torch.randn(6, generator=g)
    y, grad = torch_reference(lambda z: F.conv_transpose2d(F.conv2d(z, k), w, b, stride=2, padding=1, output_padding=1, groups=2), x)
    print_const('TORCH_CONVT_GROUPED', x=x.numpy(), k=k.numpy(), w=w.numpy(), b=b.numpy(), y=y, grad=grad)
    # dilated: 3 → 3 channels, dilation (2, 3), stride (1, 2), padding (1, 2), output_padding (1, 0)
    x = sample((1, 3, 3, 4))
    w = torch.randn(3, 3, 3, 2, generator=g)
    y, grad = torch_reference(lambda z: F.conv_transpose2d(z, w, None, stride=(1, 2), padding=(1, 2), output_padding=(1, 0), dilation=(2, 3)), x)
    print_const('TORCH_CONVT_DILATED', x=x.numpy(), w=w.numpy(), y=y, grad=grad)


class BicubicGroups(nn.Module):
    """Conv 3→4, max-pool with indices (unused), grouped dilated transposed conv 4→6, tanh, bicubic ×, Linear → 5."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)
        self.fc = nn.Linear(6 * 7 * 7, 5)

    def forward(self, x):
        pooled, _indices = self.pool(self.conv(x))
        h = torch.tanh(self.up(pooled))
        h = F.interpolate(h, size=(7, 7), mode='bicubic', align_corners=False)
        return self.fc(h.flatten(1))


def write_fixture():
    torch.manual_seed(SEED)
    model = BicubicGroups().eval()
    x = sample((2, 3, 8, 8))
    os.makedirs(FIXTURE, exist_ok=True)
    path = os.path.join(FIXTURE, 'model.onnx')
    torch.onnx.export(model, x, path, opset_version=OPSET, do_constant_folding=True, input_names=['input'],
                      output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    xin = x.clone().requires_grad_(True)
    logits = model(xin)
    (grad,) = torch.autograd.grad((logits * torch.linspace(-1, 1, 5)).sum(), xin)
    ref = {'torch': torch.__version__, 'onnx': onnx.__version__, 'opset': OPSET, 'seed': SEED,
           'input_shape': list(x.shape), 'input': x.reshape(-1).tolist(),
           'logits': logits.detach().reshape(-1).tolist(), 'grad': grad.reshape(-1).tolist()}
    with open(os.path.join(FIXTURE, 'reference.json'), 'w') as f:
        json.dump(ref, f)
    for n in m.graph.node:
        if n.op_type in ('Resize', 'ConvTranspose', 'MaxPool'):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            print(f'// {n.name}: outputs {list(n.output)} {attrs}', file=sys.stderr)
    write_source_md(m, path)


def write_source_md(m, path):
    counts = collections.Counter(n.op_type for n in m.graph.node)
    ops = ', '.join(f'{op} ×{k}' for op, k in sorted(counts.items()))
    lines = [
        '# bicubic_groups',
        '',
        f'A tiny seeded `nn.Module` (seed {SEED}; `BicubicGroups` in `scripts/make-onnx-op-references.py`, which',
        f'wrote this folder): Conv2d 3→4 (3×3, padding 1) → MaxPool2d(2, return_indices=True), the indices',
        'unused (torch then exports a MaxPool with one output) → ConvTranspose2d 4→6 (3×3, stride 2,',
        'padding 1, output_padding 1, groups 2, dilation 2) → tanh → F.interpolate(size=(7, 7),',
        "mode='bicubic', align_corners=False) → Linear 294→5. Input `input` [batch, 3, 8, 8] float32 NCHW,",
        'output `logits` [batch, 5].',
        '',
        f'- model.onnx: {os.path.getsize(path)} bytes, `torch.onnx.export` with torch {torch.__version__}, opset {OPSET},',
        '  constant folding on, eval mode, only the batch dimension dynamic; passes onnx',
        f'  {onnx.__version__} `onnx.checker.check_model`. Its ops: {ops}. The Resize is mode cubic,',
        '  half_pixel, cubic_coeff_a −0.75, sizes from Shape → Slice → Concat; the ConvTranspose has group 2',
        '  and dilations [2, 2].',
        '- reference.json: the input (batch 2, x_i = sin(0.7·i + 0.3)·(1 + 0.05·i)), PyTorch\'s float32 logits,',
        '  and the gradient of Σ logits·linspace(−1, 1, 5) with respect to the input (all flattened, NCHW).',
        '',
        'Checked by test/onnx.test.ts (logits and input gradient within 1e-5 of the largest).',
        '',
    ]
    with open(os.path.join(FIXTURE, 'SOURCE.md'), 'w') as f:
        f.write('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--no-fixture', action='store_true')
    args = parser.parse_args()
    torch.set_num_threads(1)
    resize_references()
    conv_transpose_references()
    if not args.no_fixture:
        write_fixture()


if __name__ == '__main__':
    main()
