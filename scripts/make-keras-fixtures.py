#!/usr/bin/env python3
"""Writes fixtures/keras/: small Keras 2 (.h5) and Keras 3 (.keras) model files, without Keras.

There is no TensorFlow or Keras where igx is built, so this script writes the files the way Keras
writes them, with the same h5py and zipfile calls:

- Keras 2 `model.save('m.h5')` (keras/saving/legacy/hdf5_format.py): root attributes backend,
  keras_version and model_config (a JSON string, `.encode('utf8')`, so h5py stores a variable-length
  string); group model_weights with attributes backend, keras_version, layer_names (fixed-length
  string arrays) and one group per layer whose `weight_names` attribute lists its datasets
  ('conv2d/kernel:0' is the dataset model_weights/conv2d/conv2d/kernel:0).
- Keras 3 `model.save('m.keras')` (keras/src/saving/saving_lib.py): an uncompressed zip of
  metadata.json, config.json and model.weights.h5. In the weights file each layer's variables are
  `layers/<snake_case class name>[_<n>]/vars/<i>` (named by class and position, not by the layer's
  name), trainable variables first; the model's own `vars` group sits at the root.

Both models are also run forward here in numpy, by hand, on one fixed input; reference.json keeps the
outputs, so a loader that maps a weight to the wrong variable fails its test.

Run: apt-get install -y python3-h5py && /usr/bin/python3 scripts/make-keras-fixtures.py
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'keras')
H, W, C, CLASSES = 16, 16, 3, 5
FIXED_DATE = (2024, 9, 1, 12, 0, 0)


# ---------- numpy forward (NHWC, as Keras and tfjs) ----------

def conv2d_same(x, kernel, bias):
    kh, kw, _, _ = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    out = np.zeros((x.shape[0], x.shape[1], kernel.shape[3]), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += xp[i:i + x.shape[0], j:j + x.shape[1], :] @ kernel[i, j]
    return out + (0 if bias is None else bias)


def depthwise_same(x, kernel):
    kh, kw, _, _ = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    out = np.zeros(x.shape, np.float64)
    for i in range(kh):
        for j in range(kw):
            out += xp[i:i + x.shape[0], j:j + x.shape[1], :] * kernel[i, j, :, 0]
    return out


def batch_norm(x, gamma, beta, mean, var, eps=1e-3):
    g = 1.0 if gamma is None else gamma
    return g * (x - mean) / np.sqrt(var + eps) + beta


def max_pool2(x):
    h, w, c = x.shape
    return x[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def relu(x):
    return np.maximum(x, 0)


# ---------- weights ----------

def make_weights(seed):
    rng = np.random.default_rng(seed)
    f32 = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)  # noqa: E731
    pos = lambda *s: (rng.uniform(0.5, 1.5, s)).astype(np.float32)  # noqa: E731
    return {
        'seq': {
            'conv2d': [f32(3, 3, 3, 4), f32(4)],
            'batch_normalization': [pos(4), f32(4), f32(4), pos(4)],  # gamma, beta, moving_mean, moving_variance
            'dense': [f32(8 * 8 * 4, CLASSES), f32(CLASSES)],
        },
        'func': {
            'conv2d': [f32(3, 3, 3, 4), f32(4)],
            'depthwise_conv2d': [f32(3, 3, 3, 1)],  # use_bias=False
            'batch_normalization': [f32(3), f32(3), pos(3)],  # scale=False: beta, moving_mean, moving_variance
            'head_conv': [f32(1, 1, 7, 6), f32(6)],
            'logits': [f32(6, CLASSES), f32(CLASSES)],
        },
        'nested': {
            'block_conv': [f32(3, 3, 3, 4), f32(4)],
            'block_bn': [pos(4), f32(4), f32(4), pos(4)],
            'dense': [f32(4, CLASSES), f32(CLASSES)],
        },
    }


def forward_seq(x, w):
    y = relu(conv2d_same(x, *w['conv2d']))
    y = batch_norm(y, *w['batch_normalization'])
    y = max_pool2(y).reshape(-1)
    z = y @ w['dense'][0] + w['dense'][1]
    return z


def forward_func(x, w):
    a = relu(conv2d_same(x, *w['conv2d']))
    b = depthwise_same(x, w['depthwise_conv2d'][0])
    b = relu(batch_norm(b, None, *w['batch_normalization']))
    y = np.concatenate([a, b], axis=-1)  # [16,16,7]
    y = relu(conv2d_same(y, *w['head_conv']))
    y = y.mean(axis=(0, 1))
    return y @ w['logits'][0] + w['logits'][1]


def forward_nested(x, w):
    y = relu(batch_norm(conv2d_same(x, *w['block_conv']), *w['block_bn']))
    return y.mean(axis=(0, 1)) @ w['dense'][0] + w['dense'][1]


# ---------- configs ----------

def policy(k3):
    if not k3:
        return 'float32'
    return {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}


def init(name, k3, config=None):
    obj = {'class_name': name, 'config': {'seed': None} if config is None else config}
    if k3:
        obj = {'module': 'keras.initializers', **obj, 'registered_name': None}
    return obj


def conv_config(name, filters, kernel, activation, k3, use_bias=True, padding='same'):
    c = {
        'name': name, 'trainable': True, 'dtype': policy(k3), 'filters': filters,
        'kernel_size': [kernel, kernel], 'strides': [1, 1], 'padding': padding,
        'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
        'activation': activation, 'use_bias': use_bias,
        'kernel_initializer': init('GlorotUniform', k3), 'bias_initializer': init('Zeros', k3, {}),
        'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
        'kernel_constraint': None, 'bias_constraint': None,
    }
    if k3:
        c['kernel_regularizer'] = {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 1e-4}, 'registered_name': None}
    return c


def bn_config(name, k3, scale=True):
    c = {
        'name': name, 'trainable': True, 'dtype': policy(k3), 'axis': -1 if k3 else [3], 'momentum': 0.99,
        'epsilon': 0.001, 'center': True, 'scale': scale,
        'beta_initializer': init('Zeros', k3, {}), 'gamma_initializer': init('Ones', k3, {}),
        'moving_mean_initializer': init('Zeros', k3, {}), 'moving_variance_initializer': init('Ones', k3, {}),
        'beta_regularizer': None, 'gamma_regularizer': None, 'beta_constraint': None, 'gamma_constraint': None,
    }
    if k3:
        c['synchronized'] = False
    return c


def dense_config(name, units, activation, k3):
    return {
        'name': name, 'trainable': True, 'dtype': policy(k3), 'units': units, 'activation': activation,
        'use_bias': True, 'kernel_initializer': init('GlorotUniform', k3), 'bias_initializer': init('Zeros', k3, {}),
        'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
        'kernel_constraint': None, 'bias_constraint': None,
    }


def layer(cls, config, k3, build_shape=None):
    if not k3:
        return {'class_name': cls, 'config': config}
    obj = {'module': 'keras.layers', 'class_name': cls, 'config': config, 'registered_name': None}
    if build_shape is not None:
        obj['build_config'] = {'input_shape': build_shape}
    return obj


def input_layer(name, k3):
    if k3:
        return layer('InputLayer', {'batch_shape': [None, H, W, C], 'dtype': 'float32', 'sparse': False, 'name': name}, k3)
    return layer('InputLayer', {'batch_input_shape': [None, H, W, C], 'dtype': 'float32', 'sparse': False, 'ragged': False, 'name': name}, k3)


def seq_layers(k3, dense_units_in=8 * 8 * 4):
    s = [None, H, W, C]
    return [
        input_layer('input_layer' if k3 else 'conv2d_input', k3),
        layer('Conv2D', conv_config('conv2d', 4, 3, 'relu', k3), k3, s),
        layer('BatchNormalization', bn_config('batch_normalization', k3), k3, [None, H, W, 4]),
        layer('MaxPooling2D', {'name': 'max_pooling2d', 'trainable': True, 'dtype': policy(k3), 'pool_size': [2, 2], 'padding': 'valid', 'strides': [2, 2], 'data_format': 'channels_last'}, k3, [None, H, W, 4]),
        layer('Flatten', {'name': 'flatten', 'trainable': True, 'dtype': policy(k3), 'data_format': 'channels_last'}, k3, [None, 8, 8, 4]),
        layer('Dropout', {'name': 'dropout', 'trainable': True, 'dtype': policy(k3), 'rate': 0.2, 'seed': None, 'noise_shape': None}, k3, [None, dense_units_in]),
        layer('Dense', dense_config('dense', CLASSES, 'linear', k3), k3, [None, dense_units_in]),
        layer('Activation', {'name': 'predictions', 'trainable': True, 'dtype': policy(k3), 'activation': 'softmax'}, k3, [None, CLASSES]),
    ]


def seq_config(k3):
    config = {'name': 'sequential', 'trainable': True, 'layers': seq_layers(k3)}
    if not k3:
        return {'class_name': 'Sequential', 'config': config}
    config = {'name': 'sequential', 'trainable': True, 'dtype': policy(True), 'layers': seq_layers(True), 'build_input_shape': [None, H, W, C]}
    return {'module': 'keras', 'class_name': 'Sequential', 'config': config, 'registered_name': None,
            'build_config': {'input_shape': [None, H, W, C]}, 'compile_config': None}


# A nested model built on an Input has a node of its own (input to output) before the outer model calls
# it; Keras 2 and 3 number the outer call 1 (functional.py, _should_skip_first_node).
NESTED_MODELS = {'block'}


def node_index(source):
    return 1 if source in NESTED_MODELS else 0


def k3_tensor(source, shape):
    return {'class_name': '__keras_tensor__', 'config': {'shape': shape, 'dtype': 'float32', 'keras_history': [source, node_index(source), 0]}}


def func_graph():
    """(class, config, inputs, kwargs, build shape, output shape) per layer, in Keras' layer order."""
    s = [None, H, W, C]
    return [
        ('InputLayer', None, [], {}, None, s),
        ('Conv2D', lambda k3: conv_config('conv2d', 4, 3, 'relu', k3), ['input'], {}, s, [None, H, W, 4]),
        ('DepthwiseConv2D', lambda k3: {**{k: v for k, v in conv_config('depthwise_conv2d', 0, 3, 'linear', k3, use_bias=False).items() if k not in ('filters', 'kernel_initializer', 'kernel_regularizer', 'kernel_constraint', 'groups')},
                                        'depth_multiplier': 1, 'depthwise_initializer': init('GlorotUniform', k3), 'depthwise_regularizer': None, 'depthwise_constraint': None},
         ['input'], {}, s, s),
        ('BatchNormalization', lambda k3: bn_config('batch_normalization', k3, scale=False), ['depthwise_conv2d'], {'mask': None}, s, s),
        ('ReLU', lambda k3: {'name': 're_lu', 'trainable': True, 'dtype': policy(k3), 'max_value': None, 'negative_slope': 0.0, 'threshold': 0.0}, ['batch_normalization'], {}, s, s),
        ('Concatenate', lambda k3: {'name': 'concatenate', 'trainable': True, 'dtype': policy(k3), 'axis': -1}, [['conv2d', 're_lu']], {}, [[None, H, W, 4], s], [None, H, W, 7]),
        ('Conv2D', lambda k3: conv_config('head_conv', 6, 1, 'relu', k3), ['concatenate'], {}, [None, H, W, 7], [None, H, W, 6]),
        ('GlobalAveragePooling2D', lambda k3: {'name': 'global_average_pooling2d', 'trainable': True, 'dtype': policy(k3), 'data_format': 'channels_last', 'keepdims': False}, ['head_conv'], {}, [None, H, W, 6], [None, 6]),
        ('Dense', lambda k3: dense_config('logits', CLASSES, 'linear', k3), ['global_average_pooling2d'], {}, [None, 6], [None, CLASSES]),
        ('Activation', lambda k3: {'name': 'predictions', 'trainable': True, 'dtype': policy(k3), 'activation': 'softmax'}, ['logits'], {}, [None, CLASSES], [None, CLASSES]),
    ]


