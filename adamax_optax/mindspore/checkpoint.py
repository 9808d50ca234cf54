"""Adamax state to and from MindSpore checkpoints: the ``.ckpt`` / ``.safetensors`` files
and their entries, without MindSpore.

``mindspore.save_checkpoint(optimizer, path)`` saves the optimizer's parameters by name:
the trained parameters themselves (``w``), their moments and the step:

=====================================  =================================  ================
optimizer                              moments                            step
=====================================  =================================  ================
``experimental.optim.Adamax``          ``exp_avg.<name>``,                ``step_t`` ()
                                       ``exp_inf.<name>``                 int32
``nn.AdaMax``                          ``moment1.<name>``,                ``global_step``
                                       ``moment2.<name>``                 (1,) int32
=====================================  =================================  ================

``nn.AdaMax`` also saves ``beta1_power`` (beta1 multiplied in float32 once per step) and
its ``learning_rate``. :func:`load_checkpoint` and :func:`save_checkpoint` read and write
both file formats (a ``.ckpt`` is a protocol buffers ``Checkpoint`` message, parsed here
without protobuf; nothing in a file can run code); the other functions map the entries
onto params by name:

.. code-block:: python

  entries = load_checkpoint("adamax.ckpt")
  params = params_from_mindspore_checkpoint(entries, params)
  mu, nu, step = from_mindspore_checkpoint(entries, params)
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)

A run with a scheduler (``mindspore.experimental.optim.lr_scheduler``) needs more than
that call saves: the groups' rates and the scheduler's own Parameters, which a script
appends (``append_dict``) under their MindSpore names. :func:`from_mindspore_checkpoint_file`
reads them with the moments and checks them against the optimizer's scheduler (see
:func:`from_mindspore_scheduler_entries`):

.. code-block:: python

  params = params_from_mindspore_checkpoint(load_checkpoint("run.ckpt"), params)
  state = adamax_optax.load_state(
    opt, params, **from_mindspore_checkpoint_file("run.ckpt", opt, params)
  )

References:
  MindSpore 2.10 ``mindspore.save_checkpoint`` / ``load_checkpoint``
  (https://www.mindspore.cn/docs/en/master/api_python/mindspore/mindspore.save_checkpoint.html)
  and the ``Checkpoint`` message of its ``checkpoint.proto``.
"""

import binascii
import os
import re
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax._preset import Preset, is_plateau
from adamax_optax.checkpoint._converters import (
  entry,
  ordered,
  params_by_name,
  running_power,
  to_numpy,
  tree,
)
from adamax_optax.checkpoint._reading import (
  CheckpointError,
  array_bytes,
  charge,
  interpreting,
  reading,
)
from adamax_optax.checkpoint._schedulers import check_scheduler_position, plateau_reductions
from adamax_optax.mindspore import _protobuf as pb
from adamax_optax.mindspore import _safetensors
from adamax_optax.param_groups import leaf_names
from adamax_optax.schedules import Together
from adamax_optax.validation import is_python_int

_MINDSPORE_KEYS = {
  # optimizer: (first moment prefix, infinity norm prefix, step entry)
  "experimental": ("exp_avg.", "exp_inf.", "step_t"),
  "nn": ("moment1.", "moment2.", "global_step"),
}
# MindSpore's dtype names (``str(tensor.dtype)``) as written in a .ckpt's tensor_type.
_TENSOR_TYPES = {
  "Bool": np.dtype(np.bool_),
  "Int8": np.dtype(np.int8),
  "UInt8": np.dtype(np.uint8),
  "Int16": np.dtype("<i2"),
  "UInt16": np.dtype("<u2"),
  "Int32": np.dtype("<i4"),
  "UInt32": np.dtype("<u4"),
  "Int64": np.dtype("<i8"),
  "UInt64": np.dtype("<u8"),
  "Float16": np.dtype("<f2"),
  "BFloat16": np.dtype(jnp.bfloat16),
  "Float32": np.dtype("<f4"),
  "Float64": np.dtype("<f8"),
}
_STR_TYPE = "str"  # a string saved through append_dict
_CRC_MARK = b"crc_num"  # save_checkpoint(crc_check=True) appends it and a 10-byte CRC32
# Field 1 (an entry), length-delimited: the first byte of every unencrypted .ckpt
_CKPT_START = pb.varint(1 << 3 | pb.LENGTH_DELIMITED)
# save_checkpoint writes a tensor's bytes in messages of at most this size, all with its tag
_SLICE_BYTES = 512 * 1024 * 1024


