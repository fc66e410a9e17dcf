;; Int8 dot products for dense search, with WebAssembly SIMD.
;; dots(q, base, n, dim, out): for each of n rows of `dim` int8 values starting
;; at `base`, writes the int32 dot product with the int8 query at `q` to out[row].
;; `dim` is a multiple of 16 (rows are zero-padded).
(module
  (memory (export "memory") 1)
  (func (export "dots") (param $q i32) (param $base i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $row i32) (local $j i32) (local $p i32) (local $acc v128) (local $a v128) (local $b v128)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $row) (local.get $n)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (local.set $p (i32.add (local.get $base) (i32.mul (local.get $row) (local.get $dim))))
        (block $row_done
          (loop $cols
            (br_if $row_done (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $a (v128.load (i32.add (local.get $q) (local.get $j))))
            (local.set $b (v128.load (i32.add (local.get $p) (local.get $j))))
            (local.set $acc
              (i32x4.add (local.get $acc)
                (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))))
            (local.set $acc
              (i32x4.add (local.get $acc)
                (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (i32.store
          (i32.add (local.get $out) (i32.shl (local.get $row) (i32.const 2)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows)))))