def func_config(k3, extra=None):
    graph = func_graph() if extra is None else extra
    inp = 'input_layer' if k3 else 'input_1'
    shapes = {}
    layers = []
    for cls, make, inputs, kwargs, build, out_shape in graph:
        if cls == 'InputLayer':
            obj = input_layer(inp, k3)
            name = inp
        else:
            config = make(k3)
            if cls == 'Sequential':  # a nested model: its serialized entry as a whole
                obj = dict(config)
                name = config['config']['name']
            else:
                name = config['name']
                obj = layer(cls, config, k3, build)
        shapes[name] = out_shape
        obj['name'] = name
        resolve = lambda n: inp if n == 'input' else n  # noqa: E731
        if not inputs:
            obj['inbound_nodes'] = []
        elif k3:
            args = [[k3_tensor(resolve(n), shapes[resolve(n)]) for n in i] if isinstance(i, list) else k3_tensor(resolve(i), shapes[resolve(i)]) for i in inputs]
            obj['inbound_nodes'] = [{'args': args, 'kwargs': kwargs}]
        else:
            flat = inputs[0] if isinstance(inputs[0], list) else inputs
            obj['inbound_nodes'] = [[[resolve(n), node_index(resolve(n)), 0, dict(kwargs)] for n in flat]]
        layers.append(obj)
    last = layers[-1]['name']
    config = {'name': 'functional' if k3 else 'model', 'trainable': True, 'layers': layers,
              'input_layers': [[inp, 0, 0]], 'output_layers': [[last, 0, 0]]}
    if not k3:
        return {'class_name': 'Functional', 'config': config}
    return {'module': 'keras.src.models.functional', 'class_name': 'Functional', 'config': config,
            'registered_name': 'Functional', 'build_config': {'input_shape': None}, 'compile_config': None}


