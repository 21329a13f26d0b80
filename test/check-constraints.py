#!/usr/bin/env python3
"""Keeps the seq op spec, its verifiers and its invalid tests in step.

Every constraint id defined in dialects/seq/README.md (`**attention_c1**`)
must have a case in test/Dialect/Seq/invalid.mlir (a `// attention_c1` line
above it) and, unless the spec marks it *(ODS)*, a citation in a comment of
dialects/seq/IR/SeqOps.cpp; every id cited anywhere must be defined.
"""

import re
import sys
from pathlib import Path

ID = r"[a-z_0-9]+_c\d+"


def main(root: Path) -> int:
    spec = (root / "dialects/seq/README.md").read_text()
    verifier = (root / "dialects/seq/IR/SeqOps.cpp").read_text()
    invalid = (root / "test/Dialect/Seq/invalid.mlir").read_text()

    defined, ods_only = set(), set()
    for line in spec.splitlines():
        for cid in re.findall(rf"\*\*({ID})\*\*", line):
            defined.add(cid)
            if "*(ODS)*" in line:
                ods_only.add(cid)
    cited = {cid for comment in re.findall(r"//(.*)", verifier)
             for cid in re.findall(rf"\b{ID}\b", comment)}
    tested = set(re.findall(rf"^// ({ID})$", invalid, re.MULTILINE))

    errors = []
    errors += [f"{c}: no case in invalid.mlir" for c in sorted(defined - tested)]
    errors += [f"{c}: not cited by a verifier in SeqOps.cpp"
               for c in sorted(defined - ods_only - cited)]
    errors += [f"{c}: cited in SeqOps.cpp but not defined in the spec"
               for c in sorted(cited - defined)]
    errors += [f"{c}: tested in invalid.mlir but not defined in the spec"
               for c in sorted(tested - defined)]
    for e in errors:
        print(f"error: {e}")
    if errors:
        return 1
    print(f"{len(defined)} constraints: each defined, tested and enforced")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
