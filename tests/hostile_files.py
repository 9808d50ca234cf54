"""Mutated copies of real checkpoint files, and what each reader must do with them.

Shared by ``tests/test_hostile_files.py`` (a few mutants per format, under hypothesis) and
``benchmarks/mutation_campaign.py`` (thousands). A mutant is a real file of the repository
(``tests/golden/<framework>/checkpoints``) with random byte changes, truncations, inserted
or deleted bytes, or, inside a zip archive, one record changed and the archive rewritten
with valid CRCs (so the mutation reaches the parser behind the zip layer). Each reader
must load it or raise a documented error: a ``CheckpointError`` (``UnsafePickleError``
is one) whose message names the file; and the memory it traces (``tracemalloc``: Python
objects and NumPy arrays) must stay under :func:`bound` of the file's size.
"""

from __future__ import annotations

import io
import pathlib
import tracemalloc
import zipfile

import numpy as np

from adamax_optax.checkpoint import CheckpointError
from adamax_optax.keras import checkpoint as keras_ckpt
from adamax_optax.mindspore import checkpoint as ms_ckpt
from adamax_optax.mxnet import checkpoint as mxnet_ckpt
from adamax_optax.paddle import checkpoint as paddle_ckpt
from adamax_optax.torch import checkpoint as torch_ckpt

GOLDEN = pathlib.Path(__file__).parent / "golden"
_F32 = np.float32
TEMPLATE = {"w": np.zeros((4, 3), _F32), "b": np.zeros(3, _F32), "s": _F32(0)}
TEMPLATE_MXNET1 = {**TEMPLATE, "s": np.zeros(1, _F32)}  # MXNet 1.x has no 0-d arrays
MXNET_ORDER = ["w", "b", "s"]  # the Trainer's parameter list
TORCH_GROUPS = [{"params": ["w", "s"]}, {"params": ["b"]}]


def _paddle_names():
  return paddle_ckpt.internal_names(GOLDEN / "paddle/checkpoints/adamax.pdparams", TEMPLATE)


# format -> (a real file, the reader a user calls on such a file, with the params it needs)
FORMATS = {
  "torch optimizer .pt": (
    "torch/checkpoints/adamax_optimizer.pt",
    lambda p: torch_ckpt.from_torch_optimizer_file(p, TEMPLATE, param_groups=TORCH_GROUPS),
  ),
  "torch model .pt": (
    "torch/checkpoints/adamax_model.pt",
    lambda p: torch_ckpt.from_torch_model_file(p, TEMPLATE),
  ),
  "mxnet 2.0 .states": (
    "mxnet/checkpoints/mxnet2_fp32.states",
    lambda p: mxnet_ckpt.from_mxnet_states_file(p, TEMPLATE, order=MXNET_ORDER),
  ),
  "mxnet 1.x .states": (
    "mxnet/checkpoints/mxnet1_fp32.states",
    lambda p: mxnet_ckpt.from_mxnet_states_file(p, TEMPLATE_MXNET1, order=MXNET_ORDER),
  ),
  "mxnet 1.x .params": (
    "mxnet/checkpoints/mxnet1_fp32.params",
    lambda p: mxnet_ckpt.from_mxnet_params_file(p, TEMPLATE_MXNET1),
  ),
  "mxnet 2.0 .params (npz)": (
    "mxnet/checkpoints/mxnet2_fp32.params",
    lambda p: mxnet_ckpt.from_mxnet_params_file(p, TEMPLATE),
  ),
  "paddle .pdopt": (
    "paddle/checkpoints/adamax.pdopt",
    lambda p: paddle_ckpt.from_paddle_optimizer_file(p, TEMPLATE, names=_paddle_names()),
  ),
  "paddle .pdparams": (
    "paddle/checkpoints/adamax.pdparams",
    lambda p: paddle_ckpt.from_paddle_model_file(p, TEMPLATE),
  ),
  "mindspore .ckpt": ("mindspore/checkpoints/ms_exp_step5.ckpt", ms_ckpt.load_checkpoint),
  "mindspore .ckpt (crc)": (
    "mindspore/checkpoints/ms_exp_step5_crc.ckpt",
    ms_ckpt.load_checkpoint,
  ),
  "mindspore .safetensors": (
    "mindspore/checkpoints/ms_exp_step5.safetensors",
    ms_ckpt.load_checkpoint,
  ),
  "keras .weights.h5": ("keras/checkpoints/keras_step5.weights.h5", keras_ckpt.load_weights),
  "keras .keras": ("keras/checkpoints/keras_step5.keras", keras_ckpt.load_weights),
}

