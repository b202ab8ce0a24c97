#!/usr/bin/env python3
"""Writes fixtures/onnx/: torchvision architectures exported to ONNX, with PyTorch's reference outputs.

igx's ONNX reader must reproduce PyTorch: the logits and the input gradients. Real ImageNet weights
cannot be downloaded where igx is built, so every model holds seeded random weights, made non-trivial
where torchvision's initialisation is trivial, so that a reader that drops or misplaces a parameter
fails its test:

1. `torch.manual_seed(seed)`, then the torchvision constructor (`weights=None`, 1000 classes).
2. Norm layers (BatchNorm2d, LayerNorm, GroupNorm): weight ~ U(0.5, 1.5), bias ~ N(0, 0.1²)
   (torchvision sets them to 1 and 0). Conv and Linear biases that are all zero ~ N(0, 0.05²); a
   Linear weight that is all zero (ViT's head) ~ N(0, 1/in_features). ConvNeXt's `layer_scale`
   (1e-6, which makes its blocks nearly the identity) ~ U(0.1, 0.5); ViT's `class_token` (zeros)
   ~ N(0, 0.02²).
3. BatchNorm running statistics: in train mode, with `momentum=None` (a cumulative average), three
   forward passes over seeded N(0, 1) noise of shape [4, 3, 224, 224]; then `eval()`. So running_mean
   and running_var are far from 0 and 1, and a BatchNormalization (or Conv+BN folding) bug shows.

The input is fixtures/images/cat.jpg (352×352 RGB), decoded by PIL and resized with PIL's
`Image.BILINEAR` to 224×224 (the whole image, as igx's `fill`; PIL's bilinear filter widens its
support when it shrinks, so it antialiases; the result is rounded to uint8). Those pixels are
saved losslessly as `cat_224.png`; igx reads a 224×224 image without resampling, so
`igx --preprocess imagenet` on that PNG gives the same input. Normalisation is igx's and
torchvision's ImageNet one, (pixel − 255·mean) / (255·std) with mean (0.485, 0.456, 0.406) and
std (0.229, 0.224, 0.225), computed in float64 and stored as float32 NCHW [1, 3, 224, 224]
(`input.npy`, shared by all models).

Per model, in OUT/<name>/:
- model.onnx: `torch.onnx.export` in eval mode, opset 17 (the highest torch 1.13 supports),
  constant folding on, input `input` [batch, 3, 224, 224], output `logits` [batch, 1000], only the
  batch dimension dynamic.
- logits.npy ([1, 1000] float32) and reference.json: versions, opset, seed, the target class (the
  top class at the input), the top 5 logits, the target logit at 0.5·input and at 0, summaries of the
  gradients (sums, norms, the largest entry, values at fixed sampled positions), and how far the
  float32 results lie from a float64 run of the same model (what float32 itself allows).
- grad_top.npy and grad_top_half.npy (float32 NCHW [1, 3, 224, 224]): the gradient of the target
  logit with respect to the input, at the input and at 0.5·input (the same target class: one point of
  an Integrated Gradients integrand with a zero baseline). Written and committed for every model,
  the large ones too (whose .onnx is not committed).
- SOURCE.md: what the model is, how it was made, and the ONNX op types it uses.

Besides those, OUT/unsupported_ops/model.onnx (written by `onnx.helper`, no torch; `--models
unsupported_ops` writes only it): a 3-channel 8×8 model with ops igx does not support (LRN twice,
Softplus, and com.microsoft's Gelu) between ops it does, named as torch names its nodes, so that
`igx inspect` and the E_UNSUPPORTED_OP message can be checked on a file. Its weights are seeded.

Every export passes `onnx.checker.check_model`; the script prints each model's size, opset and ops.

Run (Debian): apt-get install -y python3-torch python3-torchvision python3-onnx python3-pil python3-numpy
              /usr/bin/python3 scripts/make-onnx-fixtures.py [--out DIR] [--models a,b] [--threads N]
"""
import argparse
import collections
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import models as tvm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
IMAGE = os.path.join(ROOT, 'fixtures', 'images', 'cat.jpg')
SIZE = 224
SEED = 0
OPSET = 17
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MAX_COMMITTED_BYTES = 25 * 1024 * 1024
SAMPLED_POSITIONS = 32


