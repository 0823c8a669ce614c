"""TensorFlow/Keras 3 pieces of the request driver (see driver.py).

Canonical weights map onto Keras layers by attribute path: ``Dense`` holds ``kernel``
(in, out, stored as is) and ``bias``; ``Embedding`` holds ``embeddings``;
``LayerNormalization`` holds ``gamma``/``beta``; a weight made with ``add_weight`` and
kept as an attribute keeps the attribute's name (``mlm_bias``). Keras creates weights
on the first call, so the driver runs a module once before loading weights into it.
"""

from __future__ import annotations

import contextlib
import inspect
import os

import numpy as np

from driver import ContractError, layout_mismatch, plain_numbers

tf = keras = None  # imported in setup(), before any student code runs
NEEDS_WARMUP = True
_EAGER_TENSOR = None


def setup() -> None:
    global tf, keras, _EAGER_TENSOR
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # same summation order on every run
    import tensorflow as _tf
    import keras as _keras

    from tensorflow.python.framework.ops import EagerTensor

    tf, keras = _tf, _keras
    # One thread each. No TensorFlow op may run here: the worker forks a child per call,
    # and a runtime started before the fork leaves tf.function in the child hanging.
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already started (only when used inside a test process)
        pass
    _EAGER_TENSOR = EagerTensor
    tf.get_logger().setLevel("ERROR")


def seed(value: int) -> None:
    """Every random draw of one call is fixed by ``value``, as ``torch.manual_seed`` fixes
    PyTorch's: Keras's seeds (dropout, initialisers) and TensorFlow's global
    ``tf.random.Generator``, which ``keras.utils.set_random_seed`` leaves alone and which
    code without a generator of its own (``mask_tokens(generator=None)``) draws from."""
    keras.utils.set_random_seed(value)
    tf.random.set_global_generator(tf.random.Generator.from_seed(value))


def build(cls, kwargs: dict, target: str):
    model = cls(**kwargs)
    if not isinstance(model, keras.layers.Layer):
        raise ContractError(f"{target}(...) did not create a keras.layers.Layer (got {type(model).__name__})")
    return model


_TRAINING: set[int] = set()  # ids of the built modules put in training mode


def set_mode(model, mode: str) -> None:
    """Training or inference mode for every later call of ``model`` and its methods, as
    ``nn.Module.train``/``eval`` set it in PyTorch. Keras has no such state: a layer takes
    ``training=`` per call and runs in inference mode without it, so in training mode
    :func:`call` passes ``training=True`` wherever the call accepts it and the request
    does not give it (Keras hands it on to the nested layers)."""
    if mode == "train":
        _TRAINING.add(id(model))
    else:
        _TRAINING.discard(id(model))


def _accepts_training(fn) -> bool:
    target = fn.call if isinstance(fn, keras.layers.Layer) else fn
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return "training" in parameters


def call(fn, args: dict):
    owner = fn if isinstance(fn, keras.layers.Layer) else getattr(fn, "__self__", None)
    if owner is not None and id(owner) in _TRAINING and "training" not in args and _accepts_training(fn):
        args = {**args, "training": True}
    if isinstance(fn, keras.layers.Layer) and args:
        # Keras treats the first argument of call() as the layer's input: pass it positionally.
        params = list(inspect.signature(fn.call).parameters)
        first = params[0] if params else None
        if first in args:
            rest = {k: v for k, v in args.items() if k != first}
            return fn(args[first], **rest)
    return fn(**args)


def to_tensor(array: np.ndarray, watch: bool, tape):
    tensor = tf.constant(array)
    if watch and tape is not None:
        tape.watch(tensor)
    return tensor


def to_numpy(value, name: str) -> np.ndarray:
    if type(value) is _EAGER_TENSOR:  # exactly an eager tensor: a subclass could lie
        return np.array(value.numpy())
    if isinstance(value, tf.Tensor) or tf.is_tensor(value):
        raise ContractError(f"{name}: returned a {type(value).__name__}; return a plain tf.Tensor "
                            "(tf.convert_to_tensor(...) of your result)")
    return plain_numbers(value, name)


@contextlib.contextmanager
def gradient_tape(enabled: bool):
    if not enabled:
        yield None
        return
    with tf.GradientTape(persistent=True) as tape:
        yield tape


def weighted_sum(value, cotangent: np.ndarray):
    if not tf.is_tensor(value):
        raise ContractError("expected a tensor to differentiate")
    return tf.reduce_sum(tf.cast(value, tf.float32) * tf.constant(cotangent))


def gradients(tape, loss, inputs: dict, params: dict) -> dict[str, np.ndarray]:
    out = {}
    names = list(inputs) + list(params)
    sources = [inputs[n] for n in inputs] + [params[n] for n in params]
    grads = tape.gradient(loss, sources)
    for name, g, source in zip(names, grads, sources):
        if g is None:  # a weight the loss does not reach (e.g. the classifier for MLM logits)
            g = tf.zeros(source.shape, dtype=source.dtype)
        if isinstance(g, tf.IndexedSlices):  # embedding lookups give sparse gradients
            g = tf.convert_to_tensor(g)
        out[name] = np.array(g.numpy())
    return out


def canonical_parameters(model) -> dict:
    """Canonical name -> Keras variable, found by walking the layer's attributes."""
    found: dict[str, object] = {}

    def add(name, variable):
        if all(variable is not v for v in found.values()):
            found[name] = variable

    def layer(prefix, obj):
        L = keras.layers
        try:
            if isinstance(obj, L.Dense):
                add(f"{prefix}.kernel", obj.kernel)
                if obj.use_bias:
                    add(f"{prefix}.bias", obj.bias)
                return
            if isinstance(obj, L.Embedding):
                add(f"{prefix}.embeddings", obj.embeddings)
                return
            if isinstance(obj, L.LayerNormalization):
                if obj.scale:
                    add(f"{prefix}.gamma", obj.gamma)
                if obj.center:
                    add(f"{prefix}.beta", obj.beta)
                return
        except (AttributeError, ValueError):
            raise ContractError(f"the layer {prefix} was never built: every layer the docstring lists "
                                "must be used in call()") from None
        walk(prefix, obj)

    def walk(prefix, obj):
        for attr, value in vars(obj).items():
            if attr.startswith("_"):
                continue
            name = f"{prefix}.{attr}" if prefix else attr
            if isinstance(value, keras.layers.Layer):
                layer(name, value)
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, keras.layers.Layer) for v in value):
                for i, item in enumerate(value):
                    layer(f"{name}.{i}", item)
            elif isinstance(value, keras.Variable):
                add(name, value)

    walk("", model)
    # Weights the walk cannot name (e.g. made inside a helper object) break the layout.
    known = {id(v) for v in found.values()}
    for variable in model.weights:
        if id(variable) not in known:
            found[f"<unnamed weight {variable.path}>"] = variable
    return found


def load_canonical(model, weights: dict[str, np.ndarray]) -> None:
    params = canonical_parameters(model)
    problem = layout_mismatch(set(weights), set(params))
    if problem:
        raise problem
    for key, array in weights.items():
        variable = params[key]
        if tuple(variable.shape) != tuple(array.shape):
            raise ContractError(f"weight {key} has shape {tuple(variable.shape)}, the layout needs "
                                f"{tuple(array.shape)}; check the layer's sizes")
        variable.assign(array)
