"""Batch signatures are datasketch's, bit for bit, and the token hash is sound."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

import cleaner.minhash as minhash_module
from cleaner.dedup import paragraph_key, shingles
from cleaner.minhash import (
    encode_token,
    lean_minhash,
    minhash,
    shingle_hashes,
    signatures,
    token_hash,
)

RAW = Path(__file__).resolve().parents[1] / "raw"

# (shingle, num_perm, seed, scheme): the pipeline's settings first.
SETTINGS = [
    (3, 128, 1, "affine32"),
    (5, 128, 1, "affine32"),
    (3, 16, 7, "affine32"),
    (1, 8, 42, "affine32"),
    (4, 16, 1, "affine64"),
    (5, 16, 2, "legacy"),
]

# Letters from the planes and scripts a scraped page holds; a small alphabet
# makes repeated shingles likely.
CHARS = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),  # ASCII
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # CJK Ext. B (astral)
    st.characters(),  # anything but surrogates
)
KEYS = st.lists(
    st.one_of(st.text(CHARS, max_size=40), st.text(st.sampled_from("教育a𠀀"), max_size=30)),
    max_size=8,
)


def seed_lines() -> list[str]:
    """Lines of at least 50 characters of the seed files."""
    return [line for path in sorted(RAW.glob("*.txt"))
            for line in path.read_text(encoding="utf-8").splitlines() if len(line) >= 50]


def ordered_shingles(key: str, k: int) -> list[str]:
    """The shingles of ``cleaner.dedup.shingles``, in order, repeats kept."""
    if len(key) < k:
        return [key] if key else []
    return [key[i:i + k] for i in range(len(key) - k + 1)]


def reference(keys: list[str], k: int, num_perm: int, seed: int, scheme: str,
              batch: bool = False) -> np.ndarray:
    """datasketch's own MinHash of each key, updated one shingle at a time
    (or with ``update_batch``, which is faster for long keys)."""
    rows = []
    for key in keys:
        mh = MinHash(num_perm=num_perm, seed=seed, hashfunc=token_hash, scheme=scheme)
        tokens = [encode_token(item) for item in shingles(key, k)]
        if batch:
            mh.update_batch(tokens)
        else:
            for token in tokens:
                mh.update(token)
        rows.append(mh.hashvalues)
    dtype = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).hashvalues.dtype
    return np.array(rows, dtype=dtype).reshape(len(keys), num_perm)


def assert_same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


@pytest.mark.parametrize(("k", "num_perm", "seed", "scheme"), SETTINGS)
@settings(max_examples=60, deadline=None)
@given(keys=KEYS)
def test_batch_signatures_are_datasketch_bit_for_bit(keys, k, num_perm, seed, scheme):
    assert_same(signatures(keys, k, num_perm, seed, scheme), reference(keys, k, num_perm, seed, scheme))


@settings(max_examples=100, deadline=None)
@given(keys=KEYS, k=st.integers(1, 7))
def test_vector_hashes_are_the_token_hash_of_each_shingle(keys, k):
    hashes, counts = shingle_hashes(keys, k)
    each = [ordered_shingles(key, k) for key in keys]
    assert hashes.tolist() == [token_hash(encode_token(s)) for items in each for s in items]
    assert counts.tolist() == [len(items) for items in each]
    assert [set(items) for items in each] == [shingles(key, k) for key in keys]


@settings(max_examples=60, deadline=None)
@given(keys=KEYS, block=st.integers(1, 50))
def test_block_size_does_not_change_signatures(keys, block):
    assert_same(signatures(keys, 3, 16, block=block), signatures(keys, 3, 16))


def test_block_and_group_sizes_do_not_change_signatures_of_long_paragraphs(monkeypatch):
    keys = [paragraph_key(line) for line in seed_lines()[:60]] + ["", "教育"]
    whole = signatures(keys)
    for block in (1, 7, 199, 200, 201, 4096):
        assert_same(signatures(keys, block=block), whole)
    for chars in (1, 150, 1000):
        monkeypatch.setattr(minhash_module, "GROUP_CHARS", chars)
        assert_same(signatures(keys, block=300), whole)


def test_seed_paragraphs_match_datasketch():
    lines = seed_lines()
    assert len(lines) > 100
    keys = [paragraph_key(line) for line in lines]
    assert_same(signatures(keys), reference(keys, 5, 128, 1, "affine32", batch=True))
    # The dedup defaults (3-character shingles).
    assert_same(signatures(keys, 3), reference(keys, 3, 128, 1, "affine32", batch=True))
    # Raw lines too (punctuation, spaces and all), and the legacy scheme.
    assert_same(signatures(lines[::4]), reference(lines[::4], 5, 128, 1, "affine32", batch=True))
    assert_same(signatures(keys[::4], scheme="legacy"), reference(keys[::4], 5, 128, 1, "legacy", batch=True))


def test_update_batch_gives_the_same_as_update():
    """The property test uses update(), the seed test update_batch(): they agree."""
    keys = [paragraph_key(line) for line in seed_lines()[:5]]
    assert_same(reference(keys, 5, 128, 1, "affine32", batch=True), reference(keys, 5, 128, 1, "affine32"))


def test_lsh_finds_the_same_candidates_with_our_signatures():
    lines = seed_lines()[:150]
    edited = [line.replace("的", "之", 1) + "另加一句" for line in lines[::3]]
    keys = [paragraph_key(line) for line in lines + edited]
    ours, theirs = MinHashLSH(threshold=0.5, num_perm=128), MinHashLSH(threshold=0.5, num_perm=128)
    rows = signatures(keys)
    reference_objects = []
    for i, key in enumerate(keys):
        mh = MinHash(num_perm=128, seed=1, hashfunc=token_hash)
        mh.update_batch([encode_token(s) for s in shingles(key, 5)])
        reference_objects.append(mh)
        theirs.insert(i, mh)
        ours.insert(i, lean_minhash(rows[i]))
    found = 0
    for i, row in enumerate(rows):
        expected = sorted(theirs.query(reference_objects[i]))
        assert sorted(ours.query(lean_minhash(row))) == expected
        assert sorted(ours.query(minhash(row))) == expected
        found += len(expected) > 1
    assert found >= len(edited)  # the edited copies are found, so the check means something


def test_minhash_from_a_row_keeps_updating_like_datasketch():
    key = "今天我们召开全县教育工作会议主要任务是总结去年工作"
    head, tail = key[:20], key[16:]
    mh = minhash(signatures([head])[0])
    for item in shingles(tail, 5):
        mh.update(encode_token(item))
    assert_same(mh.hashvalues, signatures([key])[0])


def test_token_must_be_utf32():
    with pytest.raises(ValueError):
        token_hash(b"abc")
    with pytest.raises(ValueError):
        signatures(["abc"], shingle=0)


def seed_shingles() -> list[str]:
    """Distinct 5-shingles of the seed text, plus as many random CJK ones."""
    text = "".join(paragraph_key(line) for line in seed_lines())
    real = {text[i:i + 5] for i in range(len(text) - 4)}
    rng = np.random.default_rng(0)
    codes = rng.integers(0x4E00, 0xA000, size=(len(real), 5))
    made = {"".join(map(chr, row)) for row in codes}
    return sorted(real | made)


def test_distinct_shingles_rarely_collide():
    items = seed_shingles()
    n = len(items)
    hashes, _ = shingle_hashes(items, 5)
    collisions = n - len(np.unique(hashes))
    expected = n * (n - 1) / 2 / 2**32  # an ideal 32-bit hash (birthday bound)
    assert n > 100_000
    assert collisions <= expected + 6 * expected**0.5 + 3


def test_hash_bits_are_balanced_and_avalanche():
    items = seed_shingles()[:50_000]
    hashes, _ = shingle_hashes(items, 5)
    bits = (hashes[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 0.01)
    # Changing one code point flips each output bit with probability 1/2.
    changed = [s[:2] + chr(ord(s[2]) ^ 1) + s[3:] for s in items]
    flipped, _ = shingle_hashes(changed, 5)
    diff = hashes ^ flipped
    per_bit = ((diff[:, None] >> np.arange(32, dtype=np.uint32)) & 1).mean(axis=0)
    assert np.all(np.abs(per_bit - 0.5) < 0.02)


def test_lone_surrogates_are_hashed_like_any_code_point():
    keys = ["ab\ud800cdef", "\udfff", "\ud800\udc00xyz"]  # the last is two code points, not one
    assert_same(signatures(keys, 3, 16), reference(keys, 3, 16, 1, "affine32"))