def nested_config(k3):
    """A functional model around a nested Sequential 'block' (Conv2D, BatchNormalization, ReLU)."""
    inner = {'name': 'block', 'trainable': True, 'layers': [
        input_layer('block_input', k3),
        layer('Conv2D', conv_config('block_conv', 4, 3, 'linear', k3), k3, [None, H, W, C]),
        layer('BatchNormalization', bn_config('block_bn', k3), k3, [None, H, W, 4]),
        layer('ReLU', {'name': 'block_relu', 'trainable': True, 'dtype': policy(k3), 'max_value': None, 'negative_slope': 0.0, 'threshold': 0.0}, k3, [None, H, W, 4]),
    ]}
    if k3:
        inner['dtype'] = policy(True)
        block = {'module': 'keras', 'class_name': 'Sequential', 'config': inner, 'registered_name': None, 'build_config': {'input_shape': [None, H, W, C]}}
    else:
        block = {'class_name': 'Sequential', 'config': inner}
    s = [None, H, W, C]
    graph = [
        ('InputLayer', None, [], {}, None, s),
        ('Sequential', lambda k3: block, ['input'], {}, s, [None, H, W, 4]),
        ('GlobalAveragePooling2D', lambda k3: {'name': 'global_average_pooling2d', 'trainable': True, 'dtype': policy(k3), 'data_format': 'channels_last', 'keepdims': False}, ['block'], {}, [None, H, W, 4], [None, 4]),
        ('Dense', lambda k3: dense_config('dense', CLASSES, 'softmax', k3), ['global_average_pooling2d'], {}, [None, 4], [None, CLASSES]),
    ]
    return func_config(k3, graph)


