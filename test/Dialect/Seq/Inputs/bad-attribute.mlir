func.func @f(%a: tensor<4x8xf32>) {
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = "one"} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}