def vit_tiny_2layer():
    return tvm.VisionTransformer(image_size=224, patch_size=16, num_layers=2, num_heads=3, hidden_dim=192,
                                 mlp_dim=768, num_classes=1000)


def densenet_mini():
    # torch.onnx.export folds each BatchNorm that follows a Conv into the Conv; DenseNet's BatchNorms come
    # first (BN → ReLU → Conv), so they stay BatchNormalization nodes. densenet121 is too large to commit.
    return tvm.DenseNet(growth_rate=12, block_config=(2, 2, 2, 2), num_init_features=24, bn_size=4, num_classes=1000)


def convnext_mini():
    # ConvNeXt's blocks run in NHWC inside an NCHW model (Transpose, LayerNormalization on the last axis,
    # MatMul on rank-4 tensors, Transpose back); convnext_tiny is too large to commit.
    cfg = tvm.convnext.CNBlockConfig
    return tvm.convnext.ConvNeXt([cfg(24, 48, 1), cfg(48, 96, 1), cfg(96, 192, 1), cfg(192, None, 1)], num_classes=1000)


# name -> (constructor, constructor text for SOURCE.md, committed to git with full gradients)
MODELS = {
    'squeezenet1_1': (lambda: tvm.squeezenet1_1(weights=None), 'torchvision.models.squeezenet1_1(weights=None)', True),
    'shufflenet_v2_x0_5': (lambda: tvm.shufflenet_v2_x0_5(weights=None), 'torchvision.models.shufflenet_v2_x0_5(weights=None)', True),
    'mobilenet_v3_small': (lambda: tvm.mobilenet_v3_small(weights=None), 'torchvision.models.mobilenet_v3_small(weights=None)', True),
    'mobilenet_v2': (lambda: tvm.mobilenet_v2(weights=None), 'torchvision.models.mobilenet_v2(weights=None)', True),
    'regnet_y_400mf': (lambda: tvm.regnet_y_400mf(weights=None), 'torchvision.models.regnet_y_400mf(weights=None)', True),
    'efficientnet_b0': (lambda: tvm.efficientnet_b0(weights=None), 'torchvision.models.efficientnet_b0(weights=None)', True),
    'vit_tiny_2layer': (vit_tiny_2layer, 'torchvision.models.VisionTransformer(image_size=224, patch_size=16, num_layers=2, num_heads=3, hidden_dim=192, mlp_dim=768, num_classes=1000)', True),
    'densenet_mini': (densenet_mini, 'torchvision.models.DenseNet(growth_rate=12, block_config=(2, 2, 2, 2), num_init_features=24, bn_size=4, num_classes=1000)', True),
    'convnext_mini': (convnext_mini, 'torchvision.models.convnext.ConvNeXt([CNBlockConfig(24, 48, 1), CNBlockConfig(48, 96, 1), CNBlockConfig(96, 192, 1), CNBlockConfig(192, None, 1)], num_classes=1000)', True),
    'resnet18': (lambda: tvm.resnet18(weights=None), 'torchvision.models.resnet18(weights=None)', False),
    'resnet50': (lambda: tvm.resnet50(weights=None), 'torchvision.models.resnet50(weights=None)', False),
    'densenet121': (lambda: tvm.densenet121(weights=None), 'torchvision.models.densenet121(weights=None)', False),
    'convnext_tiny': (lambda: tvm.convnext_tiny(weights=None), 'torchvision.models.convnext_tiny(weights=None)', False),
    'vit_b_16': (lambda: tvm.vit_b_16(weights=None), 'torchvision.models.vit_b_16(weights=None)', False),
}