# ---------- Keras 2 .h5 ----------

def k2_weight_names(layer_name, cls, n):
    names = {
        'Conv2D': ['kernel', 'bias'], 'Dense': ['kernel', 'bias'], 'DepthwiseConv2D': ['depthwise_kernel'],
        'BatchNormalization': ['gamma', 'beta', 'moving_mean', 'moving_variance'] if n == 4 else ['beta', 'moving_mean', 'moving_variance'],
    }[cls]
    return [f'{layer_name}/{w}:0' for w in names]


def write_k2_weights(group, layer_list, weights):
    """hdf5_format.save_weights_to_hdf5_group."""
    group.attrs['backend'] = 'tensorflow'.encode('utf8')
    group.attrs['keras_version'] = '2.15.0'.encode('utf8')
    group.attrs['layer_names'] = np.asarray([name.encode('utf8') for name, _ in layer_list])
    for name, cls in sorted(layer_list):
        g = group.create_group(name)
        values = weights.get(name, [])
        names = k2_weight_names(name, cls, len(values)) if values else []
        if cls == 'Sequential':  # a nested model: all its layers' weights, trainable first (Keras 2 _legacy_weights)
            values = weights['block_conv'] + weights['block_bn'][:2] + weights['block_bn'][2:]
            names = k2_weight_names('block_conv', 'Conv2D', 2) + k2_weight_names('block_bn', 'BatchNormalization', 4)
        g.attrs['weight_names'] = np.asarray([n.encode('utf8') for n in names])
        for n, v in zip(names, values):
            d = g.create_dataset(n, v.shape, dtype=v.dtype)
            d[:] = v