def load_checkpoint(ckpt_file_name: str | os.PathLike, *, format: str | None = None) -> dict:
  """The entries of a MindSpore checkpoint file, like ``mindspore.load_checkpoint``.

  Args:
    ckpt_file_name: a ``.ckpt`` (protocol buffers) or ``.safetensors`` file written by
      ``mindspore.save_checkpoint`` (or :func:`save_checkpoint`). Encrypted files
      (``enc_key``) cannot be read: decrypt them with MindSpore first.
    format: ``"ckpt"`` or ``"safetensors"``; by default from the file's extension.

  Returns:
    name -> NumPy array (strings saved through ``append_dict`` come back as ``str``), in
    the file's order. A CRC written with ``crc_check=True`` is verified.

  Raises:
    FileNotFoundError: no file at ``ckpt_file_name``.
    CheckpointError: a ``ValueError`` naming the file and the problem (truncated, a CRC
      that does not match, damaged, not a checkpoint; an encrypted one is named as such
      when the file does not start as a plain ``.ckpt`` does), chained to the low-level
      error.
  """
  format = _format(ckpt_file_name, format)
  path = os.fspath(ckpt_file_name)
  with open(path, "rb") as f, reading(path, f"MindSpore .{format}"):
    data = f.read()
    if format == "safetensors":
      return _safetensors.read(data)[0]
    if data and not data.startswith(_CKPT_START):
      raise CheckpointError(
        f"{path!r} is not a readable MindSpore .ckpt: it does not start as one (a Checkpoint "
        "message starts with its first entry, byte 0x0a). An encrypted checkpoint (saved with "
        "enc_key) must be decrypted with MindSpore first."
      )
    return _read_ckpt(data)


def save_checkpoint(
  save_obj: Mapping,
  ckpt_file_name: str | os.PathLike,
  *,
  crc_check: bool = False,
  format: str | None = None,
) -> None:
  """Write ``save_obj`` (name -> array) as MindSpore's ``save_checkpoint`` would.

  The ``.ckpt`` bytes are those MindSpore writes for the same names, shapes and dtypes
  (so is a ``.safetensors``, whose header also says ``{"format": "ms"}``), and
  ``mindspore.load_checkpoint`` reads either back; ``mindspore.load_param_into_net`` then
  puts the values into the network and the optimizer.

  Args:
    save_obj: name -> array (any dtype MindSpore has) or ``str`` (``.ckpt`` only).
    ckpt_file_name: the file to write.
    crc_check: append a CRC32 of the content (``.ckpt`` only), as MindSpore does.
    format: ``"ckpt"`` or ``"safetensors"``; by default from the file's extension.
  """
  format = _format(ckpt_file_name, format)
  if format == "safetensors":
    if crc_check:
      raise ValueError("crc_check is supported for the ckpt format only; pass crc_check=False.")
    strings = [name for name, v in save_obj.items() if isinstance(v, str)]
    if strings:
      raise ValueError(f"safetensors holds arrays only; {strings} are strings: save a .ckpt.")
    arrays = {name: to_numpy(save_obj[name]) for name in sorted(save_obj)}
    data = _safetensors.dumps(arrays, {"format": "ms"})
  else:
    data = _ckpt_bytes(save_obj)
    if crc_check:
      data += _CRC_MARK + binascii.crc32(data).to_bytes(10, "big")
  with open(ckpt_file_name, "wb") as f:
    f.write(data)


