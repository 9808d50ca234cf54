"""What every checkpoint reader does with a file it cannot read, and how much memory it may use.

The readers take files from other frameworks, often downloaded, so a file may be
truncated, damaged, of another kind, or crafted. Each wing's reader runs its parsing inside
:func:`reading`, which turns any failure into one documented error:

* :class:`CheckpointError` (a ``ValueError``): the message names the file and the problem
  (truncated, damaged: a CRC or zip structure, not this kind of file, an unsupported
  version), and its ``__cause__`` is the low-level error (``zipfile.BadZipFile``,
  ``UnicodeDecodeError``, ``struct.error``, ...);
* :class:`~adamax_optax.checkpoint._restricted_pickle.UnsafePickleError`, a
  :class:`CheckpointError` too, for a pickle naming a global outside the allow-list;
* ``OSError`` (``FileNotFoundError``, ...) only when the file cannot be opened: readers
  open it before entering :func:`reading`.

Memory is bounded by the file: inside :func:`reading`, every array a format parser builds
is first charged with :func:`charge`, and the arrays of one file may total at most
:data:`ALLOCATION_FACTOR` times its size (plus :data:`ALLOCATION_SLACK`), so no length,
shape or count declared inside a file makes a reader allocate more than the file could hold.

Example:
  >>> import os, tempfile
  >>> path = os.path.join(tempfile.mkdtemp(), "x.bin")
  >>> with open(path, "wb") as f:
  ...   _ = f.write(b"abc")
  >>> try:
  ...   with reading(path, "demo file", file_size=3):
  ...     charge(1 << 40, "a tensor")
  ... except CheckpointError as e:
  ...   print(str(e).replace(path, "x.bin"))
  x.bin is not a readable demo file: a tensor declares 1099511627776 bytes, more than a
  3-byte file can hold
"""

import contextlib
import contextvars
import math
import os
import zipfile
import zlib

# Arrays read from a file may total this many times its size: a tensor is stored once but
# may be read as a few views (PyTorch's shared storages), never more.
ALLOCATION_FACTOR = 4
# ... plus this many bytes, for tiny files whose few scalars take more room in NumPy.
ALLOCATION_SLACK = 1 << 16


class CheckpointError(ValueError):
  """A checkpoint file that cannot be read: the message names the file and what is wrong
  (truncated, damaged, another kind of file, an unsupported version); ``__cause__`` is the
  low-level error. A ``ValueError``, so ``except ValueError`` keeps working."""


class _Allowance:
  """The bytes that the arrays of the file being read may still take."""

  def __init__(self, file_size: int):
    self.file_size = file_size
    self.left = ALLOCATION_FACTOR * file_size + ALLOCATION_SLACK


_allowance: contextvars.ContextVar[_Allowance | None] = contextvars.ContextVar(
  "checkpoint_allowance", default=None
)


def charge(nbytes: int, what: str) -> None:
  """Reserve ``nbytes`` for an array the file declares (``what`` names it), before it is
  allocated; a :class:`CheckpointError` when the file could not hold it.

  Outside :func:`reading` (a parser called on bytes directly) nothing is charged.
  """
  allowance = _allowance.get()
  if allowance is None:
    return
  if nbytes < 0:
    raise CheckpointError(f"{what} declares a negative size {nbytes}")
  if nbytes > allowance.left:
    raise CheckpointError(
      f"{what} declares {nbytes} bytes, more than a {allowance.file_size}-byte file can hold"
    )
  allowance.left -= nbytes


def array_bytes(shape, itemsize: int, what: str) -> int:
  """The bytes of an array of ``shape`` (Python ints, no overflow); a
  :class:`CheckpointError` for a negative or non-integer dimension."""
  dims = list(shape)
  if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
    raise CheckpointError(f"{what} has an invalid shape {dims!r}")
  return math.prod(dims) * itemsize


