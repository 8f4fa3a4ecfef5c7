"""Reading raw trees and writing output atomically.

Output goes to a temporary folder beside OUT and is swapped in at the end, so
a run that is killed leaves the previous complete output (or none), never a
half-written one. Nothing is ever written inside RAW, and a folder that holds
something other than a previous output is never replaced.

Inputs are read defensively (see docs/robustness.md): only regular files,
within limits of size, line count and line length that bound the memory one
file can take.
Names of any kind (spaces, ``#``, newlines, very long or not UTF-8) give
unique ids and safe paths under ``docs/``.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from .errors import InputError, UsageError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; leftovers are then left alone
    fcntl = None

# Limits that bound the memory one input can take; a file over any of them is
# refused with the reason, and the run goes on. Cleaning needs about six
# times a file's size, a few hundred bytes per line, and about thirty times
# the size of its longest line (docs/robustness.md has the measurements).
MAX_INPUT_BYTES = 256 * 2**20
MAX_LINES = 2_000_000
MAX_LINE_BYTES = 2**20


def list_inputs(raw: Path) -> list[tuple[Path, str]]:
    """Every file under ``raw`` with its relative POSIX path, sorted.

    Hidden files and folders (a leading dot) are skipped; symbolic links to
    folders are not followed (a link loop cannot trap the walk). Entries that
    are not regular files (named pipes, devices, broken links) stay in the
    list so that reading them fails with a reason (:func:`read_input`).
    A name that is not valid UTF-8 shows its undecodable bytes as ``\\xNN``.
    """
    raw = Path(raw)
    if raw.is_file():
        return [(raw, text_name(raw.name))]
    if not raw.is_dir():
        raise UsageError(f"{raw}: no such folder")
    found: dict[str, Path] = {}
    for path in _walk(raw):
        source = text_name(path.relative_to(raw).as_posix())
        if source in found:  # only a name with a literal "\\xNN" can meet an escaped one
            raise UsageError(f"{path} and {found[source]} would both be called {source!r}")
        found[source] = path
    return [(found[source], source) for source in sorted(found)]


def _walk(raw: Path) -> Iterator[Path]:
    """Every entry under ``raw`` that is not a folder, hidden ones left out.

    A loop, not recursion, so that a tree a thousand folders deep cannot
    exhaust the interpreter's stack. Links to folders are not followed. A
    folder that cannot be listed is yielded itself, so that reading it fails
    with the reason.
    """
    try:
        stack = [(raw, sorted(os.scandir(raw), key=lambda e: e.name))]
    except OSError as exc:
        raise UsageError(f"{raw}: cannot list: {exc.strerror or exc}") from None
    while stack:
        folder, entries = stack.pop()
        if entries is None:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                yield folder
                continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), None))
                continue
            try:
                linked_folder = entry.is_symlink() and entry.is_dir()
            except OSError:  # a link loop: reading it will say so
                linked_folder = False
            if not linked_folder:
                yield Path(entry.path)


def text_name(name: str) -> str:
    r"""A file name as text that encodes to UTF-8: undecodable bytes become ``\xNN``.

    The file system hands back bytes that are not UTF-8 as lone surrogates,
    which no output file can hold.

    >>> text_name("讲话.txt")
    '讲话.txt'
    >>> text_name(os.fsdecode(b"\xbd\xb2.txt"))
    '\\xbd\\xb2.txt'
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def display_name(source: str) -> str:
    r"""A source as it should appear in a one-line message: invisible characters escaped.

    A newline in a file name must not split the message naming it.

    >>> display_name("a\nb 中文#1.txt")
    'a\\nb 中文#1.txt'
    >>> display_name("x\u202ey.txt")
    'x\\u202ey.txt'
    """
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in source)


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
)


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def read_input(path: Path, max_bytes: int | None = None, max_lines: int | None = None,
               max_line: int | None = None) -> bytes:
    """The bytes of one raw file, or an error saying why it is not read.

    Raises :class:`OSError` when the file cannot be opened or read, and
    :class:`InputError` when it is not a regular file (a named pipe would
    block forever, a device never ends), or is over a limit: more than
    ``max_bytes`` bytes, more than ``max_lines`` lines, or a line longer than
    ``max_line`` bytes. The limits default to :data:`MAX_INPUT_BYTES`,
    :data:`MAX_LINES` and :data:`MAX_LINE_BYTES`.
    """
    max_bytes = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    max_lines = MAX_LINES if max_lines is None else max_lines
    max_line = MAX_LINE_BYTES if max_line is None else max_line
    # Non-blocking, so that opening a named pipe with no writer returns at once.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "a special file")
            raise InputError(f"not a regular file: {kind}")
        if info.st_size > max_bytes:
            raise InputError(f"too large: {_mib(info.st_size)}, the limit is {_mib(max_bytes)}")
        data = fh.read(max_bytes + 1)  # the file may have grown since fstat
    if len(data) > max_bytes:
        raise InputError(f"too large: over {_mib(max_bytes)}, the limit")
    lines = max(data.count(b"\n"), data.count(b"\r"))
    if lines > max_lines:
        raise InputError(f"too many lines: {lines:,}, the limit is {max_lines:,}")
    long_line = find_long_line(data, max_line)
    if long_line:
        number, length = long_line
        raise InputError(f"line {number:,} is too long: {_mib(length)}, the limit is {_mib(max_line)}")
    return data