def from_mindspore_checkpoint(
  entries: Mapping,
  params,
  *,
  names=None,
  prefix: str = "",
  optimizer="experimental",
  beta1: float = 0.9,
):
  """``(mu, nu, step)`` from a MindSpore checkpoint's entries.

  Args:
    entries: name -> array, from :func:`load_checkpoint` or ``mindspore.load_checkpoint``:
      ``exp_avg.<name>``, ``exp_inf.<name>`` and ``step_t`` for ``experimental.optim.Adamax``;
      ``moment1.<name>``, ``moment2.<name>`` and ``global_step`` for ``nn.AdaMax``.
    params: the params (for structure, names and shapes).
    names: leaf name -> MindSpore parameter name (default: the leaf name, the "/"-joined
      pytree path).
    prefix: what the optimizer's entry names start with: ``""`` when the optimizer itself
      was saved; ``"optimizer."`` for a custom train cell holding it as
      ``self.optimizer`` (its entries are ``optimizer.exp_avg.<name>``,
      ``optimizer.step_t``). It goes before the moment and step names, not into ``names``.
    optimizer: ``"experimental"`` or ``"nn"``.
    beta1: ``nn.AdaMax``'s beta1: its ``beta1_power``, when saved, is checked against
      beta1 multiplied in float32 ``step`` times (the state rebuilds it that way).

  Example:
    >>> import numpy as np
    >>> entries = {"optimizer.exp_avg.fc1.weight": np.ones(2, np.float32),
    ...   "optimizer.exp_inf.fc1.weight": np.full(2, 2.0, np.float32),
    ...   "optimizer.step_t": np.array(3, np.int32)}
    >>> mu, nu, step = from_mindspore_checkpoint(
    ...   entries, {"fc1": {"weight": np.zeros(2)}}, names={"fc1/weight": "fc1.weight"},
    ...   prefix="optimizer.")
    >>> print(mu["fc1"]["weight"], nu["fc1"]["weight"], step)
    [1. 1.] [2. 2.] 3
  """
  first, second, step_key = _mindspore_keys(optimizer)
  if not isinstance(prefix, str):
    raise ValueError(f"prefix must be a str such as 'optimizer.', got {prefix!r}.")
  first, second, step_key = prefix + first, prefix + second, prefix + step_key
  mu, nu = [], []
  for leaf_name, leaf in zip(leaf_names(params), jax.tree.leaves(params), strict=True):
    name = (names or {}).get(leaf_name, leaf_name)
    mu.append(_entry(entries, first + name, np.shape(leaf)))
    nu.append(_entry(entries, second + name, np.shape(leaf)))
  if step_key not in entries:
    raise ValueError(
      f"entries has no {step_key!r} (the step of {optimizer} Adamax); it holds "
      f"{sorted(entries)[:8]}: pass prefix= when the names carry one."
    )
  step = int(np.asarray(to_numpy(entries[step_key])).reshape(-1)[0])
  if optimizer == "nn" and prefix + "beta1_power" in entries:
    saved = np.asarray(to_numpy(entries[prefix + "beta1_power"]), np.float32).reshape(-1)[0]
    replayed = _beta1_power(beta1, step)
    if saved.view(np.uint32) != replayed.view(np.uint32):
      raise ValueError(
        f"beta1_power in the checkpoint is {saved!r}, but beta1={beta1} multiplied in float32 "
        f"{step} times is {replayed!r}: pass the beta1 the run was trained with."
      )
  return tree(params, mu), tree(params, nu), step


def params_from_mindspore_checkpoint(entries: Mapping, params, *, names=None, prefix: str = ""):
  """The parameter values saved in a checkpoint, as a tree like ``params``.

  ``save_checkpoint(optimizer, ...)`` and ``save_checkpoint(net, ...)`` both save each
  parameter under its own name; ``names`` maps leaf names to those (see
  :func:`from_mindspore_checkpoint`). ``prefix`` goes before each name: ``"network."``
  for a custom train cell holding the model as ``self.network``.
  """
  if not isinstance(prefix, str):
    raise ValueError(f"prefix must be a str such as 'network.', got {prefix!r}.")
  read = lambda name, shape: _entry(entries, prefix + (names or {}).get(name, name), shape)
  return params_by_name(params, read, cast_to_leaf_dtype=False)


