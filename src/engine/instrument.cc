// The instrumentation pass: see instrument.h for what it adds and why.
#include "engine/instrument.h"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/ir_walk.h"

namespace wasm_sandbox::engine {
namespace {

using wabt::Expr;
using wabt::ExprList;
using wabt::ExprType;
using wabt::Index;
using wabt::Var;

template <class T, class... Args>
std::unique_ptr<Expr> make(Args&&... args) {
  return std::make_unique<T>(std::forward<Args>(args)...);
}

Var index_var(Index index) { return Var(index, wabt::Location()); }

// Renumbers references to defined functions after an import was inserted before them.
void shift_function_references(wabt::Module& ir, Index first_defined) {
  auto shift = [first_defined](Var& var) {
    if (var.is_index() && var.index() >= first_defined) var.set_index(var.index() + 1);
  };
  auto shift_exprs = [&](ExprList& list) {
    for_each_expr(list, [&](Expr& expr) {
      switch (expr.type()) {
        case ExprType::Call:
          shift(wabt::cast<wabt::CallExpr>(&expr)->var);
          break;
        case ExprType::ReturnCall:
          shift(wabt::cast<wabt::ReturnCallExpr>(&expr)->var);
          break;
        case ExprType::RefFunc:
          shift(wabt::cast<wabt::RefFuncExpr>(&expr)->var);
          break;
        default:
          break;
      }
    });
  };
  for (wabt::Func* func : ir.funcs) shift_exprs(func->exprs);
  for (wabt::Global* global : ir.globals) shift_exprs(global->init_expr);
  for (wabt::ElemSegment* segment : ir.elem_segments) {
    for (ExprList& list : segment->elem_exprs) shift_exprs(list);
  }
  for (wabt::Export* exp : ir.exports) {
    if (exp->kind == wabt::ExternalKind::Func) shift(exp->var);
  }
  for (Var* start : ir.starts) shift(*start);
}

Index void_type_index(wabt::Module& ir) {
  for (Index i = 0; i < ir.types.size(); ++i) {
    auto* type = wabt::dyn_cast<wabt::FuncType>(ir.types[i]);
    if (type && type->sig.param_types.empty() && type->sig.result_types.empty()) return i;
  }
  auto field = std::make_unique<wabt::TypeModuleField>();
  field->type = std::make_unique<wabt::FuncType>();
  ir.AppendField(std::move(field));
  return static_cast<Index>(ir.types.size() - 1);
}

// Adds the import ws.trap () -> () after the last function import; returns its index.
Index add_trap_import(wabt::Module& ir) {
  const Index type_index = void_type_index(ir);
  auto import = std::make_unique<wabt::FuncImport>();
  import->module_name = "ws";
  import->field_name = "trap";
  import->func.decl.has_func_type = true;
  import->func.decl.type_var = index_var(type_index);
  const Index index = ir.num_func_imports;
  shift_function_references(ir, index);
  ir.funcs.insert(ir.funcs.begin() + index, &import->func);
  ir.imports.push_back(import.get());
  ++ir.num_func_imports;
  ir.fields.push_back(std::make_unique<wabt::ImportModuleField>(std::move(import)));
  return index;
}

Index add_global(wabt::Module& ir, wabt::Type type, const char* export_name) {
  auto field = std::make_unique<wabt::GlobalModuleField>();
  field->global.type = type;
  field->global.mutable_ = true;
  field->global.init_expr.push_back(
      make<wabt::ConstExpr>(type == wabt::Type::I64 ? wabt::Const::I64(0) : wabt::Const::I32(0)));
  ir.AppendField(std::move(field));
  const Index index = static_cast<Index>(ir.globals.size() - 1);
  auto exp = std::make_unique<wabt::ExportModuleField>();
  exp->export_.name = export_name;
  exp->export_.kind = wabt::ExternalKind::Global;
  exp->export_.var = index_var(index);
  ir.AppendField(std::move(exp));
  return index;
}

// What the charging needs to know of a block, if or try: whether a loop is inside (then its
// body is charged on its own), and otherwise the instructions on its longest path.
struct Summary {
  bool has_loop = false;
  uint64_t cost = 0;
};

// Charges and checks fuel (and the flag, if there is one) in one function at a time.
class Instrumenter {
 public:
  // REQUIRES: what.fuel.
  Instrumenter(const Instrumentation& what, Index fuel, Index flag, Index trap)
      : what_(what), fuel_(fuel), flag_(flag), trap_(trap) {}

  void function(wabt::Func& func) {
    summaries_.clear();
    summarize(func.exprs);
    // Only a function that calls can recurse; in any other, every unbounded run passes a
    // loop header, which has its own check. Leaf functions go unchecked at entry.
    bool calls = false;
    for_each_expr(func.exprs, [&](Expr& expr) {
      const ExprType type = expr.type();
      calls |= type == ExprType::Call || type == ExprType::CallIndirect ||
               type == ExprType::CallRef || type == ExprType::ReturnCall ||
               type == ExprType::ReturnCallIndirect;
    });
    list(func.exprs, /*check=*/calls);
  }