def find_long_line(data: bytes, limit: int) -> tuple[int, int] | None:
    r"""The first line longer than ``limit`` bytes, as (line number, length), or None.

    Lines end at ``\n``, ``\r`` or ``\r\n``. In UTF-16 and UTF-32 some
    characters hold the byte of a line end, so lines there can only look
    shorter than they are, never longer. One pass without copies, and none at
    all for data shorter than the limit.

    >>> find_long_line(b"ab\ncdefg\rxy", 4)
    (2, 5)
    >>> find_long_line(b"a\r\nb\r\nccccc\r\nd", 4)
    (3, 5)
    >>> find_long_line(b"ab\r\ncd", 4) is None
    True
    """
    if len(data) <= limit:
        return None
    start, size = 0, len(data)
    while start < size:
        end = data.find(b"\n", start)
        end = size if end < 0 else end
        piece = start
        while end - piece > limit:  # long between newlines: look for carriage returns
            cut = data.find(b"\r", piece, end)
            cut = end if cut < 0 else cut
            if cut - piece > limit:
                ends = (data.count(b"\n", 0, piece) + data.count(b"\r", 0, piece)
                        - data.count(b"\r\n", 0, piece))  # CRLF ends one line
                return ends + 1, cut - piece
            piece = cut + 1
        start = end + 1
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def source_stem(source: str) -> str:
    """The raw path without its extension.

    >>> source_stem("a/b.txt"), source_stem("a.b/c")
    ('a/b', 'a.b/c')
    """
    name = source.rsplit("/", 1)[-1]
    return source.rsplit(".", 1)[0] if "." in name.lstrip(".") else source


def _stem_key(stem: str) -> str:
    # Case- and normalization-insensitive, so that doc files stay apart on file
    # systems that fold case (macOS, Windows) or Unicode forms (macOS).
    return unicodedata.normalize("NFC", stem).casefold()


def unique_stems(sources: Iterable[str]) -> dict[str, str]:
    """Map each source to its id stem, unique across the sources.

    Sources whose stems would collide keep their extension, again until none
    collide (full paths are unique, so this ends). Stems that differ only in
    case or Unicode form count as colliding.

    >>> unique_stems(["x.txt", "x.md", "y.txt"])
    {'x.txt': 'x.txt', 'x.md': 'x.md', 'y.txt': 'y'}
    >>> unique_stems(["a.1", "a.1.txt", "a.md"])
    {'a.1': 'a.1', 'a.1.txt': 'a.1.txt', 'a.md': 'a.md'}
    >>> unique_stems(["A.txt", "a.md"])
    {'A.txt': 'A.txt', 'a.md': 'a.md'}
    """
    stems = {s: source_stem(s) for s in dict.fromkeys(sources)}
    while True:
        owners: dict[str, list[str]] = {}
        for source, stem in stems.items():
            owners.setdefault(_stem_key(stem), []).append(source)
        clashing = [s for group in owners.values() if len(group) > 1 for s in group if stems[s] != s]
        if not clashing:
            return stems
        for source in clashing:
            stems[source] = source