def to_mindspore_checkpoint(
  mu,
  nu,
  step: int,
  *,
  params=None,
  names=None,
  order=None,
  optimizer="experimental",
  beta1: float = 0.9,
  learning_rate=None,
) -> dict:
  """Checkpoint entries in MindSpore's naming and order, for :func:`save_checkpoint`.

  The step is saved as the optimizer keeps it (``step_t``: a 0-d int32;
  ``global_step``: int32 of shape (1,)); for ``nn.AdaMax`` also ``beta1_power``, beta1
  multiplied in float32 ``step`` times, which the optimizer reads instead of the step.
  With ``params`` the parameter values are saved too, under their names, so that
  ``load_param_into_net`` restores the network and the optimizer from one file, as from
  ``save_checkpoint(optimizer, ...)``. The entries come in the order that call writes
  them, so with ``order`` (and, for ``nn``, ``learning_rate``) the file is byte for byte
  MindSpore's.

  Args:
    mu, nu, step: as :func:`adamax_optax.moments` returns them.
    params: optionally the params (a tree like ``mu``).
    names: leaf name -> MindSpore parameter name (see :func:`from_mindspore_checkpoint`).
    order: the leaf names in the optimizer's parameter order (default: ``tree_leaves``).
    optimizer: ``"experimental"`` or ``"nn"``.
    beta1: ``nn.AdaMax``'s beta1, for ``beta1_power``.
    learning_rate: ``nn.AdaMax``'s ``learning_rate`` parameter to save (float32; MindSpore
      keeps its own when the file has none).

  Example:
    >>> import numpy as np
    >>> entries = to_mindspore_checkpoint(
    ...   {"w": np.ones(2, np.float32)}, {"w": np.full(2, 3.0, np.float32)}, 4, optimizer="nn"
    ... )
    >>> print(list(entries), entries["global_step"], entries["beta1_power"])
    ['global_step', 'beta1_power', 'moment1.w', 'moment2.w'] [4] [0.6560999]
  """
  first, second, step_key = _mindspore_keys(optimizer)
  if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < 2**31:
    raise ValueError(f"step must be an int in [0, 2**31), got {step!r}.")
  if learning_rate is not None and optimizer != "nn":
    raise ValueError("learning_rate is saved for nn.AdaMax only; pass optimizer='nn' or drop it.")
  if params is not None and jax.tree.structure(params) != jax.tree.structure(mu):
    raise ValueError(
      f"params must have mu's structure {jax.tree.structure(mu)}, got {jax.tree.structure(params)}."
    )
  positions = ordered(mu, order)
  labels = [(names or {}).get(n, n) for n in leaf_names(mu)]
  entries = {}
  if optimizer == "nn":
    entries[step_key] = np.array([step], np.int32)
    if learning_rate is not None:
      entries["learning_rate"] = np.asarray(learning_rate, np.float32)
  if params is not None:
    values = jax.tree.leaves(params)
    entries.update((labels[i], np.asarray(values[i])) for i in positions)
  if optimizer == "nn":
    entries["beta1_power"] = _beta1_power(beta1, step).reshape(1)
  else:
    entries[step_key] = np.array(step, np.int32)
  for prefix, tree_ in ((first, mu), (second, nu)):
    values = jax.tree.leaves(tree_)
    entries.update((prefix + labels[i], np.asarray(values[i])) for i in positions)
  return entries


# --- Schedulers -------------------------------------------------------------------------

#: The name of group ``i``'s learning-rate Parameter (``optimizer.lrs[i]``) in MindSpore.
GROUP_LR = "learning_rate_group_{}"
#: What a scheduler's step-count Parameter is named, followed by its class's name
#: (``last_epoch_StepLR``: float32; ``last_epoch_ReduceLROnPlateau``: int32).
LAST_EPOCH = "last_epoch_"
#: ReduceLROnPlateau's Parameters, under :func:`~adamax_optax.load_state`'s names.
PLATEAU_ENTRIES = {"best": "best", "num_bad_epochs": "wait", "cooldown_counter": "cooldown_counter"}
_GROUP_LR = re.compile(r"^learning_rate_group_(\d+)$")  # GROUP_LR's names, the index read


def _preset_scheduler(opt):
  if not isinstance(opt, Preset):
    raise TypeError(
      "opt must be the optimizer made by adamax_optax.mindspore.experimental.optim.Adamax "
      f"(mindspore_adamax), which carries its lr_scheduler and rates; got {type(opt).__name__}. "
      "With optax.chain(clip, opt), pass opt here and the chain to load_state."
    )
  return opt.lr_scheduler


def _saved_scalar(entries: Mapping, key: str, source) -> float:
  value = np.asarray(to_numpy(entries[key]))
  if value.size != 1 or value.dtype.kind not in "iuf":
    raise ValueError(f"{source}: entry {key!r} must hold one number, got {value!r}.")
  return value.reshape(-1)[0].item()


def _saved_count(entries: Mapping, key: str, source) -> int:
  """A count MindSpore keeps in an int32 or float32 Parameter."""
  value = _saved_scalar(entries, key, source)
  if not float(value).is_integer() or value < 0:
    raise ValueError(f"{source}: entry {key!r} is a count, a whole number >= 0, got {value!r}.")
  return int(value)


