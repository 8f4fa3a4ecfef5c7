"""The signature store: served rows are bit-identical to fresh ones, only misses
are signed, settings are part of the key, a damaged or half-written store is
rebuilt rather than trusted, and growth is bounded."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from cleaner import sigcache
from cleaner.dedup import DedupSettings, find_duplicates, paragraph_keys, paragraph_signatures
from cleaner.sigcache import STORE_DIR, SignatureStore, key_digests, row_checks, settings_folder

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a package at the project root
    sys.path.insert(0, str(ROOT))

from benchmarks import reposts  # noqa: E402

S = DedupSettings()


def han_keys(n: int, seed: int = 0, size: int = 60) -> list[str]:
    """Distinct keys of random CJK characters."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0x4E00, 0x9FA5, size=(n, size)).astype("<u4")
    return [row.tobytes().decode("utf-32-le") for row in codes]


class CountingSigner:
    """paragraph_signatures that records every key it is asked to sign."""

    def __init__(self, settings: DedupSettings = S):
        self.settings = settings
        self.calls: list[list[str]] = []

    def __call__(self, keys: list[str]) -> np.ndarray:
        self.calls.append(list(keys))
        return paragraph_signatures(keys, self.settings)

    @property
    def signed(self) -> list[str]:
        return [k for call in self.calls for k in call]


def session(root: Path, keys: list[str], settings: DedupSettings = S,
            **kw) -> tuple[np.ndarray, CountingSigner, SignatureStore]:
    """One run: the keys asked in batches, the store closed."""
    counter = CountingSigner(settings)
    with SignatureStore(root, settings, sign=counter, **kw) as store:
        parts = [store(keys[i:i + 7]) for i in range(0, len(keys), 7)]
    rows = np.concatenate(parts) if parts else np.empty((0, settings.num_perm), np.uint32)
    return rows, counter, store


def folder(root: Path, settings: DedupSettings = S) -> Path:
    return root / STORE_DIR / settings_folder(settings)


# ---------------------------------------------------------------------------
# Hits and misses
# ---------------------------------------------------------------------------

def test_a_warm_store_serves_bit_identical_rows_and_signs_nothing(tmp_path):
    keys = han_keys(40)
    fresh = paragraph_signatures(keys, S)
    cold, counter, store = session(tmp_path, keys)
    assert sorted(counter.signed) == sorted(keys) and store.stats["signed"] == 40
    warm, counter, store = session(tmp_path, keys)
    assert counter.signed == [] and store.stats["hits"] == 40
    for rows in (cold, warm):
        assert rows.dtype == fresh.dtype and rows.tobytes() == fresh.tobytes()


def test_only_the_misses_are_signed(tmp_path):
    old, new = han_keys(30, seed=1), han_keys(12, seed=2)
    session(tmp_path, old)
    mixed = [k for pair in zip(old, new) for k in pair] + old[12:]
    rows, counter, store = session(tmp_path, mixed)
    assert sorted(counter.signed) == sorted(new)
    assert (store.stats["hits"], store.stats["signed"]) == (len(old), len(new))
    assert rows.tobytes() == paragraph_signatures(mixed, S).tobytes()


def test_a_key_asked_twice_is_signed_once(tmp_path):
    keys = han_keys(3)
    counter = CountingSigner()
    with SignatureStore(tmp_path, S, sign=counter) as store:
        rows = store([keys[0], keys[1], keys[0], keys[2], keys[1]])
        again = store([keys[2], keys[0]])  # not yet on disk: served from memory
    assert counter.signed == keys
    assert rows.tobytes() == paragraph_signatures([keys[0], keys[1], keys[0], keys[2], keys[1]], S).tobytes()
    assert again.tobytes() == paragraph_signatures([keys[2], keys[0]], S).tobytes()


@pytest.mark.parametrize("other", [DedupSettings(shingle=4), DedupSettings(seed=2),
                                   DedupSettings(num_perm=64)])
def test_other_settings_are_a_miss(tmp_path, other):
    keys = han_keys(10)
    session(tmp_path, keys)
    rows, counter, _ = session(tmp_path, keys, other)
    assert sorted(counter.signed) == sorted(keys)
    assert rows.tobytes() == paragraph_signatures(keys, other).tobytes()
    assert folder(tmp_path, other) != folder(tmp_path) and folder(tmp_path).is_dir()
    _, counter, _ = session(tmp_path, keys)  # the first settings are still there
    assert counter.signed == []


