// RUN: seqc-opt %s --verify-diagnostics --seqc-check-contract=stage=llvm

// At the end of the CPU pipeline only the llvm dialect may remain.
llvm.func @ok() {
  llvm.return
}
// expected-error @+1 {{'func.func' op survived lowering to llvm (seqc-check-contract)}}
func.func @not_lowered() {
  // expected-error @+1 {{'func.return' op survived lowering to llvm (seqc-check-contract)}}
  return
}