def write_unsupported_ops(out):
    """A tiny model whose LRN (×2), Softplus and com.microsoft.Gelu igx does not support."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(SEED)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), 'conv.weight')
    b = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), 'conv.bias')
    node = helper.make_node
    nodes = [
        node('Conv', ['input', 'conv.weight', 'conv.bias'], ['c1'], name='/features/features.0/Conv', kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node('LRN', ['c1'], ['n1'], name='/features/features.1/LRN', size=3),
        node('Relu', ['n1'], ['r1'], name='/features/features.2/Relu'),
        node('Softplus', ['r1'], ['s1'], name='/features/features.3/Softplus'),
        node('LRN', ['s1'], ['n2'], name='/features/features.4/LRN', size=3),
        node('Gelu', ['n2'], ['g1'], name='/features/features.5/Gelu', domain='com.microsoft'),
        node('GlobalAveragePool', ['g1'], ['p'], name='/pool/GlobalAveragePool'),
        node('Flatten', ['p'], ['logits'], name='/Flatten'),
    ]
    graph = helper.make_graph(
        nodes, 'unsupported_ops',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['batch', 3, 8, 8])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 4])],
        initializer=[w, b])
    model = helper.make_model(graph, producer_name='igx make-onnx-fixtures.py', opset_imports=[
        helper.make_opsetid('', OPSET), helper.make_opsetid('com.microsoft', 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(out, 'unsupported_ops'), exist_ok=True)
    path = os.path.join(out, 'unsupported_ops', 'model.onnx')
    onnx.save(model, path)
    with open(os.path.join(out, 'unsupported_ops', 'SOURCE.md'), 'w') as f:
        f.write('# unsupported_ops\n\nA 3-channel 8×8 model written with `onnx.helper` by `scripts/make-onnx-fixtures.py '
                '--models unsupported_ops` (no torch; seeded weights; passes `onnx.checker`), opset '
                f'{OPSET}. Its ops: {", ".join(f"{k} ×{v}" for k, v in sorted(op_counts(model).items()))}. '
                'LRN, Softplus and com.microsoft:Gelu are ops igx does not support: `igx explain` fails with '
                'E_UNSUPPORTED_OP naming all three, and `igx inspect` lists them.\n')
    print(f'unsupported_ops: {os.path.getsize(path)} bytes, opset {OPSET}, ops {sorted(op_counts(model))}')


# models written without torch: name -> writer(out)
HANDMADE = {'unsupported_ops': write_unsupported_ops}

NORMS = (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)


# ---------- the input ----------

def load_pixels():
    """cat.jpg → 224×224 RGB uint8 (HWC), the whole image stretched with PIL's antialiased bilinear."""
    with Image.open(IMAGE) as im:
        return np.asarray(im.convert('RGB').resize((SIZE, SIZE), Image.BILINEAR), dtype=np.uint8)


def normalize(pixels):
    mean = np.asarray(IMAGENET_MEAN) * 255
    std = np.asarray(IMAGENET_STD) * 255
    x = (pixels.astype(np.float64) - mean) / std  # [224, 224, 3]
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]).astype(np.float32)  # NCHW [1, 3, 224, 224]


# ---------- the model ----------

def build(name, seed):
    make, _, _ = MODELS[name]
    torch.manual_seed(seed)
    model = make()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, NORMS) and getattr(m, 'weight', None) is not None:
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if m.bias is not None and not m.bias.any():
                    m.bias.normal_(0, 0.05)
                if isinstance(m, nn.Linear) and not m.weight.any():
                    m.weight.normal_(0, m.in_features ** -0.5)
        for pname, p in model.named_parameters():
            if pname.endswith('layer_scale'):
                p.uniform_(0.1, 0.5)
            elif pname == 'class_token':
                p.normal_(0, 0.02)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
        model.train()
        with torch.no_grad():
            for _ in range(3):
                model(torch.randn(4, 3, SIZE, SIZE))
        for m in bns:
            m.momentum = 0.1
    return model.eval()


