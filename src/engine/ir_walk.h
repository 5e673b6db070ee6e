// Walking wabt's expression tree without recursion, for passes that must cope with any
// nesting depth (shape.cc) or that run before wasm2c (instrument.cc).
#pragma once

#include <vector>

#include "wabt/cast.h"
#include "wabt/ir.h"

namespace wasm_sandbox::engine {

// Calls fn(ExprList&) on each expression list directly inside `expr`: a block's or loop's
// body, an if's two arms, a try's body and handlers.
template <class Fn>
void for_each_child_list(wabt::Expr& expr, Fn&& fn) {
  switch (expr.type()) {
    case wabt::ExprType::Block:
      fn(wabt::cast<wabt::BlockExpr>(&expr)->block.exprs);
      break;
    case wabt::ExprType::Loop:
      fn(wabt::cast<wabt::LoopExpr>(&expr)->block.exprs);
      break;
    case wabt::ExprType::If: {
      auto* e = wabt::cast<wabt::IfExpr>(&expr);
      fn(e->true_.exprs);
      fn(e->false_);
      break;
    }
    case wabt::ExprType::Try: {
      auto* e = wabt::cast<wabt::TryExpr>(&expr);
      fn(e->block.exprs);
      for (wabt::Catch& c : e->catches) fn(c.exprs);
      break;
    }
    default:
      break;
  }
}

// Calls fn(Expr&) on every expression of `list` and of the lists nested in it, in no
// particular order.
template <class Fn>
void for_each_expr(wabt::ExprList& list, Fn&& fn) {
  std::vector<wabt::ExprList*> work{&list};
  while (!work.empty()) {
    wabt::ExprList* current = work.back();
    work.pop_back();
    for (wabt::Expr& expr : *current) {
      fn(expr);
      for_each_child_list(expr, [&](wabt::ExprList& child) { work.push_back(&child); });
    }
  }
}

}  // namespace wasm_sandbox::engine
