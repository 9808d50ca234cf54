"""The double-precision step size computed in float32 pairs, against Python doubles."""

import jax
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax.scale_by_adamax import _float64_step_size

step_sizes = jax.jit(jax.vmap(_float64_step_size, in_axes=(None, None, 0)), static_argnums=(0, 1))


def python_double(lr, b1, t):
  return np.float32(lr / (1.0 - b1 ** int(t)))


def test_every_step_of_common_settings_matches_python():
  ts = np.arange(1, 20001, dtype=np.int32)
  # (1.0, 0.999): at t=833 the squares of b1 rounded with fused multiply-adds gave
  # one float32 ulp less than Python.
  for lr, b1 in [(0.002, 0.9), (0.01, 0.999), (3e-4, 0.99), (0.1, 0.5), (1.0, 0.999)]:
    got = np.asarray(step_sizes(lr, b1, ts))
    want = np.array([python_double(lr, b1, t) for t in ts])
    np.testing.assert_array_equal(got, want, err_msg=f"lr={lr}, b1={b1}")


@settings(max_examples=25)  # every example compiles: lr and b1 are Python doubles
@given(
  lr=st.floats(1e-6, 1.0),
  b1=st.floats(0.0, 0.9999),
  t=st.integers(1, 2**31 - 1),
)
def test_within_one_float32_ulp_of_python(lr, b1, t):
  got = np.asarray(step_sizes(lr, b1, np.array([t], np.int32)))[0]
  want = python_double(lr, b1, t)
  assert abs(int(got.view(np.int32)) - int(want.view(np.int32))) <= 1