def test_settings_that_do_not_change_signatures_share_the_store(tmp_path):
    keys = han_keys(5)
    session(tmp_path, keys)
    _, counter, _ = session(tmp_path, keys, DedupSettings(threshold=0.8, keep="first", min_chars=20))
    assert counter.signed == []


def test_find_duplicates_through_the_store_signs_only_new_paragraphs(tmp_path):
    corpus = reposts.build_corpus(seed=2, bases=10).speeches
    half = len(corpus) // 2
    expected = find_duplicates(corpus, S)
    counter = CountingSigner()
    with SignatureStore(tmp_path, S, sign=counter) as store:
        find_duplicates(corpus[:half], S, sign=store)
    first = set(counter.signed)
    counter = CountingSigner()
    with SignatureStore(tmp_path, S, sign=counter) as store:
        result = find_duplicates(corpus, S, sign=store)
    assert result == expected
    long_keys = {k for _, ps in corpus for k in paragraph_keys(list(ps)) if len(k) >= S.min_chars}
    assert set(counter.signed) == long_keys - first and counter.signed
    assert len(counter.signed) == len(set(counter.signed)) == store.stats["signed"]


def test_sign_must_return_one_row_per_key(tmp_path):
    with SignatureStore(tmp_path, S, sign=lambda keys: np.zeros((1, S.num_perm), np.uint32)) as store:
        with pytest.raises(ValueError, match="shape"):
            store(han_keys(2))


def test_digests_and_checks():
    keys = han_keys(4)
    d = key_digests(keys)
    assert d.dtype == np.uint64 and d.shape == (4, 2) and len({r.tobytes() for r in d}) == 4
    rows = paragraph_signatures(keys, S)
    checks = row_checks(rows, d)
    changed = rows.copy()
    changed[2, 100] ^= 1
    assert (row_checks(changed, d) != checks).tolist() == [False, False, True, False]
    assert (row_checks(rows[::-1], d) != checks).all()  # a row under another key fails


# ---------------------------------------------------------------------------
# Damage and interrupted runs
# ---------------------------------------------------------------------------

def shard_files(root: Path, part: str) -> list[Path]:
    return sorted(folder(root).glob(f"*.{part}.npy"))


def flip_bytes(path: Path, offset_from_end: int, count: int = 8) -> None:
    data = bytearray(path.read_bytes())
    for i in range(count):
        data[-offset_from_end + i] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_index(root: Path) -> None:
    (folder(root) / "index.json").write_text("{not json", encoding="utf-8")


def index_of_other_settings(root: Path) -> None:
    path = folder(root) / "index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    index["signature_id"] = DedupSettings(shingle=7).signature_id()
    path.write_text(json.dumps(index), encoding="utf-8")


def truncate_keys(root: Path) -> None:
    path = shard_files(root, "keys")[0]
    path.write_bytes(path.read_bytes()[:100])


def garbage_rows(root: Path) -> None:
    flip_bytes(shard_files(root, "sigs")[0], 4 * S.num_perm * 3, count=4 * S.num_perm * 2)


def delete_rows(root: Path) -> None:
    shard_files(root, "sigs")[0].unlink()


def unsort_keys(root: Path) -> None:
    path = shard_files(root, "keys")[0]
    keys = np.load(path)
    np.save(path, keys[::-1])


@pytest.mark.parametrize("damage", [damage_index, index_of_other_settings, truncate_keys,
                                    garbage_rows, delete_rows, unsort_keys])
def test_a_damaged_store_is_rebuilt_and_results_stay_identical(tmp_path, damage):
    keys = han_keys(30)
    fresh = paragraph_signatures(keys, S)
    session(tmp_path, keys)
    damage(tmp_path)
    rows, counter, store = session(tmp_path, keys)
    assert rows.tobytes() == fresh.tobytes()
    assert store.recovered and counter.signed  # noticed, and what was lost is signed again
    if damage is garbage_rows:  # only the damaged rows are re-signed
        assert 0 < len(counter.signed) < len(keys)
    # The next run finds a sound store holding everything.
    rows, counter, store = session(tmp_path, keys)
    assert rows.tobytes() == fresh.tobytes() and counter.signed == [] and store.recovered == []
    assert store.stats["shards"] == 1