 private:
  // Fills summaries_ for every construct in `exprs`; returns the list's own summary.
  Summary summarize(ExprList& exprs) {
    Summary total;
    for (Expr& expr : exprs) {
      Summary own{expr.type() == ExprType::Loop, 1};
      uint64_t longest_arm = 0;
      const bool alternatives = expr.type() == ExprType::If;
      bool first = true;
      for_each_child_list(expr, [&](ExprList& child) {
        const Summary inner = summarize(child);
        own.has_loop |= inner.has_loop;
        // An if takes one arm; a try runs its body, then at most one handler: counting the
        // body as an "arm" too over-approximates the latter, which is fine.
        if (alternatives || !first) {
          longest_arm = std::max(longest_arm, inner.cost);
        } else {
          own.cost += inner.cost;
        }
        first = false;
      });
      own.cost += longest_arm;
      if (expr.type() == ExprType::Block || expr.type() == ExprType::Loop ||
          expr.type() == ExprType::If || expr.type() == ExprType::Try) {
        summaries_[&expr] = own;
      }
      total.has_loop |= own.has_loop;
      total.cost += own.has_loop ? 1 : own.cost;
    }
    return total;
  }

  // Instruments one list: a charge at its start and after each construct with a loop inside
  // (constructs without one are charged, as their longest path, with the code around them),
  // and a check first if `check`.
  void list(ExprList& exprs, bool check) {
    std::vector<std::pair<ExprList::iterator, uint64_t>> segments;
    auto start = exprs.begin();
    uint64_t count = 0;
    for (auto it = exprs.begin(); it != exprs.end(); ++it) {
      auto summary = summaries_.find(&*it);
      if (summary == summaries_.end()) {
        ++count;
        continue;
      }
      if (!summary->second.has_loop) {
        count += summary->second.cost;
        continue;
      }
      ++count;
      const ExprType type = it->type();
      for_each_child_list(*it, [&](ExprList& child) { list(child, type == ExprType::Loop); });
      segments.emplace_back(start, count);
      start = std::next(it);
      count = 0;
    }
    if (count != 0) segments.emplace_back(start, count);
    // Insert at the front last, so the order is: first charge, check, first segment.
    for (size_t i = check ? 1 : 0; i < segments.size(); ++i) {
      insert_charge(exprs, segments[i].first, segments[i].second);
    }
    if (check) insert_check(exprs, exprs.begin());
    if (check && !segments.empty()) {
      insert_charge(exprs, exprs.begin(), segments[0].second);
    }
  }

  // fuel -= n
  void insert_charge(ExprList& exprs, ExprList::iterator at, uint64_t n) {
    exprs.insert(at, make<wabt::GlobalGetExpr>(index_var(fuel_)));
    exprs.insert(at, make<wabt::ConstExpr>(wabt::Const::I64(n)));
    exprs.insert(at, make<wabt::BinaryExpr>(wabt::Opcode::I64Sub));
    exprs.insert(at, make<wabt::GlobalSetExpr>(index_var(fuel_)));
  }

  // if ((fuel < 0) [| flag]) ws.trap()
  void insert_check(ExprList& exprs, ExprList::iterator at) {
    exprs.insert(at, make<wabt::GlobalGetExpr>(index_var(fuel_)));
    exprs.insert(at, make<wabt::ConstExpr>(wabt::Const::I64(0)));
    exprs.insert(at, make<wabt::CompareExpr>(wabt::Opcode::I64LtS));
    if (what_.interrupts) {
      exprs.insert(at, make<wabt::GlobalGetExpr>(index_var(flag_)));
      exprs.insert(at, make<wabt::BinaryExpr>(wabt::Opcode::I32Or));
    }
    auto branch = std::make_unique<wabt::IfExpr>();
    branch->true_.exprs.push_back(make<wabt::CallExpr>(index_var(trap_)));
    exprs.insert(at, std::move(branch));
  }

  Instrumentation what_;
  Index fuel_;
  Index flag_;
  Index trap_;
  std::unordered_map<const Expr*, Summary> summaries_;
};

}  // namespace

InstrumentedExports instrument(wabt::Module& ir, const Instrumentation& what) {
  InstrumentedExports out;
  if (!ir.starts.empty()) {
    auto exp = std::make_unique<wabt::ExportModuleField>();
    exp->export_.name = "wsstart";
    exp->export_.kind = wabt::ExternalKind::Func;
    exp->export_.var = *ir.starts.front();
    ir.AppendField(std::move(exp));
    ir.starts.clear();
    out.start = true;
  }
  if (!what.any()) return out;
  const Index fuel = what.fuel ? add_global(ir, wabt::Type::I64, "wsfuel") : 0;
  const Index flag = what.interrupts ? add_global(ir, wabt::Type::I32, "wsflag") : 0;
  out.fuel = what.fuel;
  out.flag = what.interrupts;
  // Interrupts alone need only the flag: no check, no import, the functions untouched.
  if (!what.fuel) return out;
  const Index trap = add_trap_import(ir);
  out.trap_import = true;
  Instrumenter instrumenter(what, fuel, flag, trap);
  for (Index i = ir.num_func_imports; i < ir.funcs.size(); ++i) {
    instrumenter.function(*ir.funcs[i]);
  }
  return out;
}

}  // namespace wasm_sandbox::engine
