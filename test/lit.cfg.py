# -*- Python -*-
# lit configuration of seqc's regression tests.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "SEQC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.seqc_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py", "unit"]

config.substitutions.append(("%seqc_src_root", config.seqc_src_root))
config.substitutions.append(("%python", config.python_executable))

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [os.path.join(config.seqc_obj_root, "bin"), config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["seqc-opt", "seqc", "seqc-run"], tool_dirs)

# The CUDA toolkit's ptxas and fatbinary (compile-only GPU checks: kernels
# are assembled for sm_80 and sm_90a). CI's image has the toolkit; the tests
# that need it fail, rather than skip, when it is missing.
for cuda_bin in [os.environ.get("CUDA_HOME", ""), "/usr/local/cuda"]:
    if cuda_bin and os.path.exists(os.path.join(cuda_bin, "bin", "ptxas")):
        llvm_config.with_environment("PATH", os.path.join(cuda_bin, "bin"),
                                     append_path=True)
        break