def _saved_rates(entries: Mapping, groups: int, source) -> list[np.float32] | None:
  """Each group's saved rate (``learning_rate_group_<i>``, float32), or None if none is."""
  found = {int(m[1]): key for key in entries if (m := _GROUP_LR.match(key))}
  if not found:
    return None
  if sorted(found) != list(range(groups)):
    raise ValueError(
      f"{source} holds the rates of groups {sorted(found)} ({GROUP_LR.format('<i>')}), but "
      f"this optimizer has {groups} group(s): build it with the script's param_groups, in "
      "the script's order."
    )
  return [np.float32(_saved_scalar(entries, found[i], source)) for i in range(groups)]


def _check_rates(saved: list[np.float32] | None, opt, step: int, source) -> None:
  """The saved rates are the preset's at ``step``, exactly in float32."""
  if saved is None:
    return
  own = [np.float32(rate) for rate in opt.rates_at(step)]
  if [r.view(np.uint32) for r in saved] != [r.view(np.uint32) for r in own]:
    raise ValueError(
      f"{source}: the groups' rates ({GROUP_LR.format('<i>')}) are "
      f"{[str(r) for r in saved]} in the file, but this optimizer's after {step} updates are "
      f"{[str(r) for r in own]} (float32): give each group the lr the script's optimizer "
      "started from, in the script's group order, and the scheduler the script's arguments."
    )


def _plateau_state(entries: Mapping, opt, rates, source) -> dict:
  """``load_state``'s ``plateau=`` from ReduceLROnPlateau's appended Parameters."""
  missing = [name for name in PLATEAU_ENTRIES.values() if name not in entries]
  if rates is None:
    missing.append(GROUP_LR.format("<i>"))
  if missing:
    raise ValueError(
      f"{source} has no {missing}, which the optimizer's ReduceLROnPlateau needs to continue "
      "(ms.save_checkpoint(optimizer, path) saves none of the scheduler's state, nor the "
      "groups' rates): save them with ms.save_checkpoint(optimizer, path, append_dict={p.name: "
      "p for p in [*optimizer.lrs, scheduler.last_epoch, scheduler.best, scheduler.wait, "
      "scheduler.cooldown_counter]}), or read the moments with from_mindspore_checkpoint "
      "and pass load_state(plateau={'best', 'num_bad_epochs', 'cooldown_counter', "
      "'reductions'}) kept otherwise (a script that "
      "builds its scheduler afresh continues from best=inf (-inf for mode='max') and zeros)."
    )
  reductions = plateau_reductions(opt, [float(rate) for rate in rates])
  if reductions is None:
    raise ValueError(
      f"{source}: the groups' rates ({GROUP_LR.format('<i>')}) {[str(r) for r in rates]} "
      f"are not this optimizer's after any number of reductions (from "
      f"{[str(np.float32(r)) for r in opt.rates_at(0)]}): give each group the lr the "
      "script's optimizer started from, in the script's group order, and the scheduler the "
      "script's factor, min_lr and eps."
    )
  return {
    "best": float(_saved_scalar(entries, PLATEAU_ENTRIES["best"], source)),
    "num_bad_epochs": _saved_count(entries, PLATEAU_ENTRIES["num_bad_epochs"], source),
    "cooldown_counter": _saved_count(entries, PLATEAU_ENTRIES["cooldown_counter"], source),
    "reductions": reductions,
  }


