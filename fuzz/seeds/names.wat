;; Names everywhere, for the name section (assembled with --debug-names), and exports whose
;; names are not C identifiers.
(module $named
  (func $the_function (export "a-b c") (param $first i32) (result i32)
    (local $second i32)
    (local.set $second (local.get $first))
    (local.get $second))
  (func (export "") (result i32) (i32.const 0))
  (func (export "\00\u{1F600}") (result i32) (i32.const 1))
  (global $the_global (export "g.g") i32 (i32.const 3))
  (memory $the_memory (export "mem mem") 0 0))
