"""Adamax state to and from Keras 3 weight files (``.weights.h5`` and ``.keras``), without
Keras.

``model.save_weights(path)`` writes an HDF5 file with one group per tracked object and its
variables numbered in creation order: ``layers/<layer name>/vars/<i>`` for the model's
weights and, once the model is compiled and its optimizer built, ``optimizer/vars/<i>`` for
the optimizer's: for ``keras.optimizers.Adamax``

======================  ================================================================
``optimizer/vars/0``    ``iteration`` (int32 on JAX, int64 on TensorFlow), the updates
                        applied so far
``optimizer/vars/1``    ``learning_rate`` (float32), only for a constant learning rate
then, per variable      ``<var>_momentum`` (m) and ``<var>_norm`` (u), in the order of
                        ``model.trainable_variables`` when the optimizer was built
======================  ================================================================

(``use_ema`` and ``gradient_accumulation_steps`` add variables before the moments: the
moments are always the last two per variable; with ``gradient_accumulation_steps`` the saved
``iteration`` counts micro-steps, so divide the step by it.) ``model.save(path)`` writes a
``.keras`` zip holding the same file as ``model.weights.h5`` next to ``config.json``.
Reading uses ``h5py`` (``pip install adamax_optax[keras]``); no file content is executed,
and the model config is not read.

.. code-block:: python

  weights = load_weights("model.weights.h5")
  params = params_from_keras_weights(weights, params, paths={"w": "layers/dense/vars/0"})
  mu, nu, step = from_keras_weights(weights, params, order=["w"])
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)

References:
  Keras 3 ``Model.save_weights`` / ``load_weights`` and the ``.keras`` format
  (https://keras.io/api/models/model_saving_apis/), recorded with Keras 3.15.1.
"""

import io
import os
import shutil
import zipfile
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax.checkpoint._converters import entry, ordered, params_by_name, to_numpy, tree
from adamax_optax.checkpoint._reading import (
  CheckpointError,
  array_bytes,
  charge,
  read_zip_record,
  reading,
)
from adamax_optax.param_groups import leaf_names

OPTIMIZER_VARS = "optimizer/vars"
_KERAS_WEIGHTS = "model.weights.h5"  # the weights inside a .keras zip
_BFLOAT16 = "bfloat16"  # Keras marks bfloat16 datasets with a dtype attribute
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"  # Keras writes no user block: it starts the file


def load_weights(filepath: str | os.PathLike) -> dict[str, np.ndarray]:
  """Every variable in a Keras 3 ``.weights.h5`` or ``.keras`` file, by its path.

  Returns:
    dataset path -> array (in HDF5's name order): ``"layers/dense/vars/0"``,
    ``"optimizer/vars/2"``, ... (bfloat16 variables come back as ``jnp.bfloat16``).

  Raises:
    ImportError: without ``h5py``.
    FileNotFoundError: no file at ``filepath``.
    CheckpointError: a ``ValueError`` naming the file and the problem: not an HDF5 file
      (h5py's "file signature not found"), truncated or damaged, a ``.keras`` file without
      ``model.weights.h5`` (a sharded save); chained to the low-level error.
  """
  h5py = _h5py()
  path = os.fspath(filepath)
  with open(path, "rb") as file, reading(path, "Keras weight file"):
    out = {}

    def visit(name, node):
      if isinstance(node, h5py.Dataset):
        what = f"the dataset {name!r}"
        charge(array_bytes(node.shape or (), node.dtype.itemsize, what), what)
        value = np.array(node[()])
        if node.attrs.get("dtype") == _BFLOAT16:
          value = value.view(jnp.bfloat16) if value.dtype.itemsize == 2 else value
        out[name] = value

    with h5py.File(_h5_bytes(file, path), "r") as f:
      f.visititems(visit)
    return out


