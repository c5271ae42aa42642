#!/usr/bin/env python3
"""Builds the fuzz corpora from real files: `python3 fuzz/seeds/build.py` (from the repository root).

Writes fuzz/corpus/<target>/ (not committed; cargo fuzz's default corpus folder) from:
- ingest: docs/examples/*.jsonl and tests/walkthrough/community.jsonl (whole, and cut into pieces);
- settings: plugin/presets/*.toml and tests/walkthrough/settings.toml (whole, and cut into pieces);
- stackexchange: slices of Cardano's dump (../shared/data/stackexchange/cardano.stackexchange.com): the first
  posts, the votes on them and the users who wrote them, in the input format of tests/fuzz/src/stackexchange.rs
  (flags, cut, Posts, separator, Votes, separator, Users), as plain, .xz, .gz and truncated files;
- effects, differential, web: structured targets (`arbitrary`): seeded with a few fixed byte strings.
The Stack Exchange seeds and corpus hold rows of Cardano Stack Exchange's dump: user-contributed content from
https://cardano.stackexchange.com, licensed by its authors under CC BY-SA 4.0
(https://creativecommons.org/licenses/by-sa/4.0/); the posts keep their ids, so each row names its source.
Also (re)writes the small committed seeds in fuzz/seeds/<target>/ that `cargo test --workspace --test regressions` runs.
"""
import lzma, os, random, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DUMP = os.path.join(os.path.dirname(ROOT), "shared", "data", "stackexchange", "cardano.stackexchange.com")
SEP = b"\n<!--cadre-fuzz-next-file-->\n"


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def corpus(target):
    return os.path.join(ROOT, "fuzz", "corpus", target)


def seeds(target):
    return os.path.join(ROOT, "fuzz", "seeds", target)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def pieces(data, size):
    lines = data.splitlines(keepends=True)
    return [b"".join(lines[i:i + size]) for i in range(0, len(lines), size)]


def text_targets():
    jsonl = ["docs/examples/advocacy.jsonl", "docs/examples/insiders.jsonl", "docs/examples/legends.jsonl",
             "tests/walkthrough/community.jsonl"]
    for path in jsonl:
        data = read(path)
        name = os.path.basename(path)
        write(corpus("ingest"), name, data)
        for i, piece in enumerate(pieces(data, 5)):
            write(corpus("ingest"), f"{name}.{i}", piece)
    write(seeds("ingest"), "walkthrough.jsonl", read("tests/walkthrough/community.jsonl"))
    write(seeds("ingest"), "insiders.jsonl", read("docs/examples/insiders.jsonl"))
    presets = [f"plugin/presets/{p}.toml" for p in ("stackexchange", "legends", "insiders", "advocacy")]
    for path in presets + ["tests/walkthrough/settings.toml"]:
        data = read(path)
        name = os.path.basename(path)
        write(corpus("settings"), name, data)
        for i, piece in enumerate(pieces(data, 8)):
            write(corpus("settings"), f"{name}.{i}", piece)
    write(seeds("settings"), "walkthrough.toml", read("tests/walkthrough/settings.toml"))
    write(seeds("settings"), "legends.toml", read("plugin/presets/legends.toml"))


def rows(name):
    with lzma.open(os.path.join(DUMP, name + ".xml.xz")) as f:
        return f.read().splitlines(keepends=True)


def stackexchange():
    if not os.path.isdir(DUMP):
        print(f"no dump at {DUMP}: stackexchange corpus skipped", file=sys.stderr)
        return
    posts, votes, users = rows("Posts"), rows("Votes"), rows("Users")
    head = lambda lines: lines[:2]
    tail = lambda lines: lines[-1:]
    post_id = re.compile(rb' Id="(-?\d+)"')
    owner = re.compile(rb' OwnerUserId="(-?\d+)"')
    vote_post = re.compile(rb' PostId="(-?\d+)"')
    for n, start in [(5, 2), (20, 2), (40, 500), (80, 3000)]:
        chosen = posts[start:start + n]
        ids = {post_id.search(r).group(1) for r in chosen if post_id.search(r)}
        owners = {owner.search(r).group(1) for r in chosen if owner.search(r)}
        p = b"".join(head(posts) + chosen + tail(posts))
        v = b"".join(head(votes) + [r for r in votes[2:-1] if (m := vote_post.search(r)) and m.group(1) in ids] + tail(votes))
        u = b"".join(head(users) + [r for r in users[2:-1] if (m := post_id.search(r)) and m.group(1) in owners][:n] + tail(users))
        for flags, cut, label in [(0x00, 0, "plain"), (0x15, 0, "xz"), (0x2A, 0, "gz"), (0x55, 128, "xz-cut"),
                                  (0x6A, 200, "gz-cut")]:
            data = bytes([flags, cut]) + p + SEP + v + SEP + u
            write(corpus("stackexchange"), f"cardano-{n}-{start}-{label}", data)
            if n == 5 and label in ("plain", "xz-cut"):
                write(seeds("stackexchange"), f"cardano-{n}-{label}", data)
        raw = bytes([0x03, 0]) + lzma.compress(p)[:200] + SEP + v + SEP + u
        write(corpus("stackexchange"), f"cardano-{n}-{start}-raw-xz", raw)


def structured():
    rng = random.Random(17)
    for target in ("effects", "differential", "web"):
        for i in range(16):
            write(corpus(target), f"random-{i}", bytes(rng.randrange(256) for _ in range(rng.choice([16, 64, 256, 1024]))))
        for i in range(2):
            write(seeds(target), f"random-{i}", bytes(rng.randrange(256) for _ in range(256)))


text_targets()
stackexchange()
structured()