def from_mindspore_scheduler_entries(entries: Mapping, opt, *, step: int, source="entries"):
  """The ``plateau=`` of :func:`~adamax_optax.load_state` from a MindSpore checkpoint's
  entries, and the check of what they hold of the scheduler against ``opt``'s.

  ``ms.save_checkpoint(optimizer, path)`` saves the optimizer Cell's Parameters: the
  params, the moments and ``step_t``. MindSpore 2.10 keeps each group's rate in a
  Parameter (``learning_rate_group_<i>``, float32) in a plain list, ``optimizer.lrs``,
  which the Cell does not register, and a scheduler is no Cell: its ``last_epoch``
  (``last_epoch_<Class>``) and ReduceLROnPlateau's ``best``, ``wait`` (the bad epochs)
  and ``cooldown_counter`` are Parameters of its own. None of them is saved. A script
  keeps them by appending them under their own names, and restores them after
  ``load_param_into_net`` by assigning each its saved value:

  .. code-block:: python

    kept = [*optimizer.lrs, scheduler.last_epoch]  # plateau: + best, wait, cooldown_counter
    ms.save_checkpoint(optimizer, path, append_dict={p.name: p for p in kept})

  What the entries hold is read and checked (each a ``ValueError`` naming the file's
  value and the optimizer's): ``last_epoch_<Class>`` must name ``opt``'s scheduler and
  be ``step // opt.lr_scheduler_every``; the groups' rates must be, exactly in float32,
  ``opt``'s rates after ``step`` updates (a count-driven scheduler, or none), or its rates
  after some number of reductions (ReduceLROnPlateau: that number is ``reductions``,
  the first once every rate has stopped at its floor). A ReduceLROnPlateau returns
  ``{"best", "num_bad_epochs", "cooldown_counter", "reductions"}``, its state after its
  last ``step(metric)`` (:func:`~adamax_optax.load_state` reads the next epoch's metric
  at the next epoch boundary); a count-driven scheduler returns None: the preset's
  position is the step. Several schedulers on one optimizer (a list given as
  ``lr_scheduler``): the rates are checked, not the step counts.

  Without the appended entries (a plain ``save_checkpoint(optimizer, path)``) nothing is
  checked for a count-driven scheduler, and the state continues the schedule at the
  file's step, as the uncut run does. MindSpore itself, resuming from such a file with
  its scheduler built afresh, restarts the schedule at each group's lr (recorded in
  ``tests/golden/mindspore/ms_resume_steplr.npz``): build ``opt`` with
  ``lr_scheduler_start=`` the file's step to do the same (what the file holds of the
  scheduler is then not read, as that script does not read it). A
  ReduceLROnPlateau cannot continue without its entries: the message says what to save,
  or to pass ``plateau=`` to :func:`~adamax_optax.load_state` yourself (MindSpore's fresh
  scheduler: ``best`` inf, or -inf for ``mode="max"``, and zeros).

  Args:
    entries: name -> array, from :func:`load_checkpoint` or ``mindspore.load_checkpoint``.
    opt: the optimizer made by :func:`adamax_optax.mindspore_adamax`, built with the
      script's groups, ``lr_scheduler`` and ``lr_scheduler_every`` (the updates per
      ``scheduler.step()``).
    step: the optimizer's step in the same file (``step_t``).
    source: how errors name the entries.

  Example:
    >>> import numpy as np
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mindspore.experimental.optim import Adamax
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import ReduceLROnPlateau
    >>> opt = Adamax({"w": jnp.ones(2)}, lr=0.1, lr_scheduler=ReduceLROnPlateau(factor=0.5))
    >>> entries = {"learning_rate_group_0": np.float32(0.05), "best": np.float32(0.25),
    ...   "wait": np.float32(4), "cooldown_counter": np.float32(0),
    ...   "last_epoch_ReduceLROnPlateau": np.int32(30)}  # appended after 30 epochs
    >>> from_mindspore_scheduler_entries(entries, opt, step=30)
    {'best': 0.25, 'num_bad_epochs': 4, 'cooldown_counter': 0, 'reductions': 1}

  Raises:
    ValueError: a check above fails, a plateau's entries are missing, or the file holds a
      scheduler's step count while ``opt`` has no scheduler.
    TypeError: ``opt`` is not an optimizer of :mod:`adamax_optax.mindspore.experimental.optim`.
  """
  if not is_python_int(step) or step < 0:
    raise ValueError(f"step must be an int >= 0 (the file's step_t), got {step!r}.")
  scheduler = _preset_scheduler(opt)
  if opt.lr_scheduler_start:  # built afresh at the resume: what the file holds is not read
    if opt.lr_scheduler_start != step:
      raise ValueError(
        f"The optimizer's scheduler was built at update lr_scheduler_start="
        f"{opt.lr_scheduler_start}, but {source} resumes at step {step}: a script that "
        f"builds its scheduler afresh on resuming builds it there; pass "
        f"lr_scheduler_start={step}."
      )
    return None
  rates = _saved_rates(entries, len(opt.rates_at(0)), source)
  counts = sorted(key for key in entries if key.startswith(LAST_EPOCH))
  if scheduler is None or isinstance(scheduler, Together):
    if counts and scheduler is None:
      raise ValueError(
        f"{source} holds a scheduler's step count ({counts}), but the optimizer has no "
        "lr_scheduler: build it with lr_scheduler= the script's scheduler and arguments."
      )
    _check_rates(rates, opt, step, source)
    return None
  own = type(scheduler).__name__
  if counts:
    if LAST_EPOCH + own not in counts:
      raise ValueError(
        f"{source} holds the step count of another scheduler ({counts}), but the "
        f"optimizer's lr_scheduler is a {own}: build it with the scheduler the script saved."
      )
    last_epoch = _saved_count(entries, LAST_EPOCH + own, source)
    check_scheduler_position(last_epoch, own, step, opt.lr_scheduler_every, source)
  if is_plateau(scheduler):
    return _plateau_state(entries, opt, rates, source)
  _check_rates(rates, opt, step, source)
  return None