def test_a_run_killed_while_writing_leaves_the_previous_store(tmp_path, monkeypatch):
    old, new = han_keys(20, seed=1), han_keys(20, seed=2)
    session(tmp_path, old)
    before = sorted(p.name for p in folder(tmp_path).iterdir())

    def killed(path, text):  # the process dies after the new shard, before the index
        raise KeyboardInterrupt

    monkeypatch.setattr(sigcache, "_write_text", killed)
    with pytest.raises(KeyboardInterrupt):
        session(tmp_path, old + new)
    monkeypatch.undo()
    assert len(shard_files(tmp_path, "sigs")) == 2  # the unlisted shard is left behind
    rows, counter, store = session(tmp_path, old + new)
    assert sorted(counter.signed) == sorted(new) and store.recovered == []
    assert rows.tobytes() == paragraph_signatures(old + new, S).tobytes()
    assert len(shard_files(tmp_path, "sigs")) == 2
    assert before != sorted(p.name for p in folder(tmp_path).iterdir())


def test_leftover_temporary_files_are_removed(tmp_path):
    session(tmp_path, han_keys(5))
    leftover = folder(tmp_path) / ".tmp-abc.npy"
    leftover.write_bytes(b"\x93NUMPY half")
    _, counter, _ = session(tmp_path, han_keys(5))
    assert not leftover.exists() and counter.signed == []


