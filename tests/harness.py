"""Running the library and the NumPy replays side by side on dict params."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from golden_data import read_recording

import adamax_optax as ax
from adamax_optax.schedules import metric_value

# Every preset and the alias: name -> (factory, the keyword its learning rate goes by).
PRESETS = {
  "adamax": (ax.adamax, "learning_rate"),
  "mxnet": (ax.mxnet_adamax, "learning_rate"),
  "mxnet1": (ax.mxnet1_adamax, "learning_rate"),
  "mindspore": (ax.mindspore_adamax, "lr"),
  "mindspore_nn": (ax.mindspore_nn_adamax, "learning_rate"),
  "torch": (ax.torch_adamax, "lr"),
  "keras": (ax.keras_adamax, "learning_rate"),
  "paddle": (ax.paddle_adamax, "learning_rate"),
}


def replay_numpy(step: Callable, params: dict, grads: list[dict], **per_key) -> dict:
  """Runs a NumPy reference ``step(w, g, m, u, t, **kwargs)`` over dict params.

  ``per_key`` maps a key to the keyword arguments of its parameter; m and u start at 0
  in the params' dtype.
  """
  w = {k: v.copy() for k, v in params.items()}
  m = {k: np.zeros_like(v) for k, v in params.items()}
  u = {k: np.zeros_like(v) for k, v in params.items()}
  for t, g in enumerate(grads, start=1):
    for k in w:
      w[k], m[k], u[k] = step(w[k], g[k], m[k], u[k], t, **per_key.get(k, {}))
  return w


def replay_ours(opt: optax.GradientTransformation, params: dict, grads: list[dict]) -> dict:
  """Runs ``opt`` under ``jax.jit`` on the same params and gradients (their dtypes kept)."""
  p = {k: jnp.asarray(v) for k, v in params.items()}
  state = opt.init(p)

  @jax.jit
  def step(p, state, g):
    updates, state = opt.update(g, state, p)
    return optax.apply_updates(p, updates), state

  for g in grads:
    p, state = step(p, state, {k: jnp.asarray(v) for k, v in g.items()})
  return {k: np.asarray(v) for k, v in p.items()}


def replay_recording(
  opt, data, keys, steps: int | None = None, *, as_tree=None, start=None, apply=None
):
  """Runs ``opt`` on a recording under ``jax.jit`` (one ``update`` and one ``apply``,
  :func:`optax.apply_updates` by default, per recorded gradient ``grad_<k>[t - 1]``),
  from its initial params ``param_<k>[0]``; yields ``(t, params, state)`` after each
  update ``t = 1, 2, ...``, through ``steps`` (every recorded gradient by default).

  ``as_tree`` builds the params and the gradients from the arrays of ``keys``, in order
  (default: a dict by key; ``list`` for a framework's ordered parameters). ``start``,
  ``(params, state)``, continues a run instead (a checkpoint's continuation).
  """
  as_tree = as_tree or (lambda values: dict(zip(keys, values, strict=True)))
  data = read_recording(data)
  if start is None:
    params = as_tree([jnp.asarray(data[f"param_{k}"][0]) for k in keys])
    start = params, opt.init(params)
  params, state = start

  apply = apply or optax.apply_updates

  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return apply(params, updates), state

  for t in range(1, (steps or len(data[f"grad_{keys[0]}"])) + 1):
    grads = as_tree([jnp.asarray(data[f"grad_{k}"][t - 1]) for k in keys])
    params, state = step(params, state, grads)
    yield t, params, state


def recorded_trajectory(opt, data, keys, steps: int | None = None, *, as_tree=None) -> dict:
  """:func:`replay_recording`'s params, m and u after every update, as lists keyed like
  the recording (``param_<k>``, ``m_<k>``, ``u_<k>``; compare with its ``[1:]``)."""
  by_key = lambda tree: tree if isinstance(tree, list) else [tree[k] for k in keys]
  out = {f"{what}_{k}": [] for what in ("param", "m", "u") for k in keys}
  for _, params, state in replay_recording(opt, data, keys, steps, as_tree=as_tree):
    mu, nu, _ = ax.moments(state)
    for what, tree in (("param", params), ("m", mu), ("u", nu)):
      for k, value in zip(keys, by_key(tree), strict=True):
        out[f"{what}_{k}"].append(value)
  return out


def clipped_gradients(clip, data, keys) -> dict[str, list]:
  """``clip`` (a stateless clipping transformation) applied under ``jax.jit`` to each
  recorded gradient of ``keys`` (``grad_<k>[t]``, passed as a list in that order, as the
  frameworks order their parameters): the clipped gradients of each key, step by step."""
  clipped = jax.jit(lambda grads: clip.update(grads, clip.init(grads))[0])
  data = read_recording(data)
  got = {k: [] for k in keys}
  for t in range(len(data[f"grad_{keys[0]}"])):
    out = clipped([jnp.asarray(data[f"grad_{k}"][t]) for k in keys])
    for k, g in zip(keys, out, strict=True):
      got[k].append(np.asarray(g))
  return got


def assert_replays(opt, data, keys, what: str, steps=None, *, start=None, extra=None) -> int:
  """Replays a recording (:func:`replay_recording`) and asserts params, m and u bit for
  bit (dtype and shape too) after every update; returns the updates compared.

  After update ``t`` they are the recording's row ``t`` (row 0: the initial params), or
  row ``t - 1`` of a continuation when ``start`` (params, state: a run resumed from a
  checkpoint) is given. ``extra(state)`` gives more trees to compare, by the kind the
  recording names them (MXNet's ``master``). A failure reads ``"<what>: <kind>_<key>
  differs after update <t>: ..."``.
  """
  row = (lambda t: t - 1) if start is not None else (lambda t: t)
  data = read_recording(data)
  t = 0
  for t, params, state in replay_recording(opt, data, keys, steps, start=start):
    m, u, _ = ax.moments(state)
    trees = {"param": params, "m": m, "u": u, **(extra(state) if extra else {})}
    for kind, tree in trees.items():
      for k in keys:
        difference = first_bit_difference(np.asarray(tree[k]), data[f"{kind}_{k}"][row(t)])
        assert not difference, f"{what}: {kind}_{k} differs after update {t}: {difference}"
  return t


def assert_close(ours: dict, theirs: dict, rtol: float = 1e-6) -> None:
  for k in theirs:
    np.testing.assert_allclose(ours[k], theirs[k], rtol=rtol, atol=1e-7, err_msg=k)


def assert_bitwise(ours: dict, theirs: dict) -> None:
  """Equal bit for bit, NaNs in the same places, and the same dtypes."""
  for k in theirs:
    assert ours[k].dtype == theirs[k].dtype, (k, ours[k].dtype, theirs[k].dtype)
    np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)


def random_problem(seed: int, names: tuple[str, ...], steps: int = 12, dtype=np.float32):
  """Params named ``names`` (shapes 3x4, 4, 4, ...) and ``steps`` random gradients."""
  rng = np.random.default_rng(seed)
  shapes = [(3, 4), (4,), (2, 2)]
  params = {n: rng.normal(size=shapes[i % 3]).astype(dtype) for i, n in enumerate(names)}
  grads = [
    {k: rng.normal(size=v.shape).astype(dtype) for k, v in params.items()} for _ in range(steps)
  ]
  return params, grads


def extreme_gradients(shape=(8,), steps: int = 6, dtype=np.float32) -> list[dict]:
  """Zero, huge, tiny and subnormal gradients, mixed with ordinary ones."""
  values = np.array([0.0, 1e30, -1e-30, 3e-39, -1e20, 0.5, -2.0, 0.0], dtype)
  return [{"w": np.roll(values, t).reshape(shape).astype(dtype)} for t in range(steps)]


def first_bit_difference(got, want) -> str:
  """ "" when ``got`` and ``want`` have the same dtype, shape and bits; else where and how
  they first differ (flat index, both values, and how many elements differ)."""
  got, want = np.asarray(got), np.asarray(want)
  if got.dtype != want.dtype or got.shape != want.shape:
    return f"dtype/shape {got.dtype}{got.shape} != {want.dtype}{want.shape}"
  unsigned = np.dtype(f"uint{8 * got.dtype.itemsize}")
  bad = np.flatnonzero(got.view(unsigned) != want.view(unsigned))
  if bad.size == 0:
    return ""
  first = bad[0]
  return (
    f"flat element {first}: {got.flat[first]!r} != {want.flat[first]!r} "
    f"({bad.size} of {got.size} elements differ)"
  )


def assert_schedule_is(schedule, want: np.ndarray, what: str) -> None:
  """An exact schedule against a framework's recorded doubles, one per count: the doubles
  on the host bit for bit, and under jit the float32 rounding and the double as a float32
  pair (the two forms a compiled step reads)."""
  counts = np.arange(want.shape[0])
  doubles = schedule.values_at(counts)
  differ = np.flatnonzero(doubles.view(np.int64) != np.asarray(want, np.float64).view(np.int64))
  assert not differ.size, (
    f"{what}: count {differ[0]}: {doubles[differ[0]]!r} != {want[differ[0]]!r}"
  )
  floats = np.asarray(jax.jit(jax.vmap(schedule))(jnp.asarray(counts)))
  np.testing.assert_array_equal(floats, want.astype(np.float32), err_msg=what)
  pair = jax.jit(jax.vmap(schedule.double_float))(jnp.asarray(counts))
  hi, lo = np.asarray(pair.hi, np.float64), np.asarray(pair.lo, np.float64)
  np.testing.assert_array_equal((want - hi).astype(np.float32), lo.astype(np.float32), err_msg=what)


def assert_same_bits(got: dict, want: dict, what: str) -> None:
  """Every leaf of ``want`` has ``got``'s dtype, shape and bits; ``what`` says where."""
  for k in want:
    difference = first_bit_difference(got[k], want[k])
    assert not difference, f"{what}, {k!r}: {difference}"


def assert_same_tree(a, b, *, ordered_keys: bool = True) -> None:
  """Two nested dicts/lists/tuples of arrays and scalars are the same, to the bytes."""
  if isinstance(a, np.ndarray):
    assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()
  elif isinstance(a, dict):
    keys = (list(a), list(b)) if ordered_keys else (sorted(a), sorted(b))
    assert isinstance(b, dict) and keys[0] == keys[1], keys
    for k in a:
      assert_same_tree(a[k], b[k], ordered_keys=ordered_keys)
  elif isinstance(a, (list, tuple)):
    assert type(a) is type(b) and len(a) == len(b)
    for x, y in zip(a, b, strict=True):
      assert_same_tree(x, y, ordered_keys=ordered_keys)
  else:
    assert type(a) is type(b) and a == b, (a, b)


def scheduled_stepper(opt) -> Callable:
  """One jitted update ``step(params, state, grads, value)`` of ``opt``; ``value`` is a
  plateau scheduler's metric, or None for a count-driven one."""

  @jax.jit
  def step(params, state, grads, value):
    metric = {} if value is None else {"value": value}
    updates, state = opt.update(grads, state, params, **metric)
    return optax.apply_updates(params, updates), state

  return step


def run_scheduled(opt, step, params, state, updates, *, gradient, last_lr, metric=None):
  """A closed-loop run of ``opt`` with a scheduler, as a framework's script trains it.

  For each update ``t`` in ``updates``, ``gradient(params, t)`` is the gradient at the
  current params, and ``metric(params)`` (a plateau scheduler only) the validation loss
  given with it (the state reads it at an epoch boundary only). ``last_lr(opt, state)`` is
  the wing's ``get_last_lr``: a count-driven scheduler's state reports the rate of the next
  update, a plateau's that of the last (its metric arrives with the next update).

  Returns:
    ``(history, state)``: per update, the params, the moments and the rates it used.
  """
  history = []
  for t in updates:
    rates = None if metric else last_lr(opt, state)
    value = None if metric is None else metric_value(metric(params))
    params, state = step(params, state, gradient(params, t), value)
    rates = last_lr(opt, state) if metric else rates
    mu, nu, _ = ax.moments(state)
    history.append((params, mu, nu, rates))
  return history, state


def first_recorded_difference(data, t: int, bitwise: dict, counts: dict, framework: str):
  """None when, after update ``t``, every value of ``bitwise`` has the dtype, shape and bits
  of the recording's ``data[name][t]`` and every one of ``counts`` equals its integer; else
  the first that does not, as ``"step <t>: <name> ..."``."""
  for what, value in bitwise.items():
    difference = first_bit_difference(np.asarray(value), data[what][t])
    if difference:
      return f"step {t}: {what} differs from {framework}'s: {difference}"
  for what, value in counts.items():
    if int(value) != data[what][t]:
      return f"step {t}: {what} is {int(value)}, {framework}'s {data[what][t]}"
  return None


def noisy_quadratic_run(opt, data):
  """Yields ``(t, params, state)`` after each update ``t`` (0 first) of a closed-loop run
  as the schedulers-together recordings make it: params ``w0``, ``w1`` from ``init0``,
  ``init1``, the gradient computed from the current params, ``(w - target) + noise[t]``,
  one update per row of ``data["lr"]``, under ``jax.jit``."""
  targets = {"w0": jnp.asarray(data["target0"]), "w1": jnp.asarray(data["target1"])}

  @jax.jit
  def step(params, state, noise):
    grads = {k: (params[k] - targets[k]) + noise[k] for k in params}
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  params = {"w0": jnp.asarray(data["init0"]), "w1": jnp.asarray(data["init1"])}
  state = opt.init(params)
  for t in range(len(data["lr"])):
    noise = {"w0": jnp.asarray(data["noise0"][t]), "w1": jnp.asarray(data["noise1"][t])}
    params, state = step(params, state, noise)
    yield t, params, state