def from_mindspore_checkpoint_file(
  path, opt, params, *, names=None, prefix: str = "", format: str | None = None
) -> dict:
  """The keywords of :func:`~adamax_optax.load_state` that continue the run a MindSpore
  script saved: ``{"mu", "nu", "step", "plateau"}`` from one ``.ckpt`` / ``.safetensors``.

  The moments and the step come from the optimizer's entries
  (:func:`from_mindspore_checkpoint`, ``mindspore.experimental.optim.Adamax``), the
  scheduler's from the entries the script appended
  (:func:`from_mindspore_scheduler_entries`, which says what the file must hold and what
  it is checked against). Read the params from the same entries:

  .. code-block:: python

    opt = Adamax(groups, lr=1e-3, lr_scheduler=StepLR(step_size=41, gamma=0.3))
    params = params_from_mindspore_checkpoint(load_checkpoint("run.ckpt"), params)
    state = load_state(opt, params, **from_mindspore_checkpoint_file("run.ckpt", opt, params))

  Args:
    path: the file ``ms.save_checkpoint(optimizer, path, append_dict=...)`` wrote.
    opt: the optimizer made by :func:`adamax_optax.mindspore_adamax`, built as the script
      built its optimizer and scheduler (groups, ``lr_scheduler``, ``lr_scheduler_every``).
    params: the params (for structure, names and shapes).
    names, prefix: as for :func:`from_mindspore_checkpoint`.
    format: ``"ckpt"`` or ``"safetensors"``; by default from the file's extension.

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read
      (:func:`load_checkpoint`), it holds no moments of ``params``, or a check of
      :func:`from_mindspore_scheduler_entries` fails.
    TypeError: ``opt`` is not an optimizer of :mod:`adamax_optax.mindspore.experimental.optim`.
  """
  _preset_scheduler(opt)
  entries = load_checkpoint(path, format=format)
  with interpreting(path, "MindSpore training checkpoint"):
    mu, nu, step = from_mindspore_checkpoint(entries, params, names=names, prefix=prefix)
    plateau = from_mindspore_scheduler_entries(entries, opt, step=step, source=str(path))
  return {"mu": mu, "nu": nu, "step": step, "plateau": plateau}


def _entry(entries: Mapping, key: str, shape: tuple) -> np.ndarray:
  return entry(
    entries,
    key,
    shape,
    label=repr(key),
    source="checkpoint",
    missing=" Pass names= to map leaf names onto MindSpore's parameter names, prefix= when "
    "they carry one (a custom train cell's 'optimizer.'), or optimizer= for the other Adamax.",
    mismatch="the checkpoint belongs to another model, or names= maps it wrongly.",
  )


def _beta1_power(beta1: float, step: int) -> np.ndarray:
  """beta1 multiplied into 1 ``step`` times in float32 (``nn.AdaMax``'s beta1_power)."""
  return np.array(running_power(beta1, step), np.float32)


def _mindspore_keys(optimizer: str) -> tuple[str, str, str]:
  if optimizer not in _MINDSPORE_KEYS:
    raise ValueError(f"optimizer must be one of {sorted(_MINDSPORE_KEYS)}, got {optimizer!r}.")
  return _MINDSPORE_KEYS[optimizer]


def _format(path, format: str | None) -> str:
  if format is None:
    format = "safetensors" if os.fspath(path).endswith(".safetensors") else "ckpt"
  if format not in ("ckpt", "safetensors"):
    raise ValueError(f"format must be 'ckpt' or 'safetensors', got {format!r}.")
  return format


