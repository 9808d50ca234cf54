"""Independent NumPy replays of each framework's Adamax, one rounding per operation.

Each function follows one section of ``shared/spec/SEMANTICS.md`` line by line, in
float32 (or the parameter dtype), with the scalars rounded exactly as that framework
rounds them. The tests compare the library against these replays and the replays
against the golden trajectories recorded from the real frameworks.
"""

from __future__ import annotations

import math

import numpy as np

F32 = np.float32


def f32(x: float) -> np.float32:
  """A Python double rounded once to float32."""
  return np.float32(x)


def _fma32(a, b, c):
  """float32 fused multiply-add (the product is exact in float64; see the tests)."""
  a, b, c = (np.asarray(v, np.float32) for v in (a, b, c))
  return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def mxnet2_step(
  w,
  g,
  m,
  u,
  t,
  *,
  lr=0.002,
  beta1=0.9,
  beta2=0.999,
  epsilon=1e-8,
  rescale_grad=1.0,
  clip_gradient=None,
  wd=0.0,
  lr_mult=1.0,
  wd_mult=1.0,
  dtype=np.float32,
):
  """MXNet 2.0: rescale, clip, weight decay, then the update with epsilon outside."""
  s = np.dtype(dtype).type
  lr_t = lr * lr_mult / (1.0 - beta1**t)
  g = g * s(rescale_grad)
  if clip_gradient is not None:
    g = np.clip(g, -s(clip_gradient), s(clip_gradient))
  g = g + w * s(wd * wd_mult)
  m = m * s(beta1) + g * s(1.0 - beta1)
  u = np.maximum(u * s(beta2), np.abs(g))
  w = w - (m / (u + s(epsilon))) * s(lr_t)
  return w, m, u


def mxnet1_step(
  w,
  g,
  m,
  u,
  t,
  *,
  lr=0.002,
  beta1=0.9,
  beta2=0.999,
  rescale_grad=1.0,
  clip_gradient=None,
  wd=0.0,
  lr_mult=1.0,
  wd_mult=1.0,
  dtype=np.float32,
):
  """MXNet 1.x: weight decay before clipping and no epsilon (0/0 is NaN)."""
  s = np.dtype(dtype).type
  lr_t = lr * lr_mult / (1.0 - beta1**t)
  g = g * s(rescale_grad) + w * s(wd * wd_mult)
  if clip_gradient is not None:
    g = np.clip(g, -s(clip_gradient), s(clip_gradient))
  m = m * s(beta1) + g * s(1.0 - beta1)
  u = np.maximum(u * s(beta2), np.abs(g))
  with np.errstate(invalid="ignore", divide="ignore"):
    w = w - (m * s(lr_t)) / u
  return w, m, u


def mindspore_exp_step(
  w,
  g,
  m,
  u,
  t,
  *,
  lr=2e-3,
  betas=(0.9, 0.999),
  eps=1e-8,
  weight_decay=0.0,
  maximize=False,
  dtype=np.float32,
):
  """MindSpore experimental.optim.Adamax: float32 power, epsilon inside the max.

  Another ``dtype`` computes every operation in it, each scalar rounded to it from its
  double value, or from its float32 value where MindSpore computes it in float32.
  """
  s = np.dtype(dtype).type
  b1 = f32(betas[0])
  if maximize:
    g = -g
  if weight_decay != 0:
    g = w * s(weight_decay) + g
  m = m * s(betas[0]) + g * s(F32(1) - b1)
  u = np.maximum(u * s(betas[1]), np.abs(g) + s(eps))
  clr = s(f32(lr) / (F32(1) - _pow32(b1, t)))
  w = w - (clr * m) / u
  return w, m, u


def running_power(beta1: float, steps: int) -> np.float32:
  """``f32(beta1)`` multiplied into 1 ``steps`` times in float32 (MindSpore nn, Paddle)."""
  power = F32(1)
  for _ in range(steps):
    power = F32(power * f32(beta1))
  return power


def _pow32(base: np.float32, t) -> np.float32:
  """Correctly rounded float32 power of a float32 base."""
  return np.float32(float(base) ** t)


def mindspore_nn_step(
  w,
  g,
  m,
  u,
  beta1_power,
  *,
  learning_rate=0.001,
  beta1=0.9,
  beta2=0.999,
  eps=1e-8,
  weight_decay=0.0,
  loss_scale=1.0,
  decay=True,
):
  """MindSpore nn.AdaMax: running float32 product of beta1, epsilon in the denominator.

  float16 inputs are computed in float32 and w, m, u rounded back once at the end.
  """
  dtype = w.dtype
  w, g, m, u = (np.asarray(x, np.float32) for x in (w, g, m, u))
  if not decay:
    weight_decay = 0.0
  b1 = f32(beta1)
  beta1_power = F32(beta1_power * b1)
  g = (w * f32(weight_decay * loss_scale) + g) * f32(1.0 / loss_scale)
  m = b1 * m + (F32(1) - b1) * g
  u = np.maximum(f32(beta2) * u, np.abs(g))
  w = w - (f32(learning_rate) / (F32(1) - beta1_power)) * (m / (u + f32(eps)))
  return w.astype(dtype), m.astype(dtype), u.astype(dtype), beta1_power


