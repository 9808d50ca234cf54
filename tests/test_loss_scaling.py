"""The core loss scaler's unscale where the float32 reciprocal of the scale is subnormal.

Above 2**126, ``f32(1 / s)`` is subnormal; PyTorch (``scale.double().reciprocal().float()``),
Paddle and MindSpore keep it, while XLA on the CPU flushes subnormals to zero. The NumPy
reference (which does not flush) gives the frameworks' ``g * f32(1 / s)``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax.loss_scaling import dynamic_loss_scaling


def _scales_and_gradients(n=20000, seed=0):
  rng = np.random.default_rng(seed)
  exponents = rng.integers(124, 128, n)
  significands = rng.integers(2**23, 2**24, n).astype(np.float64)
  # Significands with few bits make 2**64 / s land halfway between subnormals often.
  few_bits = rng.integers(2**3, 2**6, n).astype(np.float64) * 2**18
  significands = np.where(rng.uniform(size=n) < 0.3, few_bits, significands)
  scales = (significands * 2.0 ** (exponents - 23)).astype(np.float32)
  gradients = (rng.normal(size=n) * 2.0 ** rng.integers(-20, 120, n)).astype(np.float32)
  return scales, gradients


def test_unscale_keeps_a_subnormal_reciprocal():
  scales, gradients = _scales_and_gradients()
  with np.errstate(all="ignore"):
    want = gradients * np.float32(1.0 / scales.astype(np.float64))

  def unscale(g, scale):
    opt = dynamic_loss_scaling(optax.identity(), 2.0, 2.0, 0.5, 10)
    state = opt.init(g)._replace(scale=scale)
    return opt.update(g, state)[0]

  got = np.asarray(jax.jit(jax.vmap(unscale))(jnp.asarray(gradients), jnp.asarray(scales)))
  assert (scales > 2.0**126).sum() > 5000
  # Results that are subnormal themselves flush to zero on the CPU, as everywhere.
  normal = np.abs(want) >= np.finfo(np.float32).tiny
  differ = np.flatnonzero((got.view(np.uint32) != want.view(np.uint32)) & normal)
  assert differ.size == 0, f"first at s={scales[differ[0]]!r}, g={gradients[differ[0]]!r}"


def test_a_scale_of_2_to_the_127_unscales_as_pytorch_does():
  opt = dynamic_loss_scaling(optax.identity(), 2.0**127, 2.0, 0.5, 10)
  g = jnp.float32(2.0**100)
  updates, _ = jax.jit(opt.update)(g, opt.init(g))
  assert updates == 2.0**-27