def _read_ckpt(data: bytes) -> dict:
  """Entries of a serialized ``Checkpoint {repeated Value value = 1}`` message.

  ``Value {string tag = 1; oneof {TensorProto tensor = 2; MapTensorProto maptensor = 3}}``,
  ``TensorProto {repeated int64 dims = 1; string tensor_type = 2; bytes tensor_content =
  3}``. MindSpore writes one message per tensor (a large tensor as several, with the same
  tag, whose contents join); concatenated messages parse as one.
  """
  if data[-17:-10] == _CRC_MARK:
    data, stored = data[:-17], int.from_bytes(data[-10:], "big")
    if binascii.crc32(data) != stored:
      raise CheckpointError(
        "the CRC32 saved with crc_check=True does not match: the file is damaged"
      )
  pieces: list[tuple[str, list[int], str, list[bytes]]] = []
  for number, wire_type, value in pb.fields(data):
    if number != 1 or wire_type != pb.LENGTH_DELIMITED:
      continue  # unknown fields are skipped, as protobuf parsers do
    tag, tensor = None, None
    for n, w, v in pb.fields(value):
      if n == 1 and w == pb.LENGTH_DELIMITED:
        tag = v.decode("utf-8")
      elif n == 2 and w == pb.LENGTH_DELIMITED:
        tensor = v
      elif n == 3:
        raise ValueError(f"entry {tag!r} is a MapParameter, which is not supported")
    if tag is None or tensor is None:
      raise ValueError(f"an entry lacks its tag or tensor (tag {tag!r})")
    dims, tensor_type, content = [], None, b""
    for n, w, v in pb.fields(tensor):
      if n == 1:
        dims += [pb.signed64(d) for d in pb.repeated_varints(w, v)]
      elif n == 2 and w == pb.LENGTH_DELIMITED:
        tensor_type = v.decode("utf-8")
      elif n == 3 and w == pb.LENGTH_DELIMITED:
        content = v
    if pieces and pieces[-1][0] == tag:
      pieces[-1][3].append(content)
    else:
      pieces.append((tag, dims, tensor_type, [content]))
  return {tag: _decode(tag, dims, kind, b"".join(parts)) for tag, dims, kind, parts in pieces}


def _decode(tag: str, dims: list[int], tensor_type: str | None, content: bytes):
  if tensor_type == _STR_TYPE:
    return str(np.frombuffer(content, f"<U{len(content) // 4}")[0]) if content else ""
  if tensor_type not in _TENSOR_TYPES:
    raise ValueError(f"entry {tag!r} has tensor_type {tensor_type!r}, not one of {_TENSOR_TYPES}")
  dtype = _TENSOR_TYPES[tensor_type]
  # A 0-d tensor is saved with no dims; MindSpore also reads dims [0] as 0-d.
  shape = () if dims == [0] and content else tuple(dims)
  nbytes = array_bytes(shape, dtype.itemsize, f"entry {tag!r}")
  if len(content) != nbytes:
    raise ValueError(
      f"entry {tag!r}: {len(content)} bytes do not hold a {tensor_type} tensor of shape {shape}"
    )
  charge(nbytes, f"entry {tag!r}")
  return np.frombuffer(content, dtype).reshape(shape).copy()


def _ckpt_bytes(entries: Mapping) -> bytes:
  out = []
  for tag, value in entries.items():
    if isinstance(value, str):
      text = np.array(value)  # UTF-32, as NumPy stores str
      text = text.astype(text.dtype.newbyteorder("<")).tobytes()
      out.append(_message(tag, [0], _STR_TYPE, [text]))
      continue
    array = to_numpy(value)
    tensor_type = _type_name(tag, array.dtype)
    raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    chunks = [raw[i : i + _SLICE_BYTES] for i in range(0, len(raw), _SLICE_BYTES)] or [raw]
    out.append(_message(tag, list(array.shape), tensor_type, chunks))
  return b"".join(out)


def _message(tag: str, dims: list[int], tensor_type: str, contents: list[bytes]) -> bytes:
  head = b"".join(pb.varint_field(1, d) for d in dims) + pb.bytes_field(2, tensor_type)
  return b"".join(
    pb.bytes_field(1, pb.bytes_field(1, tag) + pb.bytes_field(2, head + pb.bytes_field(3, c)))
    for c in contents
  )


def _type_name(tag: str, dtype: np.dtype) -> str:
  little = dtype.newbyteorder("<")
  for name, candidate in _TENSOR_TYPES.items():
    if candidate == little:
      return name
  raise ValueError(f"entry {tag!r} has dtype {dtype}; MindSpore saves {sorted(_TENSOR_TYPES)}.")


__all__ = [
  "GROUP_LR",
  "LAST_EPOCH",
  "PLATEAU_ENTRIES",
  "CheckpointError",
  "from_mindspore_checkpoint",
  "from_mindspore_checkpoint_file",
  "from_mindspore_scheduler_entries",
  "load_checkpoint",
  "params_from_mindspore_checkpoint",
  "save_checkpoint",
  "to_mindspore_checkpoint",
]
