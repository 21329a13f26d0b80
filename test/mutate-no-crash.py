#!/usr/bin/env python3
"""Runs `seqc-opt --canonicalize` on mutants of valid IR and fails on a crash.

Each mutant drops one line, or replaces one integer literal (a size, a dim,
a window entry) with an edge value. A mutant may be valid or invalid; what it
must never do is end the process with a signal or an LLVM crash report.
"""

import re
import subprocess
import sys

EDGE_VALUES = ["0", "1", "-1", "3", "-2", "9223372036854775807"]


def mutants(text):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("//"):
            yield "\n".join(lines[:i] + lines[i + 1:])
    for match in re.finditer(r"(?<![%#\w.])\d+(?![\w.])", text):
        for value in EDGE_VALUES:
            if value != match.group(0):
                yield text[:match.start()] + value + text[match.end():]


def main(opt, files):
    count = 0
    for path in files:
        with open(path) as f:
            chunks = f.read().split("// -----")
        for chunk in chunks:
            for mutant in mutants(chunk):
                count += 1
                proc = subprocess.run([opt, "--canonicalize", "-"],
                                      input=mutant.encode(),
                                      capture_output=True)
                err = proc.stderr.decode(errors="replace")
                if proc.returncode < 0 or "Stack dump" in err or \
                        "PLEASE submit a bug report" in err:
                    print(f"crash (exit {proc.returncode}) on mutant of "
                          f"{path}:\n{mutant}\n{err}")
                    return 1
    print(f"{count} mutants, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