def read_zip_record(archive: zipfile.ZipFile, name: str) -> bytes:
  """The record ``name`` of a zip ``archive`` being read inside :func:`reading`.

  Its sizes are checked first: a compressed size past the file's own (``zipfile`` would
  allocate a buffer of that size before finding the end) says the archive is truncated or
  damaged, and its inflated size is charged (a compressed record cannot inflate past the
  bound).
  """
  info = archive.getinfo(name)
  allowance = _allowance.get()
  if allowance is not None and info.compress_size > allowance.file_size:
    raise CheckpointError(
      f"the archive's record {name!r} declares {info.compress_size} bytes in a "
      f"{allowance.file_size}-byte file: truncated or damaged"
    )
  charge(info.file_size, f"the archive's record {name!r}")
  return archive.read(name)


def _problem(error: BaseException) -> str:
  """What a low-level error says about the file, in a few words."""
  text = str(error)
  if isinstance(error, zipfile.BadZipFile):
    if "CRC" in text:
      return "damaged (a CRC-32 check failed)"
    return "a damaged zip archive"
  if isinstance(error, zlib.error):
    return "damaged (its compressed data does not inflate)"
  if isinstance(error, EOFError) or "truncated" in text.lower():
    return "truncated"
  if isinstance(error, UnicodeDecodeError):
    return "damaged (a name or header is not valid UTF-8)"
  if isinstance(error, RecursionError):
    return "nested too deeply to read"
  return "damaged or of another kind"


@contextlib.contextmanager
def reading(path, kind: str, *, file_size: int | None = None):
  """Read the checkpoint ``path`` (a ``kind``, e.g. "PyTorch checkpoint") inside this block.

  Every exception leaving the block becomes a :class:`CheckpointError` naming the file and
  the problem, chained to the original; one that is already a :class:`CheckpointError`
  naming the file passes unchanged (one naming no file gets the file's name in front, and
  keeps its class). ``file_size`` (default: the size on disk) bounds the arrays read, see
  :func:`charge`. Open the file before entering, so that a missing file raises
  ``FileNotFoundError``.
  """
  source = os.fspath(path)
  token = None
  if _allowance.get() is None:  # nested blocks (a pickle inside an archive) share the file's
    size = os.path.getsize(source) if file_size is None else file_size
    token = _allowance.set(_Allowance(size))
  try:
    yield
  except CheckpointError as e:
    if source in str(e):
      raise
    raise type(e)(f"{source} is not a readable {kind}: {e}") from e
  except MemoryError:
    raise  # a bound this module missed: let it show, never hide it
  except Exception as e:
    raise CheckpointError(f"{source} is not a readable {kind}: {_problem(e)} ({e!r})") from e
  finally:
    if token is not None:
      _allowance.reset(token)


@contextlib.contextmanager
def interpreting(path, kind: str):
  """Map what the file ``path`` holds onto the params inside this block.

  The file was read; what it holds may still not be a ``kind`` (a model's ``state_dict``
  given as an optimizer's, a mutated entry), or not fit the params. A ``KeyError``,
  ``TypeError``, ``IndexError`` or ``AttributeError`` leaving the block becomes a
  :class:`CheckpointError` saying the file does not hold what a ``kind`` holds; a
  ``ValueError`` (a shape that differs, a step that disagrees) becomes a
  :class:`CheckpointError` with the same message, the file's name in front when it does
  not name it; other errors pass unchanged.
  """
  source = os.fspath(path)
  try:
    yield
  except (KeyError, TypeError, IndexError, AttributeError) as e:
    raise CheckpointError(
      f"{source} does not hold what a {kind} holds: {type(e).__name__} {e}"
    ) from e
  except ValueError as e:
    if isinstance(e, CheckpointError) and source in str(e):
      raise
    message = str(e) if source in str(e) else f"{source}: {e}"
    raise (type(e) if isinstance(e, CheckpointError) else CheckpointError)(message) from e


__all__ = [
  "CheckpointError",
  "array_bytes",
  "charge",
  "interpreting",
  "read_zip_record",
  "reading",
]