def write_k2_h5(path, config, layer_list, weights, weights_only=False):
    with h5py.File(path, 'w') as f:
        if weights_only:
            write_k2_weights(f, layer_list, weights)
            return
        f.attrs['keras_version'] = '2.15.0'
        f.attrs['backend'] = 'tensorflow'
        f.attrs['model_config'] = json.dumps(config).encode('utf8')
        write_k2_weights(f.create_group('model_weights'), layer_list, weights)


# ---------- Keras 3 .keras ----------

def snake(cls):
    import re
    name = re.sub(r'\W+', '', cls)
    name = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


def weights_h5_bytes(layer_list, weights, with_optimizer=False):
    """saving_lib._save_state through H5IOStore: root vars, then layers/<class>_<n>/vars/<i>."""
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        f.create_group('vars')
        used = {}
        for name, cls in layer_list:
            key = snake(cls)
            if key in used:
                used[key] += 1
                key = f'{key}_{used[key]}'
            else:
                used[key] = 0
            g = f.create_group(f'layers/{key}').create_group('vars')
            for i, v in enumerate(weights.get(name, [])):
                g[str(i)] = v
            if cls == 'Sequential':  # a nested model: layers/sequential/layers/<class>/vars
                for inner, inner_cls in (('block_conv', 'conv2d'), ('block_bn', 'batch_normalization'), (None, 're_lu')):
                    ig = f.create_group(f'layers/{key}/layers/{inner_cls}').create_group('vars')
                    for i, v in enumerate(weights.get(inner, []) if inner else []):
                        ig[str(i)] = v
        if with_optimizer:
            og = f.create_group('optimizer').create_group('vars')
            og['0'] = np.asarray(12, dtype=np.int64)
            og['1'] = np.asarray(0.001, dtype=np.float32)
    return buf.getvalue()


def write_keras(path, config, layer_list, weights, with_optimizer=False):
    metadata = json.dumps({'keras_version': '3.5.0', 'date_saved': '2024-09-01@12:00:00'})
    with zipfile.ZipFile(path, 'w') as zf:  # ZIP_STORED, as Keras writes
        zf.writestr(zipfile.ZipInfo('metadata.json', FIXED_DATE), metadata.encode())
        zf.writestr(zipfile.ZipInfo('config.json', FIXED_DATE), json.dumps(config).encode())
        zf.writestr(zipfile.ZipInfo('model.weights.h5', FIXED_DATE), weights_h5_bytes(layer_list, weights, with_optimizer))


# ---------- main ----------

def layer_list_of(config):
    return [(l['config']['name'], l['class_name']) for l in config['config']['layers']]


