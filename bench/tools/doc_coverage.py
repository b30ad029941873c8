#!/usr/bin/env python3
"""Doc-comment coverage of the public API (issue 12): per target under Sources/, the number of `public`/`open`
declarations and how many have no `///` (or `/** */`) comment directly above them (attributes such as
`@inlinable` / `@differentiable` between comment and declaration are allowed, and a run of stored properties or
cases directly under one comment — `/// θ̂ and τ̂` over two `public var` lines — counts as documented). `--list` prints each undocumented
declaration as path:line. Exit status 0 always (a report, not a gate).
usage: python3 bench/tools/doc_coverage.py [--list] [SOURCES_DIR]"""
import os, re, sys

DECL = re.compile(r"^\s*(?:@[\w().:, ]+\s+)*(?:public|open)\s+(?:(?:static|final|override|mutating|nonmutating|"
                  r"convenience|required|indirect|lazy|weak|class|nonisolated|@\w+)\s+)*"
                  r"(func|var|let|init|struct|enum|class|protocol|typealias|subscript|case|actor|extension)\b")

# A one-line stored property or case: the member of a group that shares the comment above the group.
GROUP = re.compile(r"^\s*(?:public|open)\s+(?:(?:static|private\(set\)|internal\(set\))\s+)*(?:var|let|case)\b[^{]*$")

def scan(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    total, missing = 0, []
    for i, line in enumerate(lines):
        m = DECL.match(line)
        if not m or m.group(1) == "extension":   # an extension is not a declaration of its own
            continue
        total += 1
        j = i - 1
        while j >= 0 and (re.match(r"^\s*@\w", lines[j])   # attributes on their own lines
                          or (m.group(1) in ("var", "let", "case") and GROUP.match(lines[j]))):
            j -= 1
        prev = lines[j].strip() if j >= 0 else ""
        if not (prev.startswith("///") or prev.endswith("*/")):
            missing.append(i + 1)
    return total, missing

def main():
    args = sys.argv[1:]
    listing = "--list" in args
    args = [a for a in args if a != "--list"]
    root = args[0] if args else "Sources"
    rows, all_t, all_m = [], 0, 0
    for target in sorted(os.listdir(root)):
        d = os.path.join(root, target)
        if not os.path.isdir(d):
            continue
        t = 0; miss = []
        for dp, _, fs in os.walk(d):
            for f in sorted(fs):
                if f.endswith(".swift"):
                    p = os.path.join(dp, f); n, m = scan(p); t += n; miss += [f"{p}:{x}" for x in m]
        if t == 0:
            continue
        rows.append((target, t, len(miss), miss)); all_t += t; all_m += len(miss)
    print(f"{'target':18s} {'public':>7s} {'no ///':>7s} {'covered':>8s}")
    for target, t, m, _ in rows:
        print(f"{target:18s} {t:7d} {m:7d} {100 * (t - m) / t:7.1f}%")
    print(f"{'all':18s} {all_t:7d} {all_m:7d} {100 * (all_t - all_m) / all_t:7.1f}%")
    if listing:
        for _, _, _, miss in rows:
            for x in miss: print(x)

if __name__ == "__main__":
    main()