# ---------- references ----------

def forward_and_grads(model, x, target=None):
    """Logits at x, and the gradient of the target logit (default: the top class) at x and at 0.5·x."""
    xin = x.clone().requires_grad_(True)
    logits = model(xin)
    if target is None:
        target = int(logits[0].argmax())
    (grad,) = torch.autograd.grad(logits[0, target], xin)
    half = (0.5 * x).requires_grad_(True)
    half_logits = model(half)
    (grad_half,) = torch.autograd.grad(half_logits[0, target], half)
    with torch.no_grad():
        zero_logits = model(torch.zeros_like(x))
    return {
        'logits': logits.detach(), 'target': target, 'grad': grad, 'grad_half': grad_half,
        'half_logit': float(half_logits[0, target]), 'zero_logit': float(zero_logits[0, target]),
    }


def summarize(g, positions):
    g = g.astype(np.float64)
    flat = g.reshape(-1)
    i = int(np.abs(flat).argmax())
    return {
        'sum': float(flat.sum()),
        'abs_sum': float(np.abs(flat).sum()),
        'l2': float(np.sqrt((flat ** 2).sum())),
        'channel_sums': [float(s) for s in g[0].sum(axis=(1, 2))],
        'max_abs': {'value': float(flat[i]), 'flat_index': i, 'nchw': [int(v) for v in np.unravel_index(i, g.shape)]},
        'sampled': [float(flat[p]) for p in positions],
    }