def main():
    os.makedirs(OUT, exist_ok=True)
    w = make_weights(7)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (H, W, C)).astype(np.float32)

    ref = {'input': {'shape': [H, W, C], 'values': [float(v) for v in x.reshape(-1)]}, 'models': {}}
    seq_logits = forward_seq(x.astype(np.float64), w['seq'])
    func_logits = forward_func(x.astype(np.float64), w['func'])

    for k3 in (False, True):
        seq = seq_config(k3)
        seq_list = [(n, c) for n, c in layer_list_of(seq) if not (c == 'InputLayer')]  # Sequential.layers skips it
        func = func_config(k3)
        func_list = layer_list_of(func)
        if k3:
            write_keras(os.path.join(OUT, 'sequential.keras'), seq, seq_list, w['seq'], with_optimizer=True)
            write_keras(os.path.join(OUT, 'functional.keras'), func, func_list, w['func'])
        else:
            write_k2_h5(os.path.join(OUT, 'sequential.h5'), seq, seq_list, w['seq'])
            write_k2_h5(os.path.join(OUT, 'functional.h5'), func, func_list, w['func'])
    for name in ('sequential.keras', 'sequential.h5'):
        ref['models'][name] = {'logits': seq_logits.tolist(), 'probabilities': softmax(seq_logits).tolist()}
    nested_logits = forward_nested(x.astype(np.float64), w['nested'])
    for k3, name in ((False, 'nested.h5'), (True, 'nested.keras')):
        cfg = nested_config(k3)
        lst = layer_list_of(cfg)
        if k3:
            write_keras(os.path.join(OUT, name), cfg, lst, w['nested'])
        else:
            write_k2_h5(os.path.join(OUT, name), cfg, lst, w['nested'])
        ref['models'][name] = {'logits': nested_logits.tolist(), 'probabilities': softmax(nested_logits).tolist()}
    for name in ('functional.keras', 'functional.h5'):
        ref['models'][name] = {'logits': func_logits.tolist(), 'probabilities': softmax(func_logits).tolist()}

    write_bad_files(w)
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')


def write_bad_files(w):
    bad = os.path.join(OUT, 'bad')
    os.makedirs(bad, exist_ok=True)
    good = open(os.path.join(OUT, 'functional.keras'), 'rb').read()
    open(os.path.join(bad, 'truncated.keras'), 'wb').write(good[: len(good) // 2])
    good_h5 = open(os.path.join(OUT, 'sequential.h5'), 'rb').read()
    open(os.path.join(bad, 'truncated.h5'), 'wb').write(good_h5[: len(good_h5) // 2])

    seq = seq_config(False)
    seq_list = [(n, c) for n, c in layer_list_of(seq) if c != 'InputLayer']
    write_k2_h5(os.path.join(bad, 'weights-only.h5'), None, seq_list, w['seq'], weights_only=True)

    # Dense kernel stored transposed: [5, 256] where the config implies [256, 5].
    swapped = {**w['seq'], 'dense': [w['seq']['dense'][0].T.copy(), w['seq']['dense'][1]]}
    seq3 = seq_config(True)
    write_keras(os.path.join(bad, 'bad-shape.keras'), seq3, [(n, c) for n, c in layer_list_of(seq3) if c != 'InputLayer'], swapped)

    # A Lambda layer (Keras 2 marshals its Python bytecode into the config).
    lam = seq_config(False)
    lam['config']['layers'].insert(1, layer('Lambda', {
        'name': 'lambda', 'trainable': True, 'dtype': 'float32',
        'function': ['4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA+gc8c3RkaW4+2gg8bGFtYmRhPgEAAADzAAAAAA==', None, None],
        'function_type': 'lambda', 'module': '__main__', 'output_shape': None, 'output_shape_type': 'raw',
        'output_shape_module': None, 'arguments': {},
    }, False))
    write_k2_h5(os.path.join(bad, 'lambda.h5'), lam, seq_list + [('lambda', 'Lambda')], w['seq'])

    # A custom layer class from the user's own module.
    custom = seq_config(True)
    custom['config']['layers'].insert(2, {'module': 'my_project.layers', 'class_name': 'MyLayer', 'config': {'name': 'my_layer', 'trainable': True, 'dtype': policy(True), 'factor': 2.0},
                                          'registered_name': 'MyProject>MyLayer', 'build_config': {'input_shape': [None, H, W, 4]}})
    custom_list = [(n, c) for n, c in layer_list_of(custom) if c != 'InputLayer']
    write_keras(os.path.join(bad, 'custom-layer.keras'), custom, custom_list, w['seq'])


if __name__ == '__main__':
    main()