# Bytes that length and count fields like to be: zero, signs, all ones.
_INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\x7f", b"\xff" * 8]


def bound(file_size: int) -> int:
  """The most memory a reader may trace for a file of ``file_size`` bytes: the arrays it
  may charge (4 times the file plus 64 KiB, ``checkpoint._reading``) and the Python
  objects a pickle or a header builds beside them."""
  return 16 * file_size + (1 << 20)


def _mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
  out = bytearray(data)
  kind = rng.integers(5)
  if kind == 0:  # random byte changes
    for _ in range(rng.integers(1, 9)):
      out[rng.integers(len(out))] = rng.integers(256)
  elif kind == 1:  # a truncation
    del out[rng.integers(len(out)) :]
  elif kind == 2:  # inserted bytes
    at = rng.integers(len(out) + 1)
    out[at:at] = rng.integers(256, size=rng.integers(1, 17)).astype(np.uint8).tobytes()
  elif kind == 3:  # deleted bytes
    at = rng.integers(len(out))
    del out[at : at + rng.integers(1, 17)]
  else:  # a length or count field set to an extreme value
    value = _INTERESTING[rng.integers(len(_INTERESTING))]
    at = rng.integers(len(out))
    out[at : at + len(value)] = value
  return bytes(out)


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
  """A mutant of ``data``: its bytes mutated, or, for a zip archive, half of the time one
  of its records mutated and the archive rewritten with matching CRCs."""
  if data.startswith(b"PK\x03\x04") and rng.integers(2):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
      infos = archive.infolist()
      records = [(info, archive.read(info)) for info in infos]
    chosen = rng.integers(len(records))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
      for i, (info, content) in enumerate(records):
        if i == chosen and content:
          content = _mutate_bytes(content, rng)
        archive.writestr(info, content)
    return out.getvalue()
  return _mutate_bytes(data, rng)


def original(format_name: str) -> bytes:
  return (GOLDEN / FORMATS[format_name][0]).read_bytes()


def file_name(format_name: str) -> str:
  """The mutant's file name: the real file's, so readers that go by extension agree."""
  return pathlib.Path(FORMATS[format_name][0]).name


def warm_up(format_name: str) -> None:
  """Read the real file once, so that what a first read imports (h5py's modules) is not
  traced as the reader's memory."""
  FORMATS[format_name][1](GOLDEN / FORMATS[format_name][0])


def outcome(format_name: str, path: pathlib.Path) -> tuple[str, str, int]:
  """``(verdict, detail, traced peak bytes)`` of reading ``path`` with the format's reader.

  ``verdict`` is "loaded", "documented" (a CheckpointError naming the file),
  "undocumented" (any other error, or one not naming the file; ``detail`` is its type and
  message) or "over bound" (the traced peak passed :func:`bound`).
  """
  read = FORMATS[format_name][1]
  tracemalloc.start()
  try:
    read(path)
    verdict, detail = "loaded", ""
  except CheckpointError as e:
    named = str(path) in str(e)
    verdict = "documented" if named else "undocumented"
    detail = "" if named else f"{type(e).__name__} without the file name: {e}"
  except Exception as e:
    verdict, detail = "undocumented", f"{type(e).__name__}: {e}"
  finally:
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
  if peak > bound(path.stat().st_size):
    verdict, detail = "over bound", f"traced {peak} bytes for a {path.stat().st_size}-byte file"
  return verdict, detail[:300], peak