# Bytes of a stem's path component kept in a doc file name; longer ones are
# cut and given a hash of the whole (file names stop at 255 bytes).
NAME_BYTES = 200
# Characters written as %XX in doc file names: the escape itself, the Windows
# separator and every invisible or line-breaking character.
_ESCAPED = frozenset("%\\")
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape_char(ch: str) -> str:
    if ch in _ESCAPED or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
        return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return ch


def safe_name(part: str) -> str:
    r"""One path component of a stem as a file name that is safe to write.

    Invisible characters, line breaks, ``%`` and ``\`` are written ``%XX``
    (their UTF-8 bytes), a leading dot as ``%2E`` (no hidden files, no
    ``..``), an empty component as ``%2F``; a component longer than
    :data:`NAME_BYTES` is cut and ends in ``~`` and a hash of the whole.
    Different components always give different names.

    >>> safe_name("new\nline"), safe_name("100%"), safe_name(".."), safe_name("-a b#1 中文")
    ('new%0Aline', '100%25', '%2E.', '-a b#1 中文')
    >>> long = safe_name("讲" * 100)
    >>> len(long.encode()), long.endswith("~" + hashlib.sha256(("讲" * 100).encode()).hexdigest()[:16])
    (197, True)
    """
    if not part:
        return "%2F"  # "/" is never inside a component, so this cannot clash
    name = "".join(map(_escape_char, part))
    if name.startswith("."):
        name = "%2E" + name[1:]
    return _fit(name, part)


def _fit(name: str, whole: str) -> str:
    """``name`` cut to :data:`NAME_BYTES` when longer, with a hash of ``whole`` that keeps it apart."""
    if len(name.encode("utf-8")) <= NAME_BYTES:
        return name
    digest = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    kept, size = [], 0
    for ch in name:
        size += len(ch.encode("utf-8"))
        if size > NAME_BYTES - 20:
            break
        kept.append(ch)
    return "".join(kept) + "~" + digest


_DOC_FILE = re.compile(r".*\.\d+\.txt", re.IGNORECASE)
# Folders kept under docs/ at most; a deeper tree ends in one long name, so
# that writing the output does not meet the limits of path depth.
DOC_DEPTH = 32


def doc_path(stem: str, n: int) -> str:
    r"""Where a speech's readable copy goes under ``docs/``: the stem made safe, then ``.<n>.txt``.

    Distinct stems give distinct paths, each component a legal file name, and
    no path leaves ``docs/`` (see :func:`safe_name`). A folder whose name
    looks like a doc file (``x.1.txt/``) gets its last dot escaped, so that it
    cannot meet the doc file of a stem ``x``.

    >>> doc_path("a/b", 2)
    'docs/a/b.2.txt'
    >>> doc_path("../x\n#1", 1)
    'docs/%2E./x%0A#1.1.txt'
    >>> doc_path("x.1.txt/y", 1), doc_path("x", 1)
    ('docs/x.1%2Etxt/y.1.txt', 'docs/x.1.txt')
    >>> deep = doc_path("/".join("abcdefghijklmnopqrstuvwxyz0123456789"), 1).split("/")
    >>> len(deep), deep[-2:]
    (33, ['4', '5%2F6%2F7%2F8%2F9.1.txt'])
    """
    parts = [safe_name(part) for part in stem.split("/")]
    if len(parts) > DOC_DEPTH:  # the deepest folders and the name become one name
        deepest = "%2F".join(parts[DOC_DEPTH - 1:])  # "/" is never in a component
        parts[DOC_DEPTH - 1:] = [_fit(deepest, deepest)]
    *folders, name = parts
    folders = [f"{f[:f.rindex('.')]}%2E{f[f.rindex('.') + 1:]}" if _DOC_FILE.fullmatch(f) else f
               for f in folders]
    return "docs/" + "/".join([*folders, name]) + f".{n}.txt"


def is_previous_output(folder: Path) -> bool:
    """True when ``folder`` is empty or holds an output this tool wrote (its manifest says so)."""
    try:
        if not any(Path(folder).iterdir()):
            return True
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("tool") == "cleaner"