def save_weights(
  weights: Mapping, filepath: str | os.PathLike, *, template: str | os.PathLike | None = None
) -> None:
  """Write ``weights`` (dataset path -> array) as a file ``model.load_weights`` reads.

  Args:
    weights: dataset path -> array, as :func:`load_weights` returns (and
      :func:`to_keras_weights` builds).
    filepath: a ``.weights.h5`` file, or a ``.keras`` file (then ``template`` is needed).
    template: a file Keras saved for the same model (``.weights.h5`` or ``.keras``). The
      output is that file with the datasets in ``weights`` replaced (their shapes and
      dtypes must match) and added; everything else (other variables, group attributes,
      a ``.keras`` file's ``config.json``, which ``keras.saving.load_model`` needs) is
      kept. Without a template the file holds ``weights`` only.
  """
  h5py = _h5py()
  path = os.fspath(filepath)
  if path.endswith(".keras") and template is None:
    raise ValueError(
      "Writing a .keras file needs template=, a .keras file Keras saved for the same model "
      "(its config.json is copied); or write a .weights.h5 file."
    )
  buffer = io.BytesIO()
  if template is not None:
    with _open_h5(template) as data:
      buffer.write(data.read())
  with h5py.File(buffer, "a" if template is not None else "w") as f:
    for key, value in weights.items():
      _put(f, key, to_numpy(value))
  if not path.endswith(".keras"):
    with open(path, "wb") as f:
      f.write(buffer.getvalue())
    return
  if not os.fspath(template).endswith(".keras"):
    raise ValueError(f"A .keras file needs a .keras template, got {os.fspath(template)!r}.")
  with zipfile.ZipFile(template) as src, zipfile.ZipFile(path + ".tmp", "w") as dst:
    for info in src.infolist():
      content = buffer.getvalue() if info.filename == _KERAS_WEIGHTS else src.read(info)
      dst.writestr(info, content)
  shutil.move(path + ".tmp", path)


def from_keras_weights(weights: Mapping, params, *, order: Sequence[str] | None = None):
  """``(mu, nu, step)`` from the ``optimizer/vars/<i>`` entries of a Keras weight file.

  Args:
    weights: dataset path -> array (:func:`load_weights`).
    params: the params (for structure and shapes).
    order: the leaf names in the order of ``model.trainable_variables`` (the order Keras
      built the optimizer's variables in); default: ``tree_leaves`` order.

  Returns:
    ``mu`` (Keras's ``momentum``), ``nu`` (``norm``) as trees like ``params``, and the
    step, Keras's ``iterations`` (what :func:`adamax_optax.load_state` takes).
  """
  positions = ordered(params, order)
  names, leaves = leaf_names(params), jax.tree.leaves(params)
  count = _optimizer_var_count(weights)
  if count < 1 + 2 * len(leaves):
    raise ValueError(
      f"The file holds {count} optimizer variables; Adamax over {len(leaves)} parameters "
      f"saves at least {1 + 2 * len(leaves)}. Save the model after its optimizer is built "
      "(compiled and trained, or optimizer.build(model.trainable_variables))."
    )
  first = count - 2 * len(leaves)
  mu, nu = [None] * len(leaves), [None] * len(leaves)
  for i, position in enumerate(positions):
    shape = np.shape(leaves[position])
    mu[position] = _entry(weights, f"{OPTIMIZER_VARS}/{first + 2 * i}", names[position], shape)
    nu[position] = _entry(weights, f"{OPTIMIZER_VARS}/{first + 2 * i + 1}", names[position], shape)
  step = int(np.asarray(to_numpy(weights[f"{OPTIMIZER_VARS}/0"])).reshape(-1)[0])
  return tree(params, mu), tree(params, nu), step


def params_from_keras_weights(weights: Mapping, params, *, paths: Mapping[str, str]):
  """The model's weights saved in the file, as a tree like ``params``.

  The file numbers each layer's variables (``layers/<layer>/vars/<i>``, in the order the
  layer created them) without their names, so ``paths`` maps every leaf name to its
  dataset path, e.g. ``{"kernel": "layers/dense/vars/0", "bias": "layers/dense/vars/1"}``.
  """
  missing = [n for n in leaf_names(params) if n not in paths]
  if missing:
    raise ValueError(f"paths must give the dataset of every leaf; missing {missing}.")
  read = lambda name, shape: _entry(weights, paths[name], name, shape)
  return params_by_name(params, read, cast_to_leaf_dtype=False)


