;; Instantiation that traps: the start function writes one table slot, then traps; an
;; active data segment would not fit either.
(module
  (import "env" "table" (table 1 funcref))
  (memory 1)
  (func $f)
  (func $start
    (table.set 0 (i32.const 0) (ref.func $f))
    (drop (i32.load (i32.const 70000))))
  (elem declare func $f)
  (start $start)
  (data (i32.const 65530) "does not fit"))
