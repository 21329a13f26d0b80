#!/usr/bin/env python3
"""What the GPU kernels of an MLIR file become: PTX, ptxas's register and
spill report, and the SASS instruction mix.

    scripts/sass-report.py FILE.mlir [--chip sm_90a] [--options "k=v ..."]
                           [--out DIR] [--seqc-opt PATH]
    scripts/sass-report.py --cubin FILE.cubin ...   (SASS counts only)

Runs `seqc-opt --seqc-cuda-pipeline="chip=... format=isa ..."`, takes the PTX
out of each gpu.binary, assembles it with `ptxas -v`, disassembles the cubin
with `cuobjdump -sass`, and prints per kernel: registers, spill stores and
loads, stack bytes, shared memory, and the count of each instruction class
that matters for the seqc kernels (HMMA/HGMMA tensor-core ops, LDSM ldmatrix,
LDGSTS cp.async, MUFU.EX2, LDL/STL local memory, BAR). With --out, the PTX,
cubin and SASS stay in DIR. With --cubin (where cuobjdump is but seqc-opt
is not, e.g. the GPU machine), only the SASS counts of existing cubins.
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ["HGMMA", "HMMA", "LDSM", "LDGSTS", "MUFU.EX2", "LDL", "STL", "BAR",
           "SHFL", "LDG", "STG", "LDS", "STS", "FFMA", "FMUL"]


def find_tool(name, required=True):
    path = shutil.which(name) or os.path.join("/usr/local/cuda/bin", name)
    if os.path.exists(path):
        return path
    if required:
        sys.exit(f"sass-report: {name} not found (the CUDA toolkit's bin "
                 "directory on PATH)")
    return None


def ptx_sources(mlir_text):
    """The PTX string of each gpu.binary's object (MLIR string escapes)."""
    out = []
    for m in re.finditer(r'assembly = "((?:[^"\\]|\\.)*)"', mlir_text):
        raw = m.group(1)
        text = re.sub(r"\\([0-9A-Fa-f]{2})",
                      lambda h: chr(int(h.group(1), 16)), raw)
        text = text.replace('\\"', '"').replace("\\\\", "\\")
        out.append(text)
    return out


def sass_counts(sass):
    """Per function in cuobjdump -sass output: instruction class counts."""
    counts = collections.defaultdict(collections.Counter)
    current = None
    for line in sass.splitlines():
        m = re.search(r"Function : (\S+)", line)
        if m:
            current = m.group(1)
            continue
        m = re.search(r"/\*[0-9a-f]{4}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)",
                      line)
        if m and current:
            op = m.group(1)
            for cls in CLASSES:
                if op == cls or op.startswith(cls + "."):
                    counts[current][cls] += 1
                    break
    return counts


def mix(counter):
    return " ".join(f"{c}={counter[c]}" for c in CLASSES if counter[c])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?")
    ap.add_argument("--cubin", nargs="+", help="disassemble these cubins only")
    ap.add_argument("--chip", default="sm_90a")
    ap.add_argument("--options", default="")
    ap.add_argument("--out")
    ap.add_argument("--seqc-opt",
                    default=os.path.join(ROOT, "build", "bin", "seqc-opt"))
    args = ap.parse_args()
    if args.cubin:
        cuobjdump = find_tool("cuobjdump")
        for cubin in args.cubin:
            sass = subprocess.run([cuobjdump, "-sass", cubin],
                                  capture_output=True, text=True,
                                  check=True).stdout
            for fn, counter in sorted(sass_counts(sass).items()):
                print(f"{cubin}: {fn}: {mix(counter)}")
        return
    if not args.file:
        ap.error("an MLIR file (or --cubin) is needed")
    ptxas = find_tool("ptxas")
    cuobjdump = find_tool("cuobjdump", required=False)
    if not cuobjdump:
        print("sass-report: no cuobjdump here: registers and spills only "
              "(run with --out and disassemble the cubin where one is)")
    pipeline = f"chip={args.chip} format=isa {args.options}".strip()
    lowered = subprocess.run(
        [args.seqc_opt, args.file, f"--seqc-cuda-pipeline={pipeline}"],
        capture_output=True, text=True)
    if lowered.returncode != 0:
        sys.exit(f"sass-report: seqc-opt failed:\n{lowered.stderr}")
    sources = ptx_sources(lowered.stdout)
    if not sources:
        sys.exit("sass-report: no gpu.binary with PTX in the output")
    out_dir = args.out or tempfile.mkdtemp(prefix="seqc-sass-")
    os.makedirs(out_dir, exist_ok=True)
    for i, ptx in enumerate(sources):
        base = os.path.join(out_dir, f"module{i}")
        with open(base + ".ptx", "w") as f:
            f.write(ptx)
        asm = subprocess.run(
            [ptxas, "-v", f"-arch={args.chip}", base + ".ptx", "-o",
             base + ".cubin"], capture_output=True, text=True)
        if asm.returncode != 0:
            sys.exit(f"sass-report: ptxas failed:\n{asm.stderr}")
        sass = ""
        if cuobjdump:
            sass = subprocess.run([cuobjdump, "-sass", base + ".cubin"],
                                  capture_output=True, text=True,
                                  check=True).stdout
            with open(base + ".sass", "w") as f:
                f.write(sass)
        # ptxas -v: per function, "Compiling entry function 'NAME'", then
        # "N bytes stack frame, N bytes spill stores, N bytes spill loads"
        # and "Used N registers, ... N bytes smem".
        report = {}
        name = None
        for line in asm.stderr.splitlines():
            m = re.search(r"Compiling entry function '([^']+)'", line)
            if m:
                name = m.group(1)
                report[name] = {}
                continue
            if name is None:
                continue
            m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                          r"(\d+) bytes spill loads", line)
            if m:
                report[name].update(stack=int(m.group(1)),
                                    spill_st=int(m.group(2)),
                                    spill_ld=int(m.group(3)))
            m = re.search(r"Used (\d+) registers", line)
            if m:
                report[name]["regs"] = int(m.group(1))
                s = re.search(r"(\d+) bytes smem", line)
                report[name]["smem"] = int(s.group(1)) if s else 0
        counts = sass_counts(sass)
        for fn in sorted(set(report) | set(counts)):
            r = report.get(fn, {})
            print(f"{fn}: regs={r.get('regs', '?')} stack={r.get('stack', '?')} "
                  f"spill_st={r.get('spill_st', '?')} "
                  f"spill_ld={r.get('spill_ld', '?')} | {mix(counts[fn])}")
    if args.out:
        print(f"PTX, cubin and SASS in {out_dir}")
    else:
        shutil.rmtree(out_dir)


if __name__ == "__main__":
    main()
