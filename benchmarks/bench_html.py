"""report.html: what highlighting costs, and what lining up clauses saves.

Two comparisons, each against a baseline timed in the same run:

- the page for a generated result (clusters of near-duplicate paragraphs of
  about 200 characters, 2% of the characters edited, some copies with
  half-width commas), against the same page without highlighting;
- the character diff of paragraphs of 2,000 characters through
  ``diff_segments`` (clauses lined up first) against one SequenceMatcher
  over all the characters.

``python -m benchmarks html`` from the project root; ``--clusters`` and
``--members`` make the page bigger.
"""
from __future__ import annotations

import argparse
import random

from cleaner.dedup import Cluster, DedupResult, DedupSettings, Member
from cleaner.html_report import PageLimits, SpeechInfo, _char_segments, diff_segments, render_html

from .timing import best_of_each

HAN = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定"
       "行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些"
       "然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月")


def paragraph(rng: random.Random, length: int) -> str:
    out: list[str] = []
    while len(out) < length:
        out += rng.choices(HAN, k=rng.randint(6, 20)) + [rng.choice("，，，。；、")]
    return "".join(out[:length])


def edited(rng: random.Random, text: str, share: float = 0.02) -> str:
    chars = list(text)
    for _ in range(max(1, int(len(chars) * share))):
        i = rng.randrange(len(chars))
        r = rng.random()
        if r < 0.6:
            chars[i] = rng.choice(HAN)
        elif r < 0.8:
            chars.insert(i, rng.choice(HAN))
        else:
            del chars[i]
    out = "".join(chars)
    return out.replace("，", ",") if rng.random() < 0.3 else out


def generated(clusters: int, members: int, length: int, seed: int = 0) -> DedupResult:
    rng = random.Random(seed)
    found = []
    for c in range(clusters):
        original = paragraph(rng, length)
        found.append(Cluster(c + 1, (
            Member(f"site{c}/page#1", 3, original, True, 1.0),
            *(Member(f"site{c}/copy{k}#1", 3, edited(rng, original), False, 0.9)
              for k in range(1, members)))))
    ids = tuple(m.doc for c in found for m in c.members)
    return DedupResult(DedupSettings(), tuple(found), (), (), {}, ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_html",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=300)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    result = generated(args.clusters, args.members, 200)
    infos = {sid: SpeechInfo(sid.split("#")[0] + ".txt", "标题", "docs/" + sid + ".txt")
             for sid in result.speech_ids}
    timed = best_of_each({
        "page without highlighting (baseline)": lambda: render_html(result, infos, PageLimits(diff_chars=1)),
        "page with highlighting": lambda: render_html(result, infos),
    }, args.repeats)
    (plain, _), (full, page) = timed.values()
    members = args.clusters * args.members
    print(f"page: {args.clusters} clusters x {args.members} members of 200 characters, "
          f"{len(page.encode()) / 1e6:.1f} MB")
    print(f"  without highlighting (baseline) {plain:.2f} s")
    print(f"  with highlighting               {full:.2f} s  "
          f"({full / plain:.1f}x the baseline, {1e3 * (full - plain) / members:.3f} ms per member)")

    rng = random.Random(1)
    pairs = []
    for _ in range(20):
        original = paragraph(rng, 2000)
        pairs.append((original, edited(rng, original)))
    timed = best_of_each({
        "SequenceMatcher on all characters (baseline)": lambda: [_char_segments(a, b) for a, b in pairs],
        "diff_segments": lambda: [diff_segments(a, b) for a, b in pairs],
    }, args.repeats)
    (whole, _), (lined, _) = timed.values()
    print(f"diff of {len(pairs)} pairs of 2,000-character paragraphs:")
    print(f"  one SequenceMatcher (baseline)  {1e3 * whole / len(pairs):.2f} ms a pair")
    print(f"  clauses lined up first          {1e3 * lined / len(pairs):.2f} ms a pair  "
          f"({whole / lined:.1f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
