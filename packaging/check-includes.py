#!/usr/bin/env python3
"""check-includes.py - no dependency circle between the project's modules.

A module is a file pair (name.c and name.h) under src/, win/ or
include/hnsnetpol/, with the files named name_PART.c / name_PART.h beside it
(a module's private parts: load_yaml.c, load_internal.h, policy_walk.c). Module A uses module B when a file of A includes B's
header. The layers themselves are checked by the build (each layer's library
sees only the headers of the layers below it); this checks the modules inside
and across layers: any circle is printed and fails the run. Run by
packaging/test.sh; exits 0 when there is none.
"""
import os
import re
import subprocess
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    files = subprocess.run(["git", "ls-files", "src", "win", "include"], cwd=top,
                           capture_output=True, text=True, check=True).stdout.split()
except (OSError, subprocess.CalledProcessError):
    files = [os.path.relpath(os.path.join(d, f), top)
             for base in ("src", "win", "include") for d, _, fs in os.walk(os.path.join(top, base))
             for f in fs]
files = [f for f in files if f.endswith((".c", ".h"))]


def plain_module(path):
    """src/kube/watch.c -> kube/watch; include/hnsnetpol/acl.h -> engine/acl."""
    d, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    if d == "include/hnsnetpol":
        d = "src/engine"
    return (os.path.relpath(d, "src") if d.startswith("src") else d) + "/" + stem


plain = {plain_module(f) for f in files}


def module(path):
    """A file's module: name_PART belongs to name when name is a module of the same folder."""
    m = plain_module(path)
    folder, stem = m.rsplit("/", 1)
    parts = stem.split("_")
    for i in range(len(parts) - 1, 0, -1):
        owner = folder + "/" + "_".join(parts[:i])
        if owner in plain:
            return owner
    return m


# Which module a header name means: "hnsnetpol/acl.h" or a layer's "watch.h".
by_header = {}
for f in files:
    if f.endswith(".h"):
        key = "hnsnetpol/" + os.path.basename(f) if f.startswith("include/") else os.path.basename(f)
        by_header.setdefault(key, []).append(module(f))

include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
uses = {}
for f in files:
    with open(os.path.join(top, f), encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    m = module(f)
    for inc in include_re.findall(text):
        for target in by_header.get(inc, []):
            if target != m:
                uses.setdefault(m, set()).add(target)

# Tarjan's strongly connected components: every component of more than one
# module is a circle.
index, low, stack, on_stack, circles = {}, {}, [], set(), []
counter = [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in sorted(uses.get(v, ())):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            circles.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in sorted(set(uses) | {t for ts in uses.values() for t in ts}):
    if v not in index:
        visit(v)

modules = {module(f) for f in files}
if circles:
    for comp in circles:
        edges = [f"{a} -> {b}" for a in comp for b in sorted(uses.get(a, ())) if b in comp]
        print("check-includes: modules that depend on each other: " + ", ".join(comp))
        for e in edges:
            print("    " + e)
    sys.exit(1)
print(f"check-includes: {len(modules)} modules, no dependency circle")