def _vector_body(n: int, chunk: int) -> np.ndarray:
  """Flat positions a CPU kernel with ``chunk``-element vector iterations covers."""
  return np.arange(n) < n - n % chunk


def torch_step(
  w,
  g,
  m,
  u,
  t,
  *,
  lr=2e-3,
  betas=(0.9, 0.999),
  eps=1e-8,
  weight_decay=0.0,
  maximize=False,
  foreach=False,
  dtype=np.float32,
):
  """PyTorch single-tensor (or ``foreach``) Adamax on an AVX-512 CPU.

  float32 uses fused multiply-adds where PyTorch's vector kernels do. A 16-bit
  ``dtype`` follows PyTorch's opmath rule: each operation reads its 16-bit operands into
  float32 with float32 scalars and rounds its result to 16 bits; the weight decay's
  scalar tail (past the last 32-element vector chunk) rounds ``alpha * w`` to 16 bits
  first; eps is rounded to 16 bits, and the foreach kernels round beta2 as well.
  """
  half = np.dtype(dtype).type
  shape = np.shape(w)
  w, g, m, u = (np.asarray(x, np.float32).reshape(-1) for x in (w, g, m, u))
  store = lambda x: np.asarray(x, np.float32).astype(half).astype(np.float32)
  if maximize:
    g = -g
  if weight_decay != 0:
    alpha = f32(weight_decay) if half is np.float32 else store(half(weight_decay))
    body = store(_fma32(w, alpha, g))
    tail = store(g + store(alpha * w))
    g = body if half is np.float32 else np.where(_vector_body(g.size, 32), body, tail)
  c = f32(1.0 - betas[0])
  rest = F32(1) - c
  # lerp computes from the nearer end
  m = store(_fma32(c, g - m, m) if c < 0.5 else _fma32(-(g - m), rest, g))
  b2, e = f32(betas[1]), f32(eps)
  if half is not np.float32:
    e = store(half(eps))  # add_(eps): the number takes the tensor's dtype
  if foreach and half is not np.float32:
    b2 = store(half(betas[1]))
  u = np.maximum(store(u * b2), store(np.abs(g) + e))
  clr = lr / (1.0 - betas[0] ** t)
  w = store(w + (f32(-clr) * m) / u)
  return tuple(x.astype(half).reshape(shape) for x in (w, m, u))


def keras_step(
  w,
  g,
  m,
  u,
  t,
  *,
  learning_rate=0.001,
  beta_1=0.9,
  beta_2=0.999,
  epsilon=1e-7,
  weight_decay=None,
  dtype=np.float32,
):
  """Keras 3: decoupled decay first, bias correction in the denominator.

  Every hyperparameter is cast to the variable's dtype, the bias correction's beta_1 and
  step count too: ``1 - power(cast(beta_1), cast(t))`` in that dtype.
  """
  s = np.dtype(dtype).type
  lr = s(learning_rate)
  if weight_decay:
    w = w - (w * s(weight_decay)) * lr
  b1p = s(_pow32(f32(s(beta_1)), float(s(t))))
  m = m + (g - m) * s(1.0 - beta_1)
  u = np.maximum(u * s(beta_2), np.abs(g))
  w = w - (lr * m) / ((s(1) - b1p) * (u + s(epsilon)))
  return w, m, u


def paddle_step(
  w,
  g,
  m,
  u,
  beta1_pow,
  *,
  learning_rate=0.001,
  beta1=0.9,
  beta2=0.999,
  epsilon=1e-8,
  weight_decay=None,
  dtype=np.float32,
):
  """Paddle: epsilon added to the decayed norm, running float32 product of beta1."""
  s = np.dtype(dtype).type
  b1 = f32(beta1)
  if weight_decay:
    g = g + w * s(weight_decay)
  m = s(beta1) * m + s(F32(1) - b1) * g
  u = np.maximum(np.abs(g), s(beta2) * u + s(epsilon))
  w = w - s(f32(learning_rate) / (F32(1) - beta1_pow)) * (m / u)
  return w, m, u, F32(beta1_pow * b1)


def optax_step(w, g, m, u, t, *, learning_rate=0.002, b1=0.9, b2=0.999, eps=1e-8):
  """optax.adamax as optax computes it (bias correction in float32)."""
  m = g * f32(1.0 - b1) + m * f32(b1)
  u = np.maximum(np.abs(g) + f32(eps), u * f32(b2))
  bc = F32(1) - _pow32(f32(b1), t)
  w = w + (m / bc / u) * -f32(learning_rate)
  return w, m, u


__all__ = [name for name in dir() if name.endswith("_step")] + ["f32", "math", "running_power"]
