func.func @f(%x: tensor<2x6xf32>, %p: tensor<6xi32>) -> tensor<2x6xf32> {
  %y = seq.rope %x, %p : tensor<2x6xf32>, tensor<6xi32> -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}