def test_an_unwritable_cache_does_not_fail_the_run(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    keys = han_keys(5)
    rows, counter, store = session(blocker, keys)
    assert rows.tobytes() == paragraph_signatures(keys, S).tobytes()
    assert store.write_errors and len(counter.signed) == 5


# ---------------------------------------------------------------------------
# Bounds and determinism
# ---------------------------------------------------------------------------

def test_shards_are_merged_beyond_the_limit(tmp_path):
    everything = []
    for run in range(sigcache.MAX_SHARDS + 2):
        keys = han_keys(6, seed=100 + run)
        everything += keys
        _, _, store = session(tmp_path, keys)
        assert store.stats["shards"] <= sigcache.MAX_SHARDS
    rows, counter, store = session(tmp_path, everything)
    assert counter.signed == [] and rows.tobytes() == paragraph_signatures(everything, S).tobytes()


def test_over_the_byte_bound_rows_this_run_did_not_use_go_first(tmp_path):
    row_bytes = S.num_perm * 4 + 24
    bound = 25 * row_bytes
    old, recent = han_keys(20, seed=1), han_keys(20, seed=2)
    session(tmp_path, old, max_bytes=bound)
    _, _, store = session(tmp_path, recent, max_bytes=bound)
    assert store.stats["stored"] <= 25
    _, counter, _ = session(tmp_path, recent, max_bytes=bound)
    assert counter.signed == []  # what the last run used is kept
    # A run that uses more than the bound keeps all it used.
    _, _, store = session(tmp_path, old + recent, max_bytes=bound)
    assert store.stats["stored"] == 40


def test_other_settings_folders_go_first_when_over_the_bound(tmp_path):
    other = DedupSettings(shingle=4)
    session(tmp_path, han_keys(20), other)
    keys = han_keys(20, seed=3)
    session(tmp_path, keys, max_bytes=30 * (S.num_perm * 4 + 24))
    assert not folder(tmp_path, other).exists() and folder(tmp_path).is_dir()
    (tmp_path / STORE_DIR / "notes").mkdir()  # not a settings folder: never touched
    session(tmp_path, keys, other, max_bytes=1)
    assert (tmp_path / STORE_DIR / "notes").is_dir()


def test_the_same_runs_write_the_same_files(tmp_path):
    def build(root):
        session(root, han_keys(10, seed=1))
        session(root, han_keys(10, seed=2))
        return {p.name: p.read_bytes() for p in sorted(folder(root).iterdir())}

    one, two = build(tmp_path / "a"), build(tmp_path / "b")
    assert one == two and len(one) == 5


def test_files_keep_the_permissions_of_new_files(tmp_path):
    session(tmp_path, han_keys(3))
    umask = os.umask(0)
    os.umask(umask)
    for path in folder(tmp_path).iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------
# Memory: new rows wait on disk, rows are read without a map
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("pos", [[5, 1, 1, 90, 3, 4, 2], [0], [], list(range(99, -1, -3)) * 2])
def test_rows_read_from_a_file_are_the_rows_asked_for(tmp_path, pos):
    rows = np.arange(100 * 6, dtype=np.uint32).reshape(100, 6) * np.uint32(2654435761)
    path = tmp_path / "rows.bin"
    path.write_bytes(b"head" + rows.tobytes())
    wanted = np.array(pos, dtype=np.int64)
    with open(path, "rb") as fh:
        got = sigcache._read_rows(fh.fileno(), 4, rows.dtype, 6, wanted)
        assert got.tobytes() == rows[wanted].tobytes()
        with pytest.raises(OSError):  # past the end: never garbage
            sigcache._read_rows(fh.fileno(), 4, rows.dtype, 6, np.array([3, 100]))


def test_new_rows_are_not_kept_in_memory(tmp_path):
    import tracemalloc

    keys = han_keys(600, size=30)
    row_bytes = S.num_perm * 4
    with SignatureStore(tmp_path, S) as store:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(0, len(keys), 50):
                store(keys[i:i + 50])
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert store.stats["signed"] == len(keys)
        # Digests, checks and the sorted index: about 60 bytes a row, not the 512 of the row.
        assert held < len(keys) * row_bytes / 4
    rows, counter, _ = session(tmp_path, keys)
    assert counter.signed == [] and rows.tobytes() == paragraph_signatures(keys, S).tobytes()


def test_rows_written_during_the_run_are_served_and_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(sigcache, "FLUSH_ROWS", 5)  # a shard every few keys
    monkeypatch.setattr(sigcache, "MAX_SHARDS", 3)
    keys = han_keys(60)
    counter = CountingSigner()
    with SignatureStore(tmp_path, S, sign=counter) as store:
        first = [store(keys[i:i + 4]) for i in range(0, 60, 4)]
        again = store(keys[::-1])  # from the shards written so far and the spill
    assert counter.signed == keys and store.stats["shards"] == 1  # 8 shards merged into one
    assert np.concatenate(first).tobytes() == paragraph_signatures(keys, S).tobytes()
    assert again.tobytes() == paragraph_signatures(keys[::-1], S).tobytes()
    rows, counter, _ = session(tmp_path, keys)
    assert counter.signed == [] and rows.tobytes() == paragraph_signatures(keys, S).tobytes()


def test_a_shard_removed_while_open_is_a_miss(tmp_path):
    keys = han_keys(20)
    session(tmp_path, keys)
    counter = CountingSigner()
    with SignatureStore(tmp_path, S, sign=counter) as store:
        shard_files(tmp_path, "sigs")[0].unlink()  # another run pruned it
        rows = store(keys)
    assert rows.tobytes() == paragraph_signatures(keys, S).tobytes()
    assert sorted(counter.signed) == sorted(keys) and store.recovered
    _, counter, store = session(tmp_path, keys)
    assert counter.signed == [] and store.recovered == []


def test_new_rows_that_cannot_be_set_aside_do_not_fail_the_run(tmp_path, monkeypatch):
    def full(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sigcache.tempfile, "TemporaryFile", full)
    keys = han_keys(12)
    rows, counter, store = session(tmp_path, keys)
    assert rows.tobytes() == paragraph_signatures(keys, S).tobytes()
    assert len(store.write_errors) == 1 and store.stats["stored"] == 0
    monkeypatch.undo()
    _, counter, _ = session(tmp_path, keys)
    assert sorted(counter.signed) == sorted(keys)  # signed again, then kept


def test_rows_read_the_same_without_pread(tmp_path, monkeypatch):
    import cleaner.sigcache as sc
    rows = np.arange(40, dtype=np.uint32).reshape(10, 4)
    path = tmp_path / "rows.bin"
    path.write_bytes(b"head" + rows.tobytes())
    pos = np.array([7, 1, 1, 9, 0])
    with open(path, "rb", buffering=0) as fh:
        native = sc._read_rows(fh.fileno(), 4, rows.dtype, 4, pos)
        monkeypatch.setattr(sc, "_pread", sc._pread_fallback)
        fallback = sc._read_rows(fh.fileno(), 4, rows.dtype, 4, pos)
    assert (native == rows[pos]).all() and (fallback == rows[pos]).all()
