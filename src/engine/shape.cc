// Module limits on the IR, and freeing it, both with an explicit work list instead of
// recursion.
#include "engine/shape.h"

#include <utility>
#include <vector>

#include "engine/ir_walk.h"
#include "runtime/runtime.h"

namespace wasm_sandbox::engine {
namespace {

struct FunctionShape {
  uint64_t instructions = 0;
  uint32_t depth = 0;
  uint64_t br_table_targets = 0;
};

FunctionShape measure(const wabt::ExprList& body) {
  FunctionShape shape;
  std::vector<std::pair<const wabt::ExprList*, uint32_t>> work{{&body, 0}};
  while (!work.empty()) {
    const wabt::ExprList* list = work.back().first;
    const uint32_t depth = work.back().second;
    work.pop_back();
    if (depth > shape.depth) shape.depth = depth;
    for (const wabt::Expr& expr : *list) {
      ++shape.instructions;
      if (expr.type() == wabt::ExprType::BrTable) {
        const auto* table = wabt::cast<wabt::BrTableExpr>(&expr);
        if (table->targets.size() > shape.br_table_targets) {
          shape.br_table_targets = table->targets.size();
        }
      }
      for_each_child_list(const_cast<wabt::Expr&>(expr),
                          [&](wabt::ExprList& child) { work.emplace_back(&child, depth + 1); });
    }
  }
  return shape;
}

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

Status check_shape(const wabt::Module& ir, const Limits& limits, std::string_view name) {
  // "<before> <value> <after>, more than the limit of <limit> (Limits::<field>)"
  auto exceeded = [&](const std::string& before, uint64_t value, const char* after, uint64_t limit,
                      const char* field) {
    return Error(ErrorKind::LimitExceeded, std::string(name) + ": " + before + " " +
                                               std::to_string(value) + after +
                                               ", more than the limit of " + std::to_string(limit) +
                                               " (Limits::" + field + ")");
  };
  if (ir.funcs.size() > limits.functions) {
    return exceeded("the module has", ir.funcs.size(), " functions", limits.functions, "functions");
  }
  for (size_t index = ir.num_func_imports; index < ir.funcs.size(); ++index) {
    const wabt::Func& func = *ir.funcs[index];
    const std::string which = "function " + std::to_string(index);
    const uint64_t locals = func.GetNumParamsAndLocals();
    if (locals > limits.locals) {
      return exceeded(which + " has", locals, " locals", limits.locals, "locals");
    }
    const FunctionShape shape = measure(func.exprs);
    if (shape.depth > limits.nesting_depth) {
      return exceeded(which + " nests blocks", shape.depth, " deep", limits.nesting_depth,
                      "nesting_depth");
    }
    if (shape.instructions > limits.function_instructions) {
      return exceeded(which + " has", shape.instructions, " instructions",
                      limits.function_instructions, "function_instructions");
    }
    if (shape.br_table_targets > limits.br_table_targets) {
      return exceeded(which + " has a br_table of", shape.br_table_targets, " targets",
                      limits.br_table_targets, "br_table_targets");
    }
    // Generated code keeps every local and operand-stack slot in its own frame slot.
    const uint64_t frame = 16 * (locals + shape.instructions);
    constexpr uint64_t kGuarded = runtime::kGuestStackGuard / 2;
    if (frame > kGuarded) {
      return Error(ErrorKind::LimitExceeded,
                   std::string(name) + ": " + which + " could need " + mib(frame) +
                       " of stack for one call, more than the " + mib(kGuarded) +
                       " the stack guard covers (lower Limits::locals or "
                       "Limits::function_instructions)");
    }
  }
  return {};
}

void release_ir(std::unique_ptr<wabt::Module> ir) {
  if (!ir) return;
  // Move every nested list out of its parent before the parent dies, so that no destructor
  // finds anything nested below it.
  std::vector<wabt::ExprList> work;
  for (wabt::Func* func : ir->funcs) work.push_back(std::move(func->exprs));
  while (!work.empty()) {
    wabt::ExprList list = std::move(work.back());
    work.pop_back();
    for (wabt::Expr& expr : list) {
      for_each_child_list(expr, [&](wabt::ExprList& child) {
        if (!child.empty()) work.push_back(std::move(child));
      });
    }
  }
  ir.reset();
}

}  // namespace wasm_sandbox::engine
