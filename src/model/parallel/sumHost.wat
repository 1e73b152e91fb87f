;; The in-order sum of the data-parallel threads' gradients (./sum-host.ts; the JS loop it replaces is
;; ./shards.ts sumInOrder) as a WebAssembly SIMD module on the shared memory that holds every thread's
;; gradient buffer: out[i] = out[i] + part[i], one float32 addition per element, as the JS loop rounds
;; it (a double sum of two float32 values rounded to float32 is their float32 sum), so the same digits.
;; Four elements at a time (v128 loads need no alignment), then the tail one at a time; each call also
;; returns the sum of squares of what it wrote, for the gradient norm (each square exact in float64),
;; and "squares" sums them for a range that nothing is added to (one thread). Assembled by
;; `npm run build:wasm` (scripts/build-wasm.ts) into ./sumHost.wasm-bytes.ts;
;; tests/model/parallel/sum-host.test.ts checks the bytes against this text and the sums against the
;; JS loop's.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; out, part: byte offsets; n: elements. Returns the sum of squares of the new out[0, n) (as
  ;; "squares" below sums them), so that the last part added gives the range's share of the gradient
  ;; norm with no second pass over memory.
  (func (export "addInto") (param $out i32) (param $part i32) (param $n i32) (result f64)
    (local $k i32) (local $quads i32) (local $end i32)
    (local $lo v128) (local $hi v128) (local $x v128) (local $v v128) (local $total f64) (local $s f32)
    (local $d f64)
    ;; k runs over byte offsets: quads up to 16 * floor(n / 4), then single floats up to 4 n.
    (local.set $quads (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $k) (local.get $quads)))
        (local.set $v
          (f32x4.add
            (v128.load (i32.add (local.get $out) (local.get $k)))
            (v128.load (i32.add (local.get $part) (local.get $k)))))
        (v128.store (i32.add (local.get $out) (local.get $k)) (local.get $v))
        (local.set $x (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $x) (local.get $x))))
        (local.set $x (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $x) (local.get $x))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $quad)))
    (local.set $total
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo)))
        (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $s
          (f32.add
            (f32.load (i32.add (local.get $out) (local.get $k)))
            (f32.load (i32.add (local.get $part) (local.get $k)))))
        (f32.store (i32.add (local.get $out) (local.get $k)) (local.get $s))
        (local.set $d (f64.promote_f32 (local.get $s)))
        (local.set $total (f64.add (local.get $total) (f64.mul (local.get $d) (local.get $d))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail)))
    (local.get $total))

  ;; The sum of squares of n floats at byte offset p, in float64: element i of each quad into lane i
  ;; (lanes 0, 1 in $lo, lanes 2, 3 in $hi), then (l0 + l1) + (l2 + l3), then the tail in order.
  (func (export "squares") (param $p i32) (param $n i32) (result f64)
    (local $k i32) (local $quads i32) (local $end i32)
    (local $lo v128) (local $hi v128) (local $x v128) (local $v v128) (local $total f64) (local $s f64)
    (local.set $quads (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $k) (local.get $quads)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $k))))
        (local.set $x (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $x) (local.get $x))))
        (local.set $x (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $x) (local.get $x))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $quad)))
    (local.set $total
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo)))
        (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $s (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $k)))))
        (local.set $total (f64.add (local.get $total) (f64.mul (local.get $s) (local.get $s))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail)))
    (local.get $total))
)