def check_output(out: Path) -> None:
    """Refuse an OUT that exists but is not a folder, or is a folder of something else.

    OUT is replaced as a whole, so pointing it at a file or at a folder of
    other work by mistake would delete them.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {out} exists and is not a folder: it would be replaced")
    if out.is_dir() and not is_previous_output(out):
        raise UsageError(f"output {out} is a folder that holds something other than "
                         "a previous output (no cleaner manifest.json): it would be replaced")


def check_layout(raw: Path, out: Path) -> None:
    """Refuse an output folder that is, or lies inside, the input, or contains it,
    and one that is not safe to replace (:func:`check_output`)."""
    raw_r, out_r = Path(raw).resolve(), Path(out).resolve()
    if out_r == raw_r or raw_r in out_r.parents:
        raise UsageError(f"output {out} is inside input {raw}: the input is never written to")
    if out_r in raw_r.parents:
        raise UsageError(f"input {raw} is inside output {out}: it would be replaced")
    check_output(out)


@contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a fresh folder that replaces ``out`` only if the block succeeds.

    - When the new folder holds exactly what ``out`` holds (the same names,
      the same bytes), ``out`` is left untouched, modification times
      included, so that ``make`` sees nothing to rebuild; the new folder is
      discarded. Otherwise each new file whose bytes equal the old file's
      takes the old file's modification time, so that targets built from an
      unchanged file are not rebuilt either.
    - Otherwise the two are swapped in one step where the system can
      (Linux: ``renameat2`` with ``RENAME_EXCHANGE``), so ``out`` is at every
      instant the previous complete output or the new one. Elsewhere ``out``
      is moved aside, then the new folder renamed into place: between those
      two renames ``out`` is absent, never partial.
    - Temporary folders that a killed run left beside ``out``
      (``.<name>.tmp-*``, ``.<name>.old-*``) are removed first, unless a live
      run still holds them (each is locked while in use).

    Refuses (:class:`UsageError`) an ``out`` that :func:`check_output` refuses.
    """
    out = Path(out)
    check_output(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    tmp, lock = _temp_dir(out, "tmp")
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; OUT is not
        yield tmp
        if not (out.is_dir() and keep_unchanged_times(tmp, out)):
            _swap_in(tmp, out)
    finally:
        # After a swap the previous output is here; after a failure, the partial new one.
        shutil.rmtree(tmp, ignore_errors=True)
        _unlock(lock)


def _swap_in(new: Path, out: Path) -> None:
    """Put the folder ``new`` in the place of ``out``; the previous ``out`` ends up at ``new``."""
    if not os.path.lexists(out):
        os.replace(new, out)
        return
    if exchange_dirs(new, out):
        return
    old, lock = _temp_dir(out, "old")
    try:
        os.replace(out, old / out.name)
        try:
            os.replace(new, out)
        except BaseException:  # put the previous complete output back
            os.replace(old / out.name, out)  # should this fail, old keeps the only copy
            shutil.rmtree(old, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        _unlock(lock)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange_dirs(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False (nothing done) where the system cannot.

    Uses Linux's ``renameat2(..., RENAME_EXCHANGE)`` (glibc 2.28 or later, on
    file systems that support it); anywhere else it returns False.
    Raises :class:`OSError` for any other failure.
    """
    rename = _renameat2()
    if rename is None:
        return False
    import ctypes
    if rename(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


@lru_cache(maxsize=1)
def _renameat2():
    """The C library's ``renameat2``, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _temp_name(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-"


def _temp_dir(out: Path, kind: str, attempts: int = 100) -> tuple[Path, int | None]:
    """A new folder ``.<name>.<kind>-XXXX`` beside ``out``, locked while this process holds it."""
    for _ in range(attempts):
        path = Path(tempfile.mkdtemp(prefix=_temp_name(out, kind), dir=out.parent))
        # Until it is locked, another run's cleanup (remove_leftovers) may take
        # it for a leftover: remove it before the lock, hold its lock, or
        # remove it after. Each time, this run makes another.
        try:
            lock = _lock(path)
        except (FileNotFoundError, BlockingIOError):
            continue
        if lock is None or _same_file(lock, path):
            return path, lock
        _unlock(lock)
    raise OSError(f"could not make a locked temporary folder beside {out.name}")


def _lock(path: Path, flags: int = 0) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``, or None where locks
    are not available. The lock ends when the descriptor is closed or the process dies.
    ``flags`` are added to the flags of :func:`os.open`."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the temporary folders and files a killed run left beside ``out``; return them.

    Only ``.<name>.tmp-*`` and ``.<name>.old-*`` entries whose lock is free
    are removed: a live run holds the lock of each of its own. Where the
    system has no file locks nothing is removed (the names are hidden and
    never taken for an output).
    """
    out = Path(out)
    if fcntl is None:
        return []
    prefixes = (_temp_name(out, "tmp"), _temp_name(out, "old"))
    removed = []
    try:
        entries = [e for e in os.scandir(out.parent) if e.name.startswith(prefixes)]
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        try:
            fd = _lock(path, getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # gone, or a live run's
            continue
        try:
            if not _same_file(fd, path):
                continue
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        finally:
            _unlock(fd)
    return removed


def same_tree(a: Path, b: Path) -> bool:
    """True when two folders hold the same names (files, folders, links) and the
    same bytes in every file. Sizes are compared before any content is read."""
    left, right = _listing(Path(a)), _listing(Path(b))
    if left != right:
        return False
    return all(_same_bytes(Path(a, rel), Path(b, rel))
               for rel, (kind, _) in left.items() if kind == "file")


def keep_unchanged_times(new: Path, old: Path) -> bool:
    """Give every file of ``new`` whose bytes equal the same file in ``old`` the
    old file's access and modification times; True when the two folders are
    the same tree (:func:`same_tree`), and then ``new`` is left as it was."""
    new, old = Path(new), Path(old)
    left, right = _listing(new), _listing(old)
    same = [rel for rel, entry in left.items()
            if entry[0] == "file" and right.get(rel) == entry
            and _same_bytes(new / rel, old / rel)]
    if left == right and len(same) == sum(1 for kind, _ in left.values() if kind == "file"):
        return True
    for rel in same:
        info = os.stat(old / rel, follow_symlinks=False)
        os.utime(new / rel, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)
    return False


def _entries(root: Path) -> Iterator[tuple[str, os.DirEntry]]:
    """Every entry under ``root`` (not following links), with its path relative to ``root``."""
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(root / rel) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(name)
                yield name, entry


def _listing(root: Path) -> dict[str, tuple[str, int | str]]:
    """Every entry under ``root``: relative path → (kind, size or link target)."""
    found: dict[str, tuple[str, int | str]] = {}
    for name, entry in _entries(root):
        if entry.is_symlink():
            found[name] = ("link", os.readlink(entry.path))
        elif entry.is_dir(follow_symlinks=False):
            found[name] = ("dir", 0)
        elif entry.is_file(follow_symlinks=False):
            found[name] = ("file", entry.stat(follow_symlinks=False).st_size)
        else:
            found[name] = ("other", 0)
    return found


def _same_bytes(a: Path, b: Path, chunk: int = 2**20) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            block = fa.read(chunk)
            if block != fb.read(chunk):
                return False
            if not block:
                return True


def output_snapshot(out: Path) -> dict[str, list[int]] | None:
    """Size, modification time and inode of every file under ``out``, or None when
    ``out`` is not a folder.

    Stored after a run, it tells the next run cheaply whether ``out`` is still
    exactly what that run wrote (nobody edited, removed or added a file).
    """
    out = Path(out)
    if not out.is_dir():
        return None
    snapshot = {}
    for name, entry in _entries(out):
        info = entry.stat(follow_symlinks=False)
        if entry.is_dir(follow_symlinks=False):
            snapshot[name + "/"] = [0, info.st_mtime_ns, info.st_ino]
        else:
            snapshot[name] = [info.st_size, info.st_mtime_ns, info.st_ino]
    return dict(sorted(snapshot.items()))


def dump_jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and a rename.

    The sibling, ``.<name>.tmp-XXXX``, is locked while it is written; ones
    that a killed run left behind are removed first (see :func:`remove_leftovers`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_name(path, "tmp"), dir=path.parent)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result is not
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.replace(tmp, path)  # while still locked: no cleanup can take it first
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
