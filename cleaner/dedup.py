"""Flag near-duplicate paragraphs across speeches with MinHash.

The flow reads top to bottom as named phases:

1. ``paragraph_key``: a hashing view of each paragraph (width folded, lower
   case, punctuation and whitespace removed); the stored text is not changed.
2. ``shingles``: character n-grams of that key (Chinese has no spaces to
   split words on).
3. signatures: datasketch ``MinHash`` over the shingles.
4. candidates: datasketch ``MinHashLSH`` at a threshold below the verification
   one, so that pairs just above it are not missed by chance.
5. verify: exact Jaccard of the shingle sets, so no LSH false positive is
   reported as a duplicate.
6. clusters: connected components of verified pairs from different speeches;
   the earliest member (corpus order) is kept as the original.

Paragraphs shorter than ``min_chars`` (``同志们：``, ``谢谢大家！``) are not
signed: they repeat everywhere without being copies.
"""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

import datasketch
from datasketch import MinHash, MinHashLSH


@dataclass(frozen=True)
class DedupSettings:
    min_chars: int = 50
    shingle: int = 5
    num_perm: int = 128
    threshold: float = 0.7
    seed: int = 1
    # LSH looks for candidates below the verification threshold: a pair just
    # above ``threshold`` is then found almost surely, and exact Jaccard keeps
    # the precision.
    lsh_threshold: float = 0.5

    def describe(self) -> dict:
        return {**asdict(self), "hash": "datasketch sha1_hash32",
                "datasketch": datasketch.__version__}


@dataclass(frozen=True)
class Member:
    doc: str
    para: int
    text: str
    original: bool
    jaccard: float  # exact Jaccard similarity to the cluster's original


@dataclass(frozen=True)
class Cluster:
    cluster: int
    members: tuple[Member, ...]

    @property
    def min_jaccard(self) -> float:
        return min(m.jaccard for m in self.members if not m.original)


def paragraph_key(text: str) -> str:
    """The view of a paragraph that hashing sees: letters and digits only.

    >>> paragraph_key("同志们：今天，我们召开２０２３年会议！")
    '同志们今天我们召开2023年会议'
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def shingles(key: str, k: int) -> frozenset[str]:
    """Character k-grams of a key; a key shorter than k is its own shingle.

    >>> sorted(shingles("教育工作会", 3))
    ['工作会', '教育工', '育工作']
    """
    if len(key) <= k:
        return frozenset([key]) if key else frozenset()
    return frozenset(key[i:i + k] for i in range(len(key) - k + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    """Exact Jaccard similarity of two sets.

    >>> jaccard(frozenset("abc"), frozenset("bcd"))
    0.5
    """
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _signature(items: frozenset[str], settings: DedupSettings) -> MinHash:
    mh = MinHash(num_perm=settings.num_perm, seed=settings.seed)
    mh.update_batch([s.encode("utf-8") for s in items])  # min() ignores order
    return mh


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def find_duplicates(
    speeches: list[tuple[str, list[str]]], settings: DedupSettings = DedupSettings()
) -> tuple[list[Cluster], dict]:
    """Cluster near-duplicate paragraphs across speeches.

    ``speeches`` is a list of (speech id, paragraphs) in corpus order. Returns
    the clusters (ordered by their original's position) and counters.

    >>> a = "今天我们召开全县教育工作会议，主要任务是总结去年工作，安排部署今年的教育重点工作，动员全县上下团结一心、奋发进取、再创佳绩。"
    >>> b = a.replace("团结一心", "团结一致")
    >>> clusters, _ = find_duplicates([("x#1", [a]), ("y#1", [b])])
    >>> [(m.doc, m.original) for m in clusters[0].members]
    [('x#1', True), ('y#1', False)]
    """
    refs: list[tuple[int, int]] = []  # (speech index, paragraph index)
    sets: list[frozenset[str]] = []
    short = 0
    lsh = MinHashLSH(threshold=min(settings.lsh_threshold, settings.threshold),
                     num_perm=settings.num_perm)
    signatures = []
    for s_index, (_, paragraphs) in enumerate(speeches):
        for p_index, text in enumerate(paragraphs):
            key = paragraph_key(text)
            if len(key) < settings.min_chars:
                short += 1
                continue
            items = shingles(key, settings.shingle)
            refs.append((s_index, p_index))
            sets.append(items)
            signatures.append(_signature(items, settings))
    for k, sig in enumerate(signatures):
        lsh.insert(k, sig, check_duplication=False)
    uf = _UnionFind()
    candidates = verified = 0
    for k, sig in enumerate(signatures):
        for other in lsh.query(sig):
            if other <= k or refs[other][0] == refs[k][0]:
                continue  # each pair once; copies inside one speech are not cross-speech
            candidates += 1
            if jaccard(sets[k], sets[other]) >= settings.threshold:
                verified += 1
                uf.union(k, other)
    groups: dict[int, list[int]] = {}
    for k in uf.parent:
        groups.setdefault(uf.find(k), []).append(k)
    clusters = []
    for root in sorted(groups):
        ks = sorted(groups[root])
        if len({refs[k][0] for k in ks}) < 2:
            continue
        original = ks[0]
        members = tuple(
            Member(
                doc=speeches[refs[k][0]][0],
                para=refs[k][1],
                text=speeches[refs[k][0]][1][refs[k][1]],
                original=k == original,
                jaccard=round(jaccard(sets[k], sets[original]), 4),
            )
            for k in ks
        )
        clusters.append(Cluster(len(clusters) + 1, members))
    stats = {
        "paragraphs": sum(len(p) for _, p in speeches),
        "signed": len(refs),
        "short": short,
        "candidate_pairs": candidates,
        "verified_pairs": verified,
        "clusters": len(clusters),
        "duplicate_paragraphs": sum(len(c.members) - 1 for c in clusters),
    }
    return clusters, stats