def to_keras_weights(
  mu,
  nu,
  step: int,
  *,
  order: Sequence[str] | None = None,
  learning_rate: float | None = None,
  params=None,
  paths: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
  """``keras.optimizers.Adamax``'s variables (and the model's weights) for :func:`save_weights`.

  Args:
    mu, nu, step: as :func:`adamax_optax.moments` returns them.
    order: the leaf names in the order of ``model.trainable_variables``.
    learning_rate: the optimizer's constant learning rate (saved as ``optimizer/vars/1``,
      as Keras does); ``None`` when the optimizer uses a schedule (Keras saves none).
    params, paths: the params and, per leaf name, the dataset path of the layer variable
      to write them to (see :func:`params_from_keras_weights`).

  Returns:
    dataset path -> array: ``optimizer/vars/0`` the step (int32, as Keras on JAX saves
    ``iteration``), then the learning rate, then m and u per variable. The layout is that
    of an Adamax without ``use_ema`` or ``gradient_accumulation_steps``.

  Example:
    >>> import numpy as np
    >>> out = to_keras_weights({"w": np.ones(2, np.float32)}, {"w": np.ones(2, np.float32)}, 3,
    ...                        learning_rate=0.02)
    >>> print(list(out), out["optimizer/vars/0"], out["optimizer/vars/1"])
    ['optimizer/vars/0', 'optimizer/vars/1', 'optimizer/vars/2', 'optimizer/vars/3'] 3 0.02
  """
  if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < 2**31:
    raise ValueError(f"step must be an int in [0, 2**31), got {step!r}.")
  out = {f"{OPTIMIZER_VARS}/0": np.array(step, np.int32)}
  if learning_rate is not None:
    out[f"{OPTIMIZER_VARS}/1"] = np.array(learning_rate, np.float32)
  mus, nus = jax.tree.leaves(mu), jax.tree.leaves(nu)
  for position in ordered(mu, order):
    out[f"{OPTIMIZER_VARS}/{len(out)}"] = np.asarray(mus[position])
    out[f"{OPTIMIZER_VARS}/{len(out)}"] = np.asarray(nus[position])
  if params is not None:
    if paths is None:
      raise ValueError("params needs paths=, the dataset path of each leaf's layer variable.")
    for name, leaf in zip(leaf_names(params), jax.tree.leaves(params), strict=True):
      if name not in paths:
        raise ValueError(f"paths has no dataset for the leaf {name!r}.")
      out[paths[name]] = np.asarray(leaf)
  return out


def _entry(weights: Mapping, key: str, name: str, shape: tuple) -> np.ndarray:
  return entry(
    weights,
    key,
    shape,
    label=f"{key!r} (for {name!r})",
    source="file",
    missing="",
    mismatch="check order= / paths=, or the file belongs to another model.",
  )


def _optimizer_var_count(weights: Mapping) -> int:
  prefix = OPTIMIZER_VARS + "/"
  indices = sorted(int(k[len(prefix) :]) for k in weights if k.startswith(prefix))
  if not indices or indices != list(range(len(indices))):
    raise ValueError(
      f"The optimizer variables must be numbered 0, 1, ...; the file has {indices}."
      if indices
      else f"The file holds no optimizer variables ({prefix}<i>): save the model compiled, "
      "after the optimizer is built."
    )
  return len(indices)


def _put(f, key: str, value: np.ndarray) -> None:
  # h5py stores bfloat16 as 2-byte opaque data; Keras tags it with a dtype attribute.
  is_bf16 = value.dtype == np.dtype(jnp.bfloat16)
  if key in f:
    old = f[key]
    if old.dtype.kind in "iu" and value.dtype.kind in "iu" and np.can_cast(value, old.dtype):
      value = value.astype(old.dtype)  # Keras on TensorFlow saves iteration as int64
    old_bf16 = old.attrs.get("dtype") == _BFLOAT16
    if old.shape != value.shape or old_bf16 != is_bf16 or not (is_bf16 or old.dtype == value.dtype):
      raise ValueError(
        f"{key!r} is {old.shape} {_BFLOAT16 if old_bf16 else old.dtype} in the template, "
        f"but the new value is {value.shape} {value.dtype}."
      )
    old[...] = value
    return
  f[key] = value
  if is_bf16:
    f[key].attrs["dtype"] = _BFLOAT16


def _open_h5(filepath) -> io.BytesIO:
  """The HDF5 bytes of a ``.weights.h5`` file, or of the weights inside a ``.keras`` zip."""
  path = os.fspath(filepath)
  with open(path, "rb") as file:
    return _h5_bytes(file, path)


def _h5_bytes(file, path: str) -> io.BytesIO:
  """The HDF5 bytes of the open ``file``: itself, or the weights inside a ``.keras`` zip."""
  if path.endswith(".keras"):
    with zipfile.ZipFile(file) as z:
      if _KERAS_WEIGHTS not in z.namelist():
        raise CheckpointError(
          f"{path!r} has no {_KERAS_WEIGHTS} (it holds {z.namelist()}); sharded weights "
          "are not supported."
        )
      data = read_zip_record(z, _KERAS_WEIGHTS)
  else:
    data = file.read()
  if not data.startswith(_HDF5_SIGNATURE):
    raise CheckpointError(
      f"{path!r} is not a Keras weight file: its weights are not HDF5 (no HDF5 signature at "
      "the start); save them with model.save_weights('....weights.h5') or model.save('....keras')."
    )
  return io.BytesIO(data)


def _h5py():
  try:
    import h5py  # optional: only these files need it
  except ImportError as e:
    raise ImportError(
      "Reading and writing Keras weight files needs h5py: pip install adamax_optax[keras] "
      "(or pip install h5py)."
    ) from e
  return h5py


__all__ = [
  "OPTIMIZER_VARS",
  "CheckpointError",
  "from_keras_weights",
  "load_weights",
  "params_from_keras_weights",
  "save_weights",
  "to_keras_weights",
]