def compare(a, b):
    """How far a lies from b: max |a − b| / max |b| (the error relative to the tensor's scale), the
    norm-wise ‖a − b‖ / ‖b‖, and how many entries are off by more than 1e-4 · max |b|."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    d = np.abs(a - b)
    scale = np.abs(b).max()
    return {'max_rel': float(d.max() / scale), 'norm_rel': float(np.linalg.norm(d) / np.linalg.norm(b)),
            'count_over_1e-4': int((d > 1e-4 * scale).sum()), 'of': int(d.size)}


# ---------- ONNX ----------

def export(model, x, path):
    torch.onnx.export(
        model, x, path, opset_version=OPSET, do_constant_folding=True,
        input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def op_counts(m):
    """Op types of the main graph and of any subgraphs (If/Loop bodies), with counts."""
    counts = collections.Counter()

    def visit(graph):
        for node in graph.node:
            counts[node.op_type if node.domain in ('', 'ai.onnx') else f'{node.domain}:{node.op_type}'] += 1
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)
    visit(m.graph)
    return dict(sorted(counts.items()))


def dims(value_info):
    return [d.dim_param if d.dim_param else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


# ---------- main ----------

def versions():
    return {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'onnx': onnx.__version__,
            'numpy': np.__version__, 'python': sys.version.split()[0]}


def write_source_md(path, name, ref, ops):
    _, ctor, committed = MODELS[name]
    onnx_ref = ref['onnx']
    f64 = ref['float32_vs_float64']
    lines = [
        f'# {name}',
        '',
        f'torchvision {ref["versions"]["torchvision"]} architecture `{ctor}` (BSD-3-Clause), with seeded random',
        f'weights (seed {ref["seed"]}), exported by `scripts/make-onnx-fixtures.py` with torch {ref["versions"]["torch"]}',
        f'`torch.onnx.export` (opset {onnx_ref["opset"]}, IR version {onnx_ref["ir_version"]}, constant folding on, eval mode);',
        f'checked with onnx {ref["versions"]["onnx"]} `onnx.checker.check_model`. See the script\'s docstring for how',
        'the weights and BatchNorm statistics were made non-trivial. No trained weights: the classes mean nothing.',
        '',
        f'- model.onnx: {onnx_ref["bytes"]} bytes, sha256 `{onnx_ref["sha256"]}`'
        + ('' if committed else ' (not committed: listed in .gitignore; run the script to make it)'),
        f'- input `{onnx_ref["input"]["name"]}` {onnx_ref["input"]["shape"]} float32 NCHW, ImageNet mean/std;'
        f' output `{onnx_ref["output"]["name"]}` {onnx_ref["output"]["shape"]} (logits, no softmax)',
        f'- {onnx_ref["nodes"]} nodes, {onnx_ref["initializers"]} initializers',
        f'- reference: target (top) class {ref["target"]}, logit {ref["top5"][0]["logit"]:.6g};'
        f' margin to the second {ref["top1_margin"]:.4g}',
        f'- PyTorch float32 vs float64 on the same weights: logits max rel {f64["logits"]["max_rel"]:.2g}; gradient'
        f' max rel {f64["grad_top"]["max_rel"]:.2g}, norm rel {f64["grad_top"]["norm_rel"]:.2g},'
        f' {f64["grad_top"]["count_over_1e-4"]} entries off by more than 1e-4 of the largest'
        f' (at 0.5·input: {f64["grad_top_half"]["max_rel"]:.2g}, {f64["grad_top_half"]["norm_rel"]:.2g},'
        f' {f64["grad_top_half"]["count_over_1e-4"]})',
        '- files: reference.json, logits.npy, grad_top.npy, grad_top_half.npy' + ('' if committed else
                                                 ' (committed; model.onnx is not)')
        + '; the input is ../input.npy (pixels ../cat_224.png)',
        '',
        '## ONNX op types (count)',
        '',
        ', '.join(f'{op} ({n})' for op, n in ops.items()),
        '',
    ]
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def run_model(name, out, seed, x_np, positions):
    _, ctor, committed = MODELS[name]
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    model = build(name, seed)
    x = torch.from_numpy(x_np)

    r32 = forward_and_grads(model, x)
    r64 = forward_and_grads(model.double(), x.double(), r32['target'])
    model.float()

    path = os.path.join(folder, 'model.onnx')
    m = export(model, x, path)
    size = os.path.getsize(path)
    if committed and size > MAX_COMMITTED_BYTES:
        print(f'WARNING: {name}: {size} bytes is over the {MAX_COMMITTED_BYTES}-byte limit for committed fixtures')
    opsets = {o.domain or 'ai.onnx': o.version for o in m.opset_import}
    ops = op_counts(m)

    logits = r32['logits'].numpy().astype(np.float32)
    grad = r32['grad'].numpy().astype(np.float32)
    grad_half = r32['grad_half'].numpy().astype(np.float32)
    np.save(os.path.join(folder, 'logits.npy'), logits)
    # Every model's gradients, 0.6 MB each: the large models' .onnx files are not committed, but their
    # references are, so whoever generates a model can check its gradients too.
    for fname, g in (('grad_top.npy', grad), ('grad_top_half.npy', grad_half)):
        np.save(os.path.join(folder, fname), g)

    order = np.argsort(-logits[0].astype(np.float64), kind='stable')
    ref = {
        'model': name,
        'constructor': ctor,
        'seed': seed,
        'committed': committed,
        'versions': versions(),
        'torch_threads': torch.get_num_threads(),
        'onnx': {
            'file': 'model.onnx', 'bytes': size, 'sha256': sha256(path), 'opset': opsets.get('ai.onnx'),
            'opset_import': opsets, 'ir_version': m.ir_version, 'producer': f'{m.producer_name} {m.producer_version}',
            'input': {'name': m.graph.input[0].name, 'shape': dims(m.graph.input[0])},
            'output': {'name': m.graph.output[0].name, 'shape': dims(m.graph.output[0])},
            'nodes': len(m.graph.node), 'initializers': len(m.graph.initializer), 'op_types': ops,
        },
        'input': {
            'file': '../input.npy', 'sha256': sha256(os.path.join(out, 'input.npy')), 'shape': list(x_np.shape),
            'layout': 'NCHW float32',
            'description': 'fixtures/images/cat.jpg (352x352) resized whole to 224x224 with PIL Image.BILINEAR '
                           '(antialiased), rounded to uint8 (../cat_224.png), then (pixel - 255*mean) / (255*std) '
                           'with ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), in float64, '
                           'stored as float32',
        },
        'target': r32['target'],
        'top5': [{'class': int(c), 'logit': float(logits[0, c])} for c in order[:5]],
        'top1_margin': float(logits[0, order[0]] - logits[0, order[1]]),
        'logits_file': 'logits.npy',
        'target_logit_at_half_input': r32['half_logit'],
        'target_logit_at_zero_input': r32['zero_logit'],
        'grad_top': {'file': 'grad_top.npy',
                     'what': 'd logits[0, target] / d input at the input, NCHW [1, 3, 224, 224]',
                     'summary': summarize(grad, positions)},
        'grad_top_half': {'file': 'grad_top_half.npy',
                          'what': 'd logits[0, target] / d input at 0.5 * input (same target), NCHW',
                          'summary': summarize(grad_half, positions)},
        'sampled_positions': {'what': 'flat NCHW indices of the summaries\' `sampled` values',
                              'flat_index': positions},
        'float32_vs_float64': {
            'what': 'the same PyTorch model run in float64 (same weights, same target); how far float32 lies '
                    'from it. Gradients of ReLU/MaxPool networks are discontinuous: a unit whose input is within '
                    'float32 rounding of a kink can switch side, and changes the gradient in its receptive field',
            'logits': compare(logits, r64['logits'].numpy()),
            'grad_top': compare(grad, r64['grad'].numpy()),
            'grad_top_half': compare(grad_half, r64['grad_half'].numpy()),
        },
    }
    with open(os.path.join(folder, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    write_source_md(os.path.join(folder, 'SOURCE.md'), name, ref, ops)
    f64 = ref['float32_vs_float64']
    print(f'{name}: {size / 1e6:.2f} MB, opset {opsets.get("ai.onnx")}, target {r32["target"]} '
          f'(margin {ref["top1_margin"]:.3g}); f32 vs f64: logits {f64["logits"]["max_rel"]:.2g}, '
          f'grad max {f64["grad_top"]["max_rel"]:.2g} norm {f64["grad_top"]["norm_rel"]:.2g} '
          f'({f64["grad_top"]["count_over_1e-4"]} over 1e-4), half max {f64["grad_top_half"]["max_rel"]:.2g}; '
          f'{"committed" if committed else "not committed"}')
    print(f'  ops: {sorted(ops)}', flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(ROOT, 'fixtures', 'onnx'))
    ap.add_argument('--models', default=','.join([*MODELS, *HANDMADE]), help='comma-separated names (default: all)')
    ap.add_argument('--seed', type=int, default=SEED)
    ap.add_argument('--threads', type=int, default=1, help='torch threads (default 1: shared machines)')
    args = ap.parse_args()
    names = [n for n in args.models.split(',') if n]
    unknown = [n for n in names if n not in MODELS and n not in HANDMADE]
    if unknown:
        ap.error(f'unknown model(s) {unknown}; known: {[*MODELS, *HANDMADE]}')
    for name in [n for n in names if n in HANDMADE]:
        HANDMADE[name](args.out)
    names = [n for n in names if n in MODELS]
    if not names:
        return
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    pixels = load_pixels()
    Image.fromarray(pixels).save(os.path.join(args.out, 'cat_224.png'), optimize=True)
    x_np = normalize(pixels)
    np.save(os.path.join(args.out, 'input.npy'), x_np)
    rng = np.random.default_rng(args.seed)
    positions = sorted(int(p) for p in rng.choice(x_np.size, SAMPLED_POSITIONS, replace=False))

    print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, opset {OPSET}')
    for name in names:  # one at a time: each model is built, exported and freed before the next
        run_model(name, args.out, args.seed, x_np, positions)


if __name__ == '__main__':
    main()
